import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';
import type { PreparedRow } from '../../src/jobs/execution/prepared-row';
import { unpackChunk } from '../../src/jobs/packed-rows';
import { breastRow, jsonl, simpleRow, startJobsFixture, TEST_ADMIN_KEY, type JobsFixture, type Json } from './jobs-fixture';
import type { TestTenant } from '../support/tenant-setup';

describe('jobs API: create, read, cancel (real Redis, local-triton, triage)', function () {
  this.timeout(60_000);
  let api: JobsFixture;
  let tenant: TestTenant;

  const create = (key: string, body: unknown, query = '', headers: Record<string, string> = {}) => api.call('POST', `/v1/jobs${query}`, key, body, headers);
  const createJsonl = (key: string, rows: readonly unknown[], model: string, headers: Record<string, string> = {}) =>
    create(key, jsonl(rows), `?model=${model}`, { 'content-type': 'application/x-ndjson', ...headers });
  const store = () => api.triage.triage.jobs.store;
  const redis = () => api.triage.triage.tenancy.redis;
  const keys = () => api.triage.triage.tenancy.keys;

  before(async () => {
    api = await startJobsFixture({ jobsMaxBodyBytes: 4 * 1024 * 1024 });
    tenant = await api.tenant();
  });
  after(async () => {
    await api?.stop();
  });

  describe('create', () => {
    it('JSON body on breast_cancer_mlp: 201, queued, rows counted and cut into chunks of 4 x max_batch_size (at most 512)', async () => {
      const rows = Array.from({ length: 1200 }, (_, index) => breastRow(`bc-${index}`, index));
      const answer = await create(tenant.key, { model: 'breast_cancer_mlp', completion_window: '2h', metadata: { study: 'cohort-7' }, rows });
      assert.equal(answer.status, 201, answer.text);
      const job = answer.body as Json;
      assert.match(job['id'], /^job_[A-Za-z0-9]{20}$/);
      assert.equal(answer.headers.get('location'), `/v1/jobs/${job['id']}`);
      assert.equal(job['status'], 'queued');
      assert.equal(job['tenant_id'], tenant.id);
      assert.equal(job['model'], 'breast_cancer_mlp');
      assert.deepEqual(job['request_counts'], { total: 1200, completed: 0, failed: 0 });
      assert.deepEqual([job['chunk_rows'], job['chunks_total'], job['chunks_done']], [512, 3, 0]);
      assert.deepEqual(job['metadata'], { study: 'cohort-7' });
      assert.equal(job['completion_window_s'], 7200);
      assert.equal(Date.parse(job['expires_at']) - Date.parse(job['created_at']), 7_200_000);
      assert.deepEqual(job['progress'], { rows_done: 0, rows_total: 1200, percent: 0, rows_per_second: null, eta_seconds: null });
      // Every chunk is queued for the dispatcher (in the tenant's backlog, or already taken by it).
      const queued = [...await redis().lrange(keys().jobBacklog(tenant.id), 0, -1), ...await redis().zrange(keys().jobInflight(), 0, -1)];
      for (const chunk of [0, 1, 2]) assert.ok(queued.includes(`${job['id']}:${chunk}`), `chunk ${chunk} queued`);
      // The stored rows decrypt to the rows sent, in order, without the batch dimension, as raw FP32.
      const stored: PreparedRow[] = [];
      for (const chunk of [0, 1, 2]) stored.push(...unpackChunk((await store().getInput(job['id'], chunk)) as Buffer));
      assert.equal(stored.length, 1200);
      const features = Buffer.from(new Float32Array((breastRow('bc-777', 777)['inputs'] as Json)['features'] as number[]).buffer);
      assert.deepEqual(stored[777], { customId: 'bc-777', inputs: [{ name: 'features', datatype: 'FP32', shape: [30], count: 30, data: null, raw: features }] });
    });

    it('JSONL body on simple (?model=): chunks of 32 (4 x max_batch_size 8), the last one partial', async () => {
      const rows = Array.from({ length: 100 }, (_, index) => simpleRow(`s-${index}`, index));
      const answer = await createJsonl(tenant.key, rows, 'simple');
      assert.equal(answer.status, 201, answer.text);
      assert.deepEqual([answer.body?.['chunk_rows'], answer.body?.['chunks_total'], answer.body?.['request_counts']['total']], [32, 4, 100]);
      const last = unpackChunk((await store().getInput(answer.body?.['id'], 3)) as Buffer);
      assert.deepEqual(last.map((row) => row.customId), ['s-96', 's-97', 's-98', 's-99']);
    });

    it('a gzip body is inflated; a JSON body may name the model in the query instead', async () => {
      const body = gzipSync(JSON.stringify({ rows: [simpleRow('g-1'), simpleRow('g-2')] }));
      const answer = await create(tenant.key, body, '?model=simple&priority=2', { 'content-encoding': 'gzip', 'content-type': 'application/json' });
      assert.equal(answer.status, 201, answer.text);
      assert.deepEqual([answer.body?.['request_counts']['total'], answer.body?.['priority']], [2, 2]);
      const bad = await create(tenant.key, Buffer.from('not gzip at all'), '?model=simple', { 'content-encoding': 'gzip' });
      assert.equal(bad.status, 400);
      assert.match(bad.body?.['error'], /the body is not valid gzip data/);
      const unknown = await create(tenant.key, '{}', '?model=simple', { 'content-encoding': 'br' });
      assert.equal(unknown.status, 415);
    });

    it('stores rows encrypted: no custom_id or value of the rows is readable in Redis', async () => {
      const values = (index: number): number[] => Array.from({ length: 30 }, (_, at) => 123.456 + index * 1000 + at);
      const rows = Array.from({ length: 40 }, (_, index) => ({ custom_id: `patient-${String(index).padStart(6, '0')}`, inputs: { features: values(index) } }));
      const answer = await create(tenant.key, { model: 'breast_cancer_mlp', rows });
      assert.equal(answer.status, 201, answer.text);
      const jobId = answer.body?.['id'] as string;
      const inputKeys = (await api.jobKeys(jobId)).filter((key) => key.includes(':in:'));
      assert.equal(inputKeys.length, 1);
      const raw = await redis().getBuffer(inputKeys[0] as string) as Buffer;
      assert.ok(raw.length > 40 * 30 * 4, 'the blob holds the rows (30 FP32 values each)');
      // The packed form holds custom_ids, names and datatypes as text and values as raw FP32: none of them in the blob.
      const lastValues = Buffer.from(new Float32Array(values(39)).buffer);
      for (const text of ['patient-', 'features', 'FP32', 'TRJ1']) assert.ok(!raw.includes(Buffer.from(text)), `"${text}" does not appear in the stored blob`);
      assert.ok(!raw.includes(lastValues.subarray(0, 16)), 'no run of a row\'s raw values appears in the stored blob');
      const decrypted = unpackChunk((await store().getInput(jobId, 0)) as Buffer);
      assert.equal(decrypted[39]?.customId, 'patient-000039');
      assert.deepEqual(decrypted[39]?.inputs[0]?.raw, lastValues);
      // The record holds no row either.
      assert.ok(!JSON.stringify(await redis().hgetall(keys().job(jobId))).includes('patient-'));
    });

    it('Idempotency-Key: a retried create answers the first job (200, idempotent-replayed) and creates nothing', async () => {
      const rows = [simpleRow('i-1'), simpleRow('i-2')];
      const first = await createJsonl(tenant.key, rows, 'simple', { 'idempotency-key': 'upload-2026-11-29' });
      assert.equal(first.status, 201, first.text);
      const before = await redis().zcard(keys().tenantJobs(tenant.id));
      const again = await createJsonl(tenant.key, rows, 'simple', { 'idempotency-key': 'upload-2026-11-29' });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body?.['id'], first.body?.['id']);
      assert.equal(await redis().zcard(keys().tenantJobs(tenant.id)), before);
      // Two creates racing with one new key: one job, both answers name it.
      const racing = await Promise.all([1, 2].map(() => createJsonl(tenant.key, rows, 'simple', { 'idempotency-key': 'race-1' })));
      assert.deepEqual(racing.map((answer) => answer.status).sort(), [200, 201]);
      assert.equal(racing[0]?.body?.['id'], racing[1]?.body?.['id']);
      assert.equal(await redis().zcard(keys().tenantJobs(tenant.id)), before + 1);
      const other = await createJsonl(tenant.key, rows, 'simple', { 'idempotency-key': 'another-key' });
      assert.equal(other.status, 201);
      assert.notEqual(other.body?.['id'], first.body?.['id']);
      // Keys are per tenant: another tenant's same key creates its own job.
      const second = await api.tenant();
      const theirs = await createJsonl(second.key, rows, 'simple', { 'idempotency-key': 'upload-2026-11-29' });
      assert.equal(theirs.status, 201);
      assert.notEqual(theirs.body?.['id'], first.body?.['id']);
      assert.equal((await createJsonl(tenant.key, rows, 'simple', { 'idempotency-key': 'bad key with spaces' })).status, 400);
    });

    it('Idempotency-Key: the entry of a job gone past retention is pruned by a later create, and the key makes a new job', async () => {
      const rows = [simpleRow('p-1')];
      const owner = await api.tenant();
      const gone = await createJsonl(owner.key, rows, 'simple', { 'idempotency-key': 'expired-upload' });
      assert.equal(gone.status, 201, gone.text);
      const goneId = gone.body?.['id'] as string;
      const hash = keys().tenantJobIdempotency(owner.id);
      assert.equal(await redis().hget(hash, 'expired-upload'), goneId);
      // Retention ends the way it does in production: the record's key expires (nobody deletes the entry).
      await redis().del(keys().job(goneId));
      const next = await createJsonl(owner.key, rows, 'simple', { 'idempotency-key': 'another-upload' });
      assert.equal(next.status, 201, next.text);
      assert.equal(await redis().hget(hash, 'expired-upload'), null, 'the stale entry was pruned');
      assert.equal(await redis().hget(hash, 'another-upload'), next.body?.['id'], 'the live entry stays');
      const reused = await createJsonl(owner.key, rows, 'simple', { 'idempotency-key': 'expired-upload' });
      assert.equal(reused.status, 201);
      assert.notEqual(reused.body?.['id'], goneId);
    });
  });

  describe('an instance that missed a health probe', () => {
    it('is probed again at create: a job on its model is accepted, not refused as unavailable', async () => {
      const pool = api.triage.triage.pool;
      const [instance] = pool.list();
      assert.ok(instance !== undefined);
      pool.reportUnreachable(instance, 'a probe that timed out (test)');
      assert.equal(pool.candidates('breast_cancer_mlp', '').length, 0, 'the instance is ejected');
      const answer = await create(tenant.key, { model: 'breast_cancer_mlp', rows: [breastRow('probe-0', 0)] });
      assert.equal(answer.status, 201, answer.text);
      assert.equal(pool.candidates('breast_cancer_mlp', '').length, 1, 'the instance is back in the pool');
    });
  });

  describe('refusals write nothing', () => {
    /** Every job key, backlog entry and ring entry under this triage's prefix, to compare before and after. */
    const jobState = async (): Promise<string[]> => {
      const all = await redis().keys(`${keys().prefix}*`);
      const jobKeys = all.filter((key) => key.includes('{j:') || key.includes(':backlog:') || key.endsWith(':jobs')).sort();
      const lists = await Promise.all([keys().jobBacklog(tenant.id), keys().jobRing()].map(async (key) => `${key}=${(await redis().lrange(key, 0, -1)).join(',')}`));
      return [...jobKeys, ...lists];
    };

    it('10,000 bad rows: a clear 400 listing the first problems, and nothing in Redis, nothing queued', async () => {
      const before = await jobState();
      const rows = Array.from({ length: 10_000 }, (_, index) => ({ custom_id: `bad-${index}`, inputs: { INPUT0: [1, 2, 3], INPUT1: Array.from({ length: 16 }, () => 1) } }));
      const answer = await createJsonl(tenant.key, rows, 'simple');
      assert.equal(answer.status, 400);
      const body = answer.body as Json;
      assert.match(body['error'], /^10000 of 10000 rows cannot be run \(10000 problems\); nothing was created\. First: row 1 \(custom_id "bad-0"\) inputs\.INPUT0\.shape: is \[3\], but the model expects \[16\]/);
      assert.equal(body['errors'].length, 100);
      assert.deepEqual(body['errors'][99], { row: 100, custom_id: 'bad-99', field: 'inputs.INPUT0.shape', rule: 'is [3], but the model expects [16] (one inference, without the batch dimension)' });
      assert.equal(body['error_count'], 10_000);
      assert.deepEqual(await jobState(), before);
    });

    it('a bad row after thousands of good ones: the chunks already stored are deleted', async () => {
      const before = await jobState();
      const rows: unknown[] = Array.from({ length: 5000 }, (_, index) => simpleRow(`ok-${index}`, index));
      rows.push(simpleRow('ok-17'));
      const answer = await createJsonl(tenant.key, rows, 'simple');
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.body?.['errors'], [{ row: 5001, custom_id: 'ok-17', field: 'custom_id', rule: 'is used by row 18 too: custom_ids must be unique in the job' }]);
      assert.deepEqual(await jobState(), before);
    });

    it('malformed bodies and options: 400 naming what is wrong', async () => {
      const before = await jobState();
      const cases: [unknown, string, Record<string, string>, RegExp][] = [
        [{ model: 'simple', rows: [] }, '', {}, /"rows" is missing or empty/],
        [{ rows: [simpleRow('a')], model: 'simple' }, '', {}, /model is missing before the first row: give "model" before "rows"/],
        [{ model: 'simple', rows: [simpleRow('a')], priority: -1 }, '', {}, /priority must be an integer from 0/],
        [{ model: 'simple', rows: [simpleRow('a')], completion_window: '2 weeks' }, '', {}, /completion_window must be a duration/],
        [{ model: 'simple', rows: [simpleRow('a')], metadata: { a: 1 } }, '', {}, /metadata\.a must be a string/],
        [{ model: 'simple', colour: 'blue', rows: [simpleRow('a')] }, '', {}, /colour is not a member of a job/],
        ['{"model": "simple", "rows": [', '', {}, /the body ends in the middle/],
        [jsonl([simpleRow('a')]), '', { 'content-type': 'application/x-ndjson' }, /query parameter model is missing/],
        [jsonl([simpleRow('a')]), '?model=simple&mode=fast', { 'content-type': 'application/x-ndjson' }, /query parameter mode is not one of/],
        [`${JSON.stringify(simpleRow('a'))}\n{oops\n`, '?model=simple', { 'content-type': 'application/x-ndjson' }, /row 2 row: is not valid JSON/],
      ];
      for (const [body, query, headers, expected] of cases) {
        const answer = await create(tenant.key, body, query, headers);
        assert.ok(answer.status === 400 || answer.status === 404, `${answer.status} ${answer.text}`);
        assert.match(answer.body?.['error'], expected);
      }
      const unknownVersion = await create(tenant.key, { model: 'simple', model_version: '7', rows: [simpleRow('a')] });
      assert.equal(unknownVersion.status, 503);
      assert.match(unknownVersion.body?.['error'], /version 7 of model 'simple' is not READY on any instance/);
      const unknownModel = await create(tenant.key, { model: 'no_such_model', rows: [simpleRow('a')] });
      assert.equal(unknownModel.status, 404);
      assert.match(unknownModel.body?.['error'], /no model 'no_such_model' on any instance/);
      assert.deepEqual(await jobState(), before);
    });

    it('a body over --jobs-max-body: 413, and nothing written', async () => {
      const before = await jobState();
      const rows = Array.from({ length: 40_000 }, (_, index) => simpleRow(`big-${index}`, index));
      const answer = await createJsonl(tenant.key, rows, 'simple');
      assert.equal(answer.status, 413);
      assert.match(answer.body?.['error'], /larger than the limit of 4194304 bytes for a job \(--jobs-max-body\)/);
      assert.deepEqual(await jobState(), before);
    });

    it('a body that never ends: answered 413, then read no further than another --jobs-max-body before the connection is cut', async () => {
      let sent = 0;
      let index = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          const text = Buffer.from(jsonl(Array.from({ length: 200 }, () => simpleRow(`e-${index++}`))));
          sent += text.length;
          controller.enqueue(text);
        },
      }, { highWaterMark: 1 });
      const answer = await api.call('POST', '/v1/jobs?model=simple', tenant.key, endless, { 'content-type': 'application/x-ndjson' }).catch((error: Error) => error);
      // The answer arrives while the client still sends, or the client sees the cut: either way the server stopped reading.
      if (!(answer instanceof Error)) assert.equal(answer.status, 413);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const atCut = sent;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(sent - atCut < 1024 * 1024, 'nothing more is taken after the cut');
      assert.ok(atCut < 2 * 4 * 1024 * 1024 + 4 * 1024 * 1024, `${atCut} bytes were sent before the cut`);
    });

    it('scopes and models: infer or read keys are refused (403), and so are models the quotas do not allow', async () => {
      for (const scopes of [['infer'], ['read']]) {
        const other = await api.tenant({}, scopes);
        const answer = await createJsonl(other.key, [simpleRow('a')], 'simple');
        assert.equal(answer.status, 403);
        assert.match(answer.body?.['error'], /scope/);
        // A read key lists its tenant's job records (counts, no rows: the dashboard); an infer key nothing.
        assert.equal((await api.call('GET', '/v1/jobs', other.key)).status, scopes[0] === 'read' ? 200 : 403);
        // Results and errors hold data: `jobs` or `admin` only, checked before the job is looked up.
        assert.equal((await api.call('GET', '/v1/jobs/job_none/results', other.key)).status, 403);
        assert.equal((await api.call('GET', '/v1/jobs/job_none/errors', other.key)).status, 403);
      }
      const limited = await api.tenant({ allowed_models: ['simple'] });
      const refused = await create(limited.key, { model: 'breast_cancer_mlp', rows: [breastRow('a')] });
      assert.equal(refused.status, 403);
      assert.match(refused.body?.['error'], /may not use model 'breast_cancer_mlp'/);
      assert.equal((await createJsonl(limited.key, [simpleRow('a')], 'simple')).status, 201);
    });
  });

  describe('quotas at create (429 naming the limit, nothing written)', () => {
    it('max_queued_jobs counts jobs not ended; an ended job frees its place', async () => {
      const limited = await api.tenant({ max_queued_jobs: 1 });
      const first = await createJsonl(limited.key, [simpleRow('a')], 'simple');
      assert.equal(first.status, 201);
      const second = await createJsonl(limited.key, [simpleRow('a')], 'simple');
      assert.equal(second.status, 429);
      assert.match(second.body?.['error'], /tenant t_\w+ has 1 job not yet ended: max_queued_jobs is 1/);
      assert.equal(second.headers.get('x-ratelimit-limit'), '1');
      assert.equal((await api.call('POST', `/v1/jobs/${first.body?.['id']}/cancel`, limited.key)).status, 200);
      assert.equal((await createJsonl(limited.key, [simpleRow('a')], 'simple')).status, 429, 'a cancelling job has not ended yet');
      await store().transition(first.body?.['id'], ['cancelling'], 'cancelled', new Date());
      assert.equal((await createJsonl(limited.key, [simpleRow('a')], 'simple')).status, 201);
      assert.equal(await redis().zcard(keys().tenantJobs(limited.id)), 2);
    });

    it('max_rows_per_job: a job with more rows is refused as soon as it passes the limit', async () => {
      const limited = await api.tenant({ max_rows_per_job: 5 });
      const over = await createJsonl(limited.key, Array.from({ length: 6 }, (_, index) => simpleRow(`r${index}`)), 'simple');
      assert.equal(over.status, 429);
      assert.match(over.body?.['error'], /the job has more than 5 rows: max_rows_per_job of tenant t_\w+ is 5/);
      assert.equal(await redis().zcard(keys().tenantJobs(limited.id)), 0);
      assert.equal((await createJsonl(limited.key, Array.from({ length: 5 }, (_, index) => simpleRow(`r${index}`)), 'simple')).status, 201);
    });

    it('daily_batch_rows: rows of the day add up; the job that would pass the limit is refused', async () => {
      const limited = await api.tenant({ daily_batch_rows: 10 });
      const rows = (count: number): unknown[] => Array.from({ length: count }, (_, index) => simpleRow(`d${index}`));
      assert.equal((await createJsonl(limited.key, rows(6), 'simple')).status, 201);
      const over = await createJsonl(limited.key, rows(5), 'simple');
      assert.equal(over.status, 429);
      assert.match(over.body?.['error'], /daily_batch_rows of tenant t_\w+ is 10 rows per UTC day, 6 used today: the job has more than the 4 rows left/);
      assert.equal((await createJsonl(limited.key, rows(4), 'simple')).status, 201);
      const spent = await createJsonl(limited.key, rows(1), 'simple');
      assert.equal(spent.status, 429);
      assert.match(spent.body?.['error'], /no rows are left for a job today/);
      assert.equal(await redis().zcard(keys().tenantJobs(limited.id)), 2);
    });
  });

  describe('reading and cancelling', () => {
    let jobId: string;

    before(async () => {
      const answer = await createJsonl(tenant.key, Array.from({ length: 70 }, (_, index) => simpleRow(`c-${index}`, index)), 'simple');
      assert.equal(answer.status, 201, answer.text);
      jobId = answer.body?.['id'] as string;
    });

    it('another tenant\'s job id is a 404 on every route, exactly like an unknown id', async () => {
      const stranger = await api.tenant();
      const unknown = 'job_AAAAAAAAAAAAAAAAAAAA';
      for (const [method, suffix] of [['GET', ''], ['GET', '/results'], ['GET', '/errors'], ['POST', '/cancel']] as const) {
        const theirs = await api.call(method, `/v1/jobs/${jobId}${suffix}`, stranger.key);
        const missing = await api.call(method, `/v1/jobs/${unknown}${suffix}`, stranger.key);
        assert.equal(theirs.status, 404, `${method} ${suffix}`);
        assert.equal(missing.status, 404);
        assert.equal(theirs.body?.['error'], missing.body?.['error']?.replace(unknown, jobId));
      }
      assert.deepEqual((await api.call('GET', '/v1/jobs', stranger.key)).body, { jobs: [] });
      assert.equal((await api.call('GET', `/v1/jobs?tenant=${tenant.id}`, stranger.key)).status, 404);
      assert.equal((await api.call('GET', `/v1/jobs/${jobId}`, stranger.key)).status, 404);
      assert.equal((await store().get(jobId))?.status, 'queued', 'the stranger\'s cancel changed nothing');
      assert.equal((await api.call('GET', '/v1/jobs/not-a-job-id', tenant.key)).status, 404);
    });

    it('lists the tenant\'s jobs newest first; the admin scope sees every tenant, or one with ?tenant=', async () => {
      const mine = (await api.call('GET', '/v1/jobs?limit=2', tenant.key)).body as Json;
      assert.equal(mine['jobs'].length, 2);
      assert.equal(mine['jobs'][0]['id'], jobId);
      assert.ok(mine['jobs'].every((job: Json) => job['tenant_id'] === tenant.id));
      const all = (await api.call('GET', '/v1/jobs?limit=1000', TEST_ADMIN_KEY)).body as Json;
      assert.ok(new Set(all['jobs'].map((job: Json) => job['tenant_id'])).size > 2);
      const times = all['jobs'].map((job: Json) => Date.parse(job['created_at']));
      assert.deepEqual(times, [...times].sort((a, b) => b - a));
      const filtered = (await api.call('GET', `/v1/jobs?tenant=${tenant.id}&limit=1000`, TEST_ADMIN_KEY)).body as Json;
      assert.ok(filtered['jobs'].length > 3 && filtered['jobs'].every((job: Json) => job['tenant_id'] === tenant.id));
      assert.equal((await api.call('GET', '/v1/jobs?limit=0', tenant.key)).status, 400);
    });

    it('streams results and errors of committed chunks in chunk order (JSONL), and shows progress', async () => {
      const line = (id: string, value: number): string => JSON.stringify({ custom_id: id, outputs: { OUTPUT0: [value] } });
      const error = (id: string): string => JSON.stringify({ custom_id: id, error: { code: 'INVALID_ARGUMENT', message: 'refused', retryable: false } });
      // Chunk 2 first: the stream still follows chunk order.
      await store().transition(jobId, ['queued'], 'in_progress', new Date(Date.now() - 2000));
      await store().commitChunk(jobId, 2, Buffer.from(`${line('c-64', 64)}\n${line('c-65', 65)}\n`), Buffer.from(`${error('c-66')}\n`), 2, 1);
      await store().commitChunk(jobId, 0, Buffer.from(`${line('c-0', 0)}\n`), Buffer.from(''), 1, 0);
      const results = await api.call('GET', `/v1/jobs/${jobId}/results`, tenant.key);
      assert.equal(results.status, 200);
      assert.match(results.headers.get('content-type') ?? '', /application\/x-ndjson/);
      assert.deepEqual(results.text.trim().split('\n').map((text) => (JSON.parse(text) as Json)['custom_id']), ['c-0', 'c-64', 'c-65']);
      const errors = await api.call('GET', `/v1/jobs/${jobId}/errors`, tenant.key);
      assert.deepEqual(errors.text.trim().split('\n').map((text) => JSON.parse(text) as Json), [{ custom_id: 'c-66', error: { code: 'INVALID_ARGUMENT', message: 'refused', retryable: false } }]);
      const job = (await api.call('GET', `/v1/jobs/${jobId}`, tenant.key)).body as Json;
      assert.deepEqual(job['request_counts'], { total: 70, completed: 3, failed: 1 });
      assert.equal(job['chunks_done'], 2);
      assert.equal(job['progress']['rows_done'], 4);
      assert.ok(job['progress']['rows_per_second'] > 0 && job['progress']['rows_per_second'] < 10, JSON.stringify(job['progress']));
      assert.ok(job['progress']['eta_seconds'] > 0);
      // The admin scope reads any tenant's lines.
      assert.equal((await api.call('GET', `/v1/jobs/${jobId}/results`, TEST_ADMIN_KEY)).text, results.text);
    });

    it('cancel: -> cancelling (again: the same answer); an ended job is a 409', async () => {
      const cancelled = await api.call('POST', `/v1/jobs/${jobId}/cancel`, tenant.key);
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.equal(cancelled.body?.['status'], 'cancelling');
      assert.ok(cancelled.body?.['cancelling_at'] !== null);
      const again = await api.call('POST', `/v1/jobs/${jobId}/cancel`, tenant.key);
      assert.equal(again.status, 200);
      assert.equal(again.body?.['cancelling_at'], cancelled.body?.['cancelling_at']);
      await store().transition(jobId, ['cancelling'], 'cancelled', new Date());
      const ended = await api.call('POST', `/v1/jobs/${jobId}/cancel`, tenant.key);
      assert.equal(ended.status, 409);
      assert.match(ended.body?.['error'], /is cancelled: only a job that has not ended can be cancelled/);
    });
  });
});
