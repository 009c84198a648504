import type { Command } from 'commander';
import type { UsageRow } from '../tenancy/usage-meter';
import { adminClient, adminCommand, printAnswer, type AdminOptions, type Environment } from './admin-options';
import { formatTable } from './text-table';

interface UsageOptions extends AdminOptions {
  readonly from?: string;
  readonly to?: string;
  readonly tenant?: string;
  readonly model?: string;
  readonly csv?: boolean;
}

const COLUMNS = ['tenant_id', 'model', 'day', 'requests', 'inferences', 'bytes_in', 'bytes_out', 'errors', 'latency_ms'];

/** `triage usage`: usage per tenant, model and day, or the billing CSV. */
export function usageCommand(env: Environment): Command {
  return adminCommand('usage', 'Show usage per tenant, model and day (an admin key: every tenant; a tenant\'s read key: its own).')
    .option('--from <YYYY-MM-DD>', 'first day (UTC), inclusive (default: the first day of --to\'s month)')
    .option('--to <YYYY-MM-DD>', 'last day (UTC), inclusive (default: today)')
    .option('--tenant <id>', 'only this tenant')
    .option('--model <name>', 'only this model')
    .option('--csv', 'print the billing CSV export (header row; one row per tenant, model and day)')
    .action(async (options: UsageOptions) => {
      const query = new URLSearchParams();
      for (const name of ['from', 'to', 'tenant', 'model'] as const) {
        const value = options[name];
        if (value !== undefined) query.set(name, value);
      }
      const client = adminClient(options, env);
      if (options.csv === true) {
        query.set('format', 'csv');
        process.stdout.write(await client.text(`/v1/usage?${query.toString()}`, 'text/csv'));
        return;
      }
      const usage = await client.json<{ from: string; to: string; rows: UsageRow[] }>('GET', `/v1/usage${query.size === 0 ? '' : `?${query.toString()}`}`);
      printAnswer(options, usage, () => `usage from ${usage.from} to ${usage.to}\n${usage.rows.length === 0 ? 'no usage' : formatTable(COLUMNS, usage.rows)}`);
    });
}
