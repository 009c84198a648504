import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { apiPath } from './admin-client';
import { adminClient, adminCommand, DEFAULT_ADMIN_URL, printAnswer, type AdminOptions, type Environment } from './admin-options';
import { byteText, ProgressLine } from './progress-line';
import { formatRecord, formatTable } from './text-table';

/** A job as the API shows it (the fields the CLI reads). */
interface JobView {
  readonly id: string;
  readonly model: string;
  readonly status: string;
  readonly created_at: string;
  readonly request_counts: { readonly total: number; readonly completed: number; readonly failed: number };
  readonly progress: { readonly rows_done: number; readonly rows_total: number; readonly percent: number; readonly rows_per_second: number | null; readonly eta_seconds: number | null };
  readonly [field: string]: unknown;
}

interface SubmitOptions extends AdminOptions {
  readonly model: string;
  readonly modelVersion?: string;
  readonly priority?: string;
  readonly completionWindow?: string;
  readonly idempotencyKey?: string;
  readonly format?: string;
  readonly wait: boolean;
}

interface ListOptions extends AdminOptions {
  readonly tenant?: string;
  readonly limit?: string;
}

const ENDED = new Set(['completed', 'failed', 'cancelled', 'expired']);
const POLL_MS = 1000;

/** `triage jobs submit|status|results|cancel|list`: batch inference jobs through the admin API. */
export function jobsCommand(env: Environment): Command {
  const jobs = new Command('jobs').description('Batch inference jobs: submit a file of rows, follow it, fetch its results (admin API on the HTTP port; jobs scope).');
  jobs.addCommand(adminCommand('submit', 'Upload a file of rows (JSONL: one {"custom_id", "inputs"} per line; or a JSON {"rows": [...]}) as a job, then follow it until it ends.')
    .argument('<file>', 'the rows: .jsonl/.ndjson (JSONL) or .json; .gz is sent compressed')
    .requiredOption('--model <name>', 'the model the rows are for')
    .option('--model-version <v>', 'a version of the model (default: the one routing picks)')
    .option('--priority <n>', 'Triton priority of the job\'s requests (1 = highest; default: the model\'s lowest level)')
    .option('--completion-window <duration>', 'how long the job may take, e.g. 24h (default), 90m, 7d')
    .option('--idempotency-key <key>', 'a retried submit with the same key returns the first job instead of creating another')
    .option('--format <format>', 'jsonl or json (default: from the file name)')
    .option('--no-wait', 'print the job once created, without following it')
    .action(async (file: string, options: SubmitOptions) => {
      const created = await submit(file, options, env);
      const job = options.wait ? await follow(options, env, created) : created;
      printAnswer(options, job, () => formatJob(job));
      if (ENDED.has(job.status) && job.status !== 'completed') process.exitCode = 1;
    }));
  jobs.addCommand(adminCommand('status', 'Show a job: status, row counts, progress, timestamps.')
    .argument('<id>', 'job id')
    .action(async (id: string, options: AdminOptions) => {
      const job = await adminClient(options, env).json<JobView>('GET', apiPath('jobs', id));
      printAnswer(options, job, () => formatJob(job));
    }));
  jobs.addCommand(adminCommand('results', 'Write a job\'s result lines (JSONL) to stdout, as far as they are done: `triage jobs results ID > out.jsonl`.')
    .argument('<id>', 'job id')
    .option('--errors', 'the error lines instead ({"custom_id", "error": {...}})')
    .action(async (id: string, options: AdminOptions & { readonly errors?: boolean }) => {
      const response = await call(options, env, 'GET', apiPath('jobs', id, options.errors === true ? 'errors' : 'results'), { accept: 'application/x-ndjson' });
      if (response.body !== null) await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), process.stdout);
    }));
  jobs.addCommand(adminCommand('cancel', 'Cancel a job: work stops within one chunk; rows not run get "cancelled" error lines.')
    .argument('<id>', 'job id')
    .action(async (id: string, options: AdminOptions) => {
      const job = await adminClient(options, env).json<JobView>('POST', apiPath('jobs', id, 'cancel'));
      printAnswer(options, job, () => formatJob(job));
    }));
  jobs.addCommand(adminCommand('list', 'List jobs, newest first.')
    .option('--tenant <id>', 'admin keys: only this tenant\'s jobs')
    .option('--limit <n>', 'at most this many (default 100)')
    .action(async (options: ListOptions) => {
      const query = new URLSearchParams();
      if (options.tenant !== undefined) query.set('tenant', options.tenant);
      if (options.limit !== undefined) query.set('limit', options.limit);
      const answer = await adminClient(options, env).json<{ jobs: JobView[] }>('GET', `${apiPath('jobs')}${query.size === 0 ? '' : `?${query.toString()}`}`);
      printAnswer(options, answer, () => (answer.jobs.length === 0 ? 'no jobs' : formatTable(['id', 'model', 'status', 'total', 'completed', 'failed', 'created_at'], answer.jobs.map((job) => ({
        id: job.id, model: job.model, status: job.status, ...job.request_counts, created_at: job.created_at,
      })))));
    }));
  return jobs;
}

/** Streams the file up (never read whole), with an upload line on stderr; the created (or replayed) job. */
async function submit(file: string, options: SubmitOptions, env: Environment): Promise<JobView> {
  const size = statSync(file).size;
  const compressed = /\.gz$/i.test(file);
  const plainName = file.replace(/\.gz$/i, '');
  const format = options.format ?? (/\.json$/i.test(plainName) ? 'json' : 'jsonl');
  if (format !== 'json' && format !== 'jsonl') throw new Error(`--format must be json or jsonl, got '${format}'`);
  const query = new URLSearchParams({ model: options.model });
  if (options.modelVersion !== undefined) query.set('model_version', options.modelVersion);
  if (options.priority !== undefined) query.set('priority', options.priority);
  if (options.completionWindow !== undefined) query.set('completion_window', options.completionWindow);
  const progress = new ProgressLine();
  const started = Date.now();
  let sent = 0;
  const body = createReadStream(file).map((chunk: Buffer) => {
    sent += chunk.length;
    progress.update(`uploading ${file}: ${byteText(sent)} of ${byteText(size)}`);
    return chunk;
  });
  const response = await call(options, env, 'POST', `${apiPath('jobs')}?${query.toString()}`, {
    'content-type': format === 'jsonl' ? 'application/x-ndjson' : 'application/json',
    ...(compressed ? { 'content-encoding': 'gzip' } : {}),
    ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
  }, Readable.toWeb(body) as ReadableStream);
  const job = await response.json() as JobView;
  const replayed = response.headers.get('idempotent-replayed') === 'true';
  progress.done(`${replayed ? 'already submitted (same --idempotency-key)' : 'submitted'} ${job.id}: ${job.request_counts.total} rows, ${byteText(sent)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return job;
}

/** Polls the job every second, with a progress line (rows done/total, rate, ETA), until it ends. */
async function follow(options: AdminOptions, env: Environment, created: JobView): Promise<JobView> {
  const client = adminClient(options, env);
  const progress = new ProgressLine();
  let job = created;
  while (!ENDED.has(job.status)) {
    progress.update(progressText(job));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await client.json<JobView>('GET', apiPath('jobs', job.id));
  }
  progress.done(progressText(job));
  return job;
}

function progressText(job: JobView): string {
  const { rows_done: done, rows_total: total, percent, rows_per_second: rate, eta_seconds: eta } = job.progress;
  const counts = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows (${percent}%)`;
  const failed = job.request_counts.failed > 0 ? `, ${job.request_counts.failed.toLocaleString('en-US')} failed` : '';
  const speed = rate === null ? '' : `, ${Math.round(rate).toLocaleString('en-US')} rows/s`;
  const remaining = ENDED.has(job.status) || eta === null ? '' : `, ETA ${durationText(eta)}`;
  return `${job.id} ${job.status}: ${counts}${failed}${speed}${remaining}`;
}

/** 3725 -> "1h 2m 5s". */
function durationText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

function formatJob(job: JobView): string {
  const { progress: _progress, request_counts: counts, metadata, ...rest } = job;
  return `${formatRecord({ ...rest, total: counts.total, completed: counts.completed, failed: counts.failed, metadata: JSON.stringify(metadata) })}\n${progressText(job)}`;
}

/**
 * One call whose body or answer is streamed (the rows up, the lines down): a refusal
 * becomes an Error with the server's message and, for rows that fail validation, the
 * first problems, one per line.
 */
async function call(options: AdminOptions, env: Environment, method: string, path: string, headers: Record<string, string>, body?: ReadableStream): Promise<Response> {
  const base = options.url ?? (env['TRIAGE_URL'] === undefined || env['TRIAGE_URL'] === '' ? DEFAULT_ADMIN_URL : env['TRIAGE_URL']);
  const apiKey = options.apiKey ?? env['TRIAGE_API_KEY'] ?? '';
  if (apiKey === '') throw new Error('no API key: pass --api-key <key> or set TRIAGE_API_KEY');
  let url: URL;
  try {
    url = new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new Error(`--url must be an http(s) URL such as http://localhost:8000, got '${base}'`);
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers: { authorization: `Bearer ${apiKey}`, ...headers }, ...(body === undefined ? {} : { body, duplex: 'half' }) } as RequestInit);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (body !== undefined && (cause?.code === 'EPIPE' || cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET')) {
      throw new Error(`triage at ${url.origin} closed the connection during the upload (${cause.code}): the file may be larger than its --jobs-max-body`);
    }
    throw new Error(`cannot reach triage at ${url.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  if (!response.ok) throw new Error(`${refusalText(await response.text()) ?? response.statusText} (HTTP ${response.status})`);
  return response;
}

function refusalText(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; errors?: unknown };
    if (typeof parsed.error !== 'string') return text.trim().slice(0, 200) || null;
    const problems = Array.isArray(parsed.errors) ? parsed.errors as { row?: unknown; custom_id?: unknown; field?: unknown; rule?: unknown }[] : [];
    return [parsed.error, ...problems.slice(0, 20).map((problem) => `  row ${String(problem.row)}${problem.custom_id === null ? '' : ` (${String(problem.custom_id)})`} ${String(problem.field)}: ${String(problem.rule)}`)].join('\n');
  } catch {
    return text.trim().slice(0, 200) || null;
  }
}
