import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';
import { runTriageCli, type CliRun } from '../support/cli-run';
import type { TestTenant } from '../support/tenant-setup';
import { breastRow, jsonl, simpleRow, startJobsFixture, type JobsFixture, type Json } from './jobs-fixture';

describe('jobs: the triage jobs command', function () {
  this.timeout(60_000);
  let api: JobsFixture;
  let tenant: TestTenant;
  let scratch: string;

  /** `triage <args>` as a user runs it (stdout not a terminal: answers are JSON) with the tenant's jobs key. */
  const triage = (args: readonly string[], key = tenant.key): Promise<CliRun> => runTriageCli(args, { TRIAGE_URL: api.base, TRIAGE_API_KEY: key }, scratch);
  const json = async (args: readonly string[]): Promise<Json> => {
    const run = await triage(args);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Json;
  };
  const file = (name: string, content: string | Buffer): string => {
    const path = join(scratch, name);
    writeFileSync(path, content);
    return path;
  };

  before(async () => {
    api = await startJobsFixture();
    tenant = await api.tenant();
    scratch = mkdtempSync(join(tmpdir(), 'triage-jobs-cli-'));
  });
  after(async () => {
    await api?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('submit --no-wait streams a JSONL file up and prints the job; status and list show it', async () => {
    const rows = file('rows.jsonl', jsonl(Array.from({ length: 300 }, (_, index) => breastRow(`cli-${index}`, index))));
    const run = await triage(['jobs', 'submit', rows, '--model', 'breast_cancer_mlp', '--no-wait', '--completion-window', '6h']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /submitted job_\w{20}: 300 rows, [0-9.]+ KiB in [0-9.]+ s/);
    const job = JSON.parse(run.stdout) as Json;
    assert.equal(job['status'], 'queued');
    assert.deepEqual([job['model'], job['request_counts']['total'], job['completion_window_s']], ['breast_cancer_mlp', 300, 21_600]);
    const status = await json(['jobs', 'status', job['id']]);
    assert.equal(status['id'], job['id']);
    const list = await json(['jobs', 'list']);
    assert.deepEqual(list['jobs'].map((each: Json) => each['id']), [job['id']]);
  });

  it('submit takes a JSON file and a gzipped file; --idempotency-key returns the first job', async () => {
    const json1 = file('rows.json', JSON.stringify({ rows: [simpleRow('j1'), simpleRow('j2')] }));
    const first = await json(['jobs', 'submit', json1, '--model', 'simple', '--no-wait', '--idempotency-key', 'nightly-1', '--priority', '2']);
    assert.deepEqual([first['request_counts']['total'], first['priority']], [2, 2]);
    const again = await triage(['jobs', 'submit', json1, '--model', 'simple', '--no-wait', '--idempotency-key', 'nightly-1']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already submitted \(same --idempotency-key\)/);
    assert.equal((JSON.parse(again.stdout) as Json)['id'], first['id']);
    const gz = file('rows.jsonl.gz', gzipSync(jsonl([simpleRow('z1'), simpleRow('z2'), simpleRow('z3')])));
    assert.equal((await json(['jobs', 'submit', gz, '--model', 'simple', '--no-wait']))['request_counts']['total'], 3);
  });

  it('a refused submit prints the server\'s reason and the first bad rows, and exits 1', async () => {
    const rows = file('bad.jsonl', jsonl([simpleRow('ok'), { custom_id: 'short', inputs: { INPUT0: [1], INPUT1: [2] } }]));
    const run = await triage(['jobs', 'submit', rows, '--model', 'simple', '--no-wait']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /1 of 2 rows cannot be run/);
    assert.match(run.stderr, /row 2 \(short\) inputs\.INPUT0\.shape: is \[1\], but the model expects \[16\]/);
    assert.match(run.stderr, /\(HTTP 400\)/);
  });

  it('a refusal before the body is read reaches the CLI although the upload is cut (max_queued_jobs 0, a 20 MB file)', async () => {
    const limited = await api.tenant({ max_queued_jobs: 0 });
    const big = file('big.jsonl', jsonl(Array.from({ length: 60_000 }, (_, index) => simpleRow(`b-${index}`, index))));
    const run = await triage(['jobs', 'submit', big, '--model', 'simple', '--no-wait'], limited.key);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /max_queued_jobs is 0.*\(HTTP 429\)/s);
  });

  it('without --no-wait, follows the job to its end with a progress line; results and --errors write the lines; cancel', async () => {
    const rows = file('follow.jsonl', jsonl(Array.from({ length: 64 }, (_, index) => simpleRow(`f-${index}`, index))));
    const submitting = triage(['jobs', 'submit', rows, '--model', 'simple']);
    // No worker runs in this fixture: the test plays it, committing both chunks (32 rows each) while the CLI polls.
    const store = api.triage.triage.jobs.store;
    let jobId: string | null = null;
    while (jobId === null) {
      jobId = (await store.listIds(tenant.id, 1))[0] ?? null;
      const record = jobId === null ? null : await store.get(jobId);
      if (record === null || record.request_counts.total !== 64) jobId = null;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const lines = (from: number, to: number, kind: 'outputs' | 'error'): Buffer => Buffer.from(Array.from({ length: to - from }, (_, index) => JSON.stringify(kind === 'outputs'
      ? { custom_id: `f-${from + index}`, outputs: { OUTPUT0: [from + index] } }
      : { custom_id: `f-${from + index}`, error: { code: 'INVALID_ARGUMENT', message: 'no', retryable: false } })).join('\n') + '\n');
    await store.transition(jobId, ['queued'], 'in_progress', new Date());
    await store.commitChunk(jobId, 0, lines(0, 32, 'outputs'), Buffer.from(''), 32, 0);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await store.commitChunk(jobId, 1, lines(32, 62, 'outputs'), lines(62, 64, 'error'), 30, 2);
    await store.transition(jobId, ['in_progress'], 'finalizing', new Date());
    await store.transition(jobId, ['finalizing'], 'completed', new Date());
    const run = await submitting;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`${jobId} completed: 64/64 rows \\(100%\\), 2 failed`));
    assert.equal((JSON.parse(run.stdout) as Json)['status'], 'completed');
    const results = await triage(['jobs', 'results', jobId]);
    assert.equal(results.code, 0, results.stderr);
    assert.deepEqual(results.stdout.trim().split('\n').map((line) => (JSON.parse(line) as Json)['custom_id']), Array.from({ length: 62 }, (_, index) => `f-${index}`));
    const errors = await triage(['jobs', 'results', jobId, '--errors']);
    assert.deepEqual(errors.stdout.trim().split('\n').map((line) => (JSON.parse(line) as Json)['custom_id']), ['f-62', 'f-63']);
    const ended = await triage(['jobs', 'cancel', jobId]);
    assert.equal(ended.code, 1);
    assert.match(ended.stderr, /is completed: only a job that has not ended can be cancelled \(HTTP 409\)/);
    const queued = await json(['jobs', 'submit', rows, '--model', 'simple', '--no-wait']);
    assert.equal((await json(['jobs', 'cancel', queued['id']]))['status'], 'cancelling');
    const unknown = await triage(['jobs', 'status', 'job_00000000000000000000']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no job 'job_00000000000000000000' \(HTTP 404\)/);
  });
});
