import { Command } from 'commander';
import { AdminClient } from './admin-client';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface AdminOptions {
  readonly url?: string;
  readonly apiKey?: string;
  readonly json?: boolean;
}

export const DEFAULT_ADMIN_URL = 'http://localhost:8000';

/**
 * A subcommand of the admin API's CLI (`triage tenants create`, ...) with the options
 * they all share: --url, --api-key and --json.
 */
export function adminCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option('--url <url>', `triage's HTTP address [env TRIAGE_URL; default ${DEFAULT_ADMIN_URL}]`)
    .option('--api-key <key>', 'API key (admin scope; read scope for its own tenant) [env TRIAGE_API_KEY]')
    .option('--json', 'print JSON (the default when stdout is not a terminal)');
}

/** The client of the command's --url and --api-key, else TRIAGE_URL and TRIAGE_API_KEY. */
export function adminClient(options: AdminOptions, env: Environment): AdminClient {
  return new AdminClient({
    url: options.url ?? nonEmpty(env['TRIAGE_URL']) ?? DEFAULT_ADMIN_URL,
    apiKey: options.apiKey ?? env['TRIAGE_API_KEY'] ?? '',
  });
}

/**
 * Prints an answer: a human rendering on a terminal, else (or with --json) the JSON
 * exactly as the server sent it, so scripts can pipe it to jq.
 */
export function printAnswer(options: AdminOptions, value: unknown, human: () => string): void {
  const asJson = options.json === true || process.stdout.isTTY !== true;
  process.stdout.write(`${asJson ? JSON.stringify(value, null, 2) : human()}\n`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
