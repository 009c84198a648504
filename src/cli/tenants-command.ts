import { Command } from 'commander';
import type { TenantRecord } from '../tenancy/tenancy-records';
import { apiPath } from './admin-client';
import { adminClient, adminCommand, printAnswer, type AdminOptions, type Environment } from './admin-options';
import { parseLabels } from './label-arguments';
import { formatRecord, formatTable } from './text-table';

interface CreateOptions extends AdminOptions {
  readonly label: readonly string[];
}

const COLUMNS = ['id', 'name', 'status', 'labels', 'created_at'];

/** `triage tenants create|list|get|suspend|resume`: tenants through the admin API. */
export function tenantsCommand(env: Environment): Command {
  const tenants = new Command('tenants').description('Create, list, suspend and resume tenants (admin API on the HTTP port).');
  tenants.addCommand(adminCommand('create', 'Create a tenant.')
    .argument('<name>', 'unique name: 1 to 64 letters, digits, space, _ . -')
    .option('--label <key=value>', 'a label (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(async (name: string, options: CreateOptions) => {
      const tenant = await adminClient(options, env).json<TenantRecord>('POST', apiPath('tenants'), { name, labels: parseLabels(options.label) });
      printAnswer(options, tenant, () => formatRecord(tenant));
    }));
  tenants.addCommand(adminCommand('list', 'List tenants (with a tenant\'s read key: its own).')
    .action(async (options: AdminOptions) => {
      const answer = await adminClient(options, env).json<{ tenants: TenantRecord[] }>('GET', apiPath('tenants'));
      printAnswer(options, answer, () => (answer.tenants.length === 0 ? 'no tenants' : formatTable(COLUMNS, answer.tenants)));
    }));
  tenants.addCommand(adminCommand('get', 'Show a tenant.')
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, options: AdminOptions) => {
      const tenant = await adminClient(options, env).json<TenantRecord>('GET', apiPath('tenants', id));
      printAnswer(options, tenant, () => formatRecord(tenant));
    }));
  const setStatus = (name: string, status: 'suspended' | 'active', description: string): Command => adminCommand(name, description)
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, options: AdminOptions) => {
      const tenant = await adminClient(options, env).json<TenantRecord>('PATCH', apiPath('tenants', id), { status });
      printAnswer(options, tenant, () => formatRecord(tenant));
    });
  tenants.addCommand(setStatus('suspend', 'suspended', 'Suspend a tenant: every key of it is refused (403) until it is resumed.'));
  tenants.addCommand(setStatus('resume', 'active', 'Resume a suspended tenant.'));
  return tenants;
}
