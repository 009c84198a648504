import { Command } from 'commander';
import type { ApiKeyRecord } from '../tenancy/tenancy-records';
import { apiPath } from './admin-client';
import { adminClient, adminCommand, printAnswer, type AdminOptions, type Environment } from './admin-options';
import { formatRecord, formatTable } from './text-table';

type PublicKey = Omit<ApiKeyRecord, 'secret_sha256'>;

interface CreateOptions extends AdminOptions {
  readonly scopes: string;
  readonly expiresAt?: string;
}

const COLUMNS = ['key_id', 'scopes', 'created_at', 'expires_at', 'revoked_at'];

/** `triage keys create|list|revoke`: a tenant's API keys through the admin API. */
export function keysCommand(env: Environment): Command {
  const keys = new Command('keys').description('Create, list and revoke a tenant\'s API keys (admin API on the HTTP port).');
  keys.addCommand(adminCommand('create', 'Create an API key; its secret is printed this once.')
    .argument('<tenant>', 'tenant id')
    .requiredOption('--scopes <list>', 'comma-separated scopes: infer, jobs, read, admin')
    .option('--expires-at <time>', 'ISO 8601 time after which the key is refused (default: never)')
    .action(async (tenant: string, options: CreateOptions) => {
      const scopes = options.scopes.split(',').map((scope) => scope.trim()).filter((scope) => scope !== '');
      const created = await adminClient(options, env).json<PublicKey & { key: string }>('POST', apiPath('tenants', tenant, 'keys'), {
        scopes,
        ...(options.expiresAt === undefined ? {} : { expires_at: options.expiresAt }),
      });
      const { key, ...record } = created;
      printAnswer(options, created, () => `${formatRecord(record)}\n\nkey: ${key}\nThis is the only time the key is shown: store it now (triage keeps only its hash).`);
    }));
  keys.addCommand(adminCommand('list', 'List a tenant\'s keys (never their secrets).')
    .argument('<tenant>', 'tenant id')
    .action(async (tenant: string, options: AdminOptions) => {
      const answer = await adminClient(options, env).json<{ keys: PublicKey[] }>('GET', apiPath('tenants', tenant, 'keys'));
      printAnswer(options, answer, () => (answer.keys.length === 0 ? 'no keys' : formatTable(COLUMNS, answer.keys)));
    }));
  keys.addCommand(adminCommand('revoke', 'Revoke a key: refused everywhere within a second.')
    .argument('<tenant>', 'tenant id')
    .argument('<key_id>', 'key id (the part after trg_ in the key)')
    .action(async (tenant: string, keyId: string, options: AdminOptions) => {
      const revoked = await adminClient(options, env).json<PublicKey>('DELETE', apiPath('tenants', tenant, 'keys', keyId));
      printAnswer(options, revoked, () => formatRecord(revoked));
    }));
  return keys;
}
