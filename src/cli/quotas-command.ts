import { jsonObjectArgument } from './json-argument';
import { Command, Option } from 'commander';
import type { TenantQuotas } from '../tenancy/quota-config';
import { apiPath } from './admin-client';
import { adminClient, adminCommand, printAnswer, type AdminOptions, type Environment } from './admin-options';
import { formatRecord } from './text-table';

/** Fields of the quotas document that `quotas set` also takes as flags (--requests-per-second, ...). */
const LIMIT_FIELDS = [
  'requests_per_second', 'burst', 'inferences_per_second', 'inference_burst', 'max_concurrent',
  'daily_requests', 'monthly_requests', 'daily_inferences', 'monthly_inferences', 'max_request_bytes',
  'max_queued_jobs', 'max_rows_per_job', 'daily_batch_rows',
] as const;

/** Batch-job limits exist for the tenant only, never in a model's override. */
const TENANT_ONLY_FIELDS: ReadonlySet<string> = new Set(['priority', 'allowed_models', 'max_queued_jobs', 'max_rows_per_job', 'daily_batch_rows']);

interface SetOptions extends AdminOptions {
  readonly data?: string;
  readonly model?: string;
  readonly priority?: string;
  readonly allowedModels?: string;
  readonly [flag: string]: unknown;
}

/** `triage quotas get|set`: a tenant's quotas document through the admin API. */
export function quotasCommand(env: Environment): Command {
  const quotas = new Command('quotas').description('Show and set a tenant\'s quotas (admin API on the HTTP port).');
  quotas.addCommand(adminCommand('get', 'Show a tenant\'s quotas.')
    .argument('<tenant>', 'tenant id')
    .action(async (tenant: string, options: AdminOptions) => {
      const document = await adminClient(options, env).json<TenantQuotas>('GET', apiPath('tenants', tenant, 'quotas'));
      printAnswer(options, document, () => humanQuotas(document));
    }));
  const set = adminCommand('set', 'Set a tenant\'s quotas: --data replaces the whole document; flags change single fields '
    + '(of --data when given, else of the current document). A flag value of "none" removes the limit.')
    .argument('<tenant>', 'tenant id')
    .option('--data <json|@file>', 'the whole quotas document as JSON; @path reads a file')
    .option('--model <name>', 'apply the limit flags to this model\'s override (models.<name>) instead of the tenant');
  // commander's attribute name of each flag -> its field.
  const limitFlags = new Map<string, string>();
  for (const field of LIMIT_FIELDS) {
    const none = field === 'burst' || field === 'inference_burst' ? 'one second\'s worth' : 'no limit';
    const option = new Option(`--${field.replaceAll('_', '-')} <n>`, `${field} ("none": ${none})`);
    set.addOption(option);
    limitFlags.set(option.attributeName(), field);
  }
  set.option('--priority <n>', 'priority (1 = highest; "none": the model\'s default)')
    .option('--allowed-models <list>', 'comma-separated models the tenant may use, or "all"')
    .action(async (tenant: string, options: SetOptions) => {
      const client = adminClient(options, env);
      const path = apiPath('tenants', tenant, 'quotas');
      const changes = flagChanges(options, limitFlags);
      if (options.data === undefined && changes.length === 0) throw new Error('nothing to set: give --data <json|@file> or a limit flag (see --help)');
      const document: Record<string, unknown> = options.data === undefined ? await client.json<Record<string, unknown>>('GET', path) : jsonObjectArgument(options.data, '--data', '{"requests_per_second": 50, ...}');
      for (const [field, value] of changes) setField(document, options.model, field, value);
      const stored = await client.json<TenantQuotas>('PUT', path, document);
      printAnswer(options, stored, () => humanQuotas(stored));
    });
  quotas.addCommand(set);
  return quotas;
}

function flagChanges(options: SetOptions, limitFlags: ReadonlyMap<string, string>): [string, unknown][] {
  const changes: [string, unknown][] = [];
  for (const [attribute, field] of limitFlags) {
    const value = options[attribute];
    if (typeof value === 'string') changes.push([field, flagValue(value)]);
  }
  if (options.priority !== undefined) changes.push(['priority', flagValue(options.priority)]);
  if (options.allowedModels !== undefined) {
    const list = options.allowedModels.trim();
    changes.push(['allowed_models', list === 'all' ? 'all' : list.split(',').map((model) => model.trim()).filter((model) => model !== '')]);
  }
  return changes;
}

/** "none" -> null; a number's text -> the number; anything else is sent as given, for the server to name the rule. */
function flagValue(text: string): unknown {
  if (text === 'none') return null;
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : text;
}

function setField(document: Record<string, unknown>, model: string | undefined, field: string, value: unknown): void {
  if (model === undefined || TENANT_ONLY_FIELDS.has(field)) {
    document[field] = value;
    return;
  }
  const models = (typeof document['models'] === 'object' && document['models'] !== null ? document['models'] : {}) as Record<string, Record<string, unknown>>;
  models[model] = { ...(models[model] ?? {}), [field]: value };
  document['models'] = models;
}

function humanQuotas(document: TenantQuotas): string {
  return Object.keys(document).length === 0 ? 'no quotas set: no limits' : formatRecord(document);
}
