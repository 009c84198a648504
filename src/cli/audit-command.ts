import { once } from 'node:events';
import type { Command } from 'commander';
import type { AuditEntry } from '../observability/audit-entries';
import { adminClient, adminCommand, printAnswer, type AdminOptions, type Environment } from './admin-options';
import { formatTable } from './text-table';

interface AuditOptions extends AdminOptions {
  readonly kind?: string;
  readonly tenant?: string;
  readonly model?: string;
  readonly action?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: string;
  readonly before?: string;
  readonly jsonl?: boolean;
}

interface AuditPage {
  readonly entries: AuditEntry[];
  readonly next_before: string | null;
  readonly scanned_to?: string;
}

const COLUMNS = ['at', 'kind', 'tenant', 'key', 'action', 'target', 'result'];
/** Entries per request while exporting. */
const PAGE = 1000;

/** `triage audit`: the audit log (admin changes and inference metadata), newest first, as a table or JSONL. */
export function auditCommand(env: Environment): Command {
  return adminCommand('audit', 'Show the audit log, newest first: admin changes and inference metadata (an admin key: everything; a tenant\'s read key: its own tenant).')
    .option('--kind <kind>', 'admin or inference (default: both)')
    .option('--tenant <id>', 'only entries of this tenant')
    .option('--model <name>', 'only entries about this model')
    .option('--action <action>', 'only this admin action (model.deploy, tenant.create, ...) or inference')
    .option('--since <time>', 'from this time on (ISO 8601 or epoch milliseconds)')
    .option('--until <time>', 'up to this time (ISO 8601 or epoch milliseconds)')
    .option('--limit <n>', 'at most this many entries (default: 100 in a table; every matching entry with --jsonl)')
    .option('--before <id>', 'only entries older than this entry id (a previous answer\'s next_before)')
    .option('--jsonl', 'print every matching entry as JSON lines, fetching page after page')
    .action(async (options: AuditOptions) => {
      const client = adminClient(options, env);
      const query = new URLSearchParams();
      for (const name of ['kind', 'tenant', 'model', 'action', 'since', 'until', 'before'] as const) {
        const value = options[name];
        if (value !== undefined) query.set(name, value);
      }
      if (options.jsonl !== true) {
        if (options.limit !== undefined) query.set('limit', options.limit);
        const page = await client.json<AuditPage>('GET', `/v1/audit${query.size === 0 ? '' : `?${query.toString()}`}`);
        printAnswer(options, page, () => humanPage(page));
        return;
      }
      const wanted = options.limit === undefined ? Infinity : Number(options.limit);
      if (!(wanted >= 1)) throw new Error(`--limit must be a positive integer, got '${options.limit ?? ''}'`);
      let printed = 0;
      while (printed < wanted) {
        query.set('limit', String(Math.min(PAGE, wanted - printed)));
        const page = await client.json<AuditPage>('GET', `/v1/audit?${query.toString()}`);
        const lines = page.entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
        if (lines !== '' && !process.stdout.write(lines)) await once(process.stdout, 'drain');
        printed += page.entries.length;
        if (page.next_before === null) break;
        query.set('before', page.next_before);
      }
    });
}

function humanPage(page: AuditPage): string {
  const table = page.entries.length === 0 ? 'no entries' : formatTable(COLUMNS, page.entries.map(row));
  if (page.next_before === null) return table;
  const why = page.scanned_to === undefined ? 'more entries' : `stopped after scanning down to ${page.scanned_to}`;
  return `${table}\n(${why}: add --before ${page.next_before} for older ones)`;
}

function row(entry: AuditEntry): Record<string, unknown> {
  if (entry.kind === 'admin') {
    return { at: entry.at, kind: entry.kind, tenant: entry.actor.tenant_id, key: entry.actor.key_id, action: entry.action, target: entry.target, result: '' };
  }
  return {
    at: entry.at,
    kind: entry.kind,
    tenant: entry.tenant_id,
    key: entry.key_id,
    action: `${entry.protocol} ${entry.rpc}`,
    target: entry.version === '' ? entry.model : `${entry.model}:${entry.version}`,
    result: `${entry.code}${entry.refused_by === null ? '' : ` (${entry.refused_by})`} ${entry.latency_ms} ms ${entry.bytes_in}/${entry.bytes_out} B`,
  };
}
