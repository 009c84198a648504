import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { after, before, describe, it } from 'mocha';
import { compareStreamIds } from '../../src/observability/stream-cursor';
import { projectRoot } from '../../src/protocol/project-paths';
import { runTriageCli } from '../support/cli-run';
import { TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest } from '../support/infer-request';
import { folderFiles, tarGz } from '../support/model-archive';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../../src/redis/redis-client';
import { sharedRedisUrl, TEST_ADMIN_KEY, uniquePrefix } from '../support/test-redis';
import { startTriageOnLocalTriton, type TriageOnLocalTriton } from '../support/triage-on-local-triton';
import { adminApiCaller, type Answer, type JsonDocument } from './admin-fixture';

const BOOTSTRAP = { tenant_id: 'admin', key_id: 'bootstrap' };
const REST_BODY = JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [4], datatype: 'FP32', data: [1, 2, 3, 4] }] });

describe('GET /v1/audit: admin changes and inference metadata', function () {
  this.timeout(60_000);
  let started: TriageOnLocalTriton;
  /** Tenants A and B; A has keys for inference, reading, jobs; B one for inference. */
  let a: string;
  let b: string;
  let inferA: { key: string; keyId: string };
  let readA: string;
  let jobsA: string;
  let inferB: { key: string; keyId: string };
  let jobId: string;

  const call = (method: string, path: string, key: string | null = TEST_ADMIN_KEY, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    adminApiCaller(started.base)(method, path, key, body, headers);
  const ok = async (method: string, path: string, key: string | null = TEST_ADMIN_KEY, body?: unknown, headers: Record<string, string> = {}): Promise<JsonDocument> => {
    const answer = await call(method, path, key, body, headers);
    assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.body as JsonDocument;
  };
  const audit = async (query: string, key: string = TEST_ADMIN_KEY): Promise<JsonDocument[]> => {
    const page = await ok('GET', `/v1/audit${query}`, key);
    return page['entries'] as JsonDocument[];
  };
  /** Polls until the query answers at least `count` entries (inference entries are written every 250 ms). */
  const eventually = async (query: string, count: number, key: string = TEST_ADMIN_KEY): Promise<JsonDocument[]> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const entries = await audit(query, key);
      if (entries.length >= count || Date.now() > deadline) return entries;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const createKey = async (tenant: string, scopes: readonly string[]): Promise<{ key: string; keyId: string }> => {
    const created = await ok('POST', `/v1/tenants/${tenant}/keys`, TEST_ADMIN_KEY, { scopes });
    return { key: created['key'] as string, keyId: created['key_id'] as string };
  };
  /** Every field value of both audit streams, raw as Redis holds them. */
  const rawStreams = async (): Promise<string> => {
    const { redis, keys } = started.triage.triage.tenancy;
    const entries = [...await redis.xrange(keys.audit(), '-', '+'), ...await redis.xrange(keys.inferenceAudit(), '-', '+')];
    return entries.map(([id, fields]) => `${id} ${fields.join(' ')}`).join('\n');
  };

  before(async () => {
    // No worker: jobs stay queued, so a cancel is a change.
    started = await startTriageOnLocalTriton(['identity_fp32'], { jobsConcurrency: 0 });
    a = (await ok('POST', '/v1/tenants', TEST_ADMIN_KEY, { name: 'audit tenant a', labels: { unit: 'radiology' } }))['id'] as string;
    b = (await ok('POST', '/v1/tenants', TEST_ADMIN_KEY, { name: 'audit tenant b' }))['id'] as string;
    inferA = await createKey(a, ['infer']);
    readA = (await createKey(a, ['read'])).key;
    jobsA = (await createKey(a, ['jobs'])).key;
    inferB = await createKey(b, ['infer']);
    await ok('PUT', `/v1/tenants/${b}/quotas`, TEST_ADMIN_KEY, { max_concurrent: 5 });
  });
  after(async () => {
    await started?.stop();
  });

  it('records tenant, key and quota changes with actor, target, before and after', async () => {
    const entries = await audit(`?kind=admin&tenant=${a}`);
    const created = entries.find((entry) => entry['action'] === 'tenant.create');
    assert.ok(created !== undefined, JSON.stringify(entries));
    assert.deepEqual(created['actor'], BOOTSTRAP);
    assert.equal(created['kind'], 'admin');
    assert.equal(created['target'], `tenant/${a}`);
    assert.equal(created['before'], null);
    assert.equal(created['after']['name'], 'audit tenant a');
    assert.deepEqual(created['after']['labels'], { unit: 'radiology' });
    assert.match(created['id'], /^[0-9]+-[0-9]+$/);
    assert.ok(Math.abs(Date.parse(created['at']) - Number(created['id'].split('-')[0])) < 1000);

    const key = entries.find((entry) => entry['action'] === 'key.create' && entry['target'] === `tenant/${a}/key/${inferA.keyId}`);
    assert.ok(key !== undefined);
    assert.deepEqual(Object.keys(key['after']).sort(), ['created_at', 'expires_at', 'key_id', 'revoked_at', 'scopes', 'tenant_id']);
    assert.deepEqual(key['after']['scopes'], ['infer']);

    const [quota] = await audit(`?action=quota.set&tenant=${b}`);
    assert.equal(quota?.['target'], `tenant/${b}/quotas`);
    assert.deepEqual(quota?.['actor'], BOOTSTRAP);
    assert.deepEqual(quota?.['after'], { max_concurrent: 5 });
    assert.ok(quota?.['before'] !== undefined);

    await ok('PATCH', `/v1/tenants/${b}`, TEST_ADMIN_KEY, { status: 'suspended' });
    const [update] = await audit(`?action=tenant.update&tenant=${b}`);
    assert.equal(update?.['before']['status'], 'active');
    assert.equal(update?.['after']['status'], 'suspended');
    await ok('PATCH', `/v1/tenants/${b}`, TEST_ADMIN_KEY, { status: 'active' });

    const revoked = await createKey(b, ['read']);
    await ok('DELETE', `/v1/tenants/${b}/keys/${revoked.keyId}`);
    await ok('DELETE', `/v1/tenants/${b}/keys/${revoked.keyId}`);
    const revocations = await audit(`?action=key.revoke&tenant=${b}`);
    assert.equal(revocations.length, 1, 'revoking a revoked key changes nothing and is not audited again');
    assert.equal(revocations[0]?.['before']['revoked_at'], null);
    assert.equal(typeof revocations[0]?.['after']['revoked_at'], 'string');
  });

  it('never holds a key\'s secret or its hash', async () => {
    const created = await ok('POST', `/v1/tenants/${a}/keys`, TEST_ADMIN_KEY, { scopes: ['read'] });
    const key = created['key'] as string;
    const secret = key.split('_')[2] as string;
    assert.equal(secret.length, 32);
    const stored = await rawStreams();
    assert.ok(stored.includes(created['key_id'] as string), 'the key create entry is there');
    for (const forbidden of [key, secret, createHash('sha256').update(secret).digest('hex'), 'secret_sha256']) {
      assert.ok(!stored.includes(forbidden), `the audit streams hold ${forbidden.slice(0, 12)}...`);
    }
    const answered = JSON.stringify(await audit(`?action=key.create&tenant=${a}`));
    assert.ok(answered.includes(created['key_id'] as string) && !answered.includes(secret));
  });

  it('records a model push and deploy with before and after', async () => {
    const files: Record<string, Buffer> = {};
    for (const [path, bytes] of Object.entries(folderFiles(join(SAMPLE_REPOSITORY, 'identity_fp32')))) {
      files[`audited_identity/${path}`] = path === 'config.pbtxt' ? Buffer.from(bytes.toString('utf8').replace('"identity_fp32"', '"audited_identity"')) : bytes;
    }
    await ok('POST', '/v1/models', TEST_ADMIN_KEY, await tarGz(files), { 'content-type': 'application/gzip' });
    await ok('POST', '/v1/models/audited_identity/deploy', TEST_ADMIN_KEY, { replicas: 1 });
    const entries = await audit('?model=audited_identity');
    assert.deepEqual(entries.map((entry) => entry['action']), ['model.deploy', 'model.create']);
    const [deploy, create] = entries;
    assert.deepEqual(deploy?.['actor'], BOOTSTRAP);
    assert.equal(deploy?.['target'], 'model/audited_identity');
    assert.equal(deploy?.['before'], null);
    assert.equal(deploy?.['after']['replicas'], 1);
    assert.equal(create?.['before'], null);
    assert.equal(create?.['after']['name'], 'audited_identity');
  });

  it('records job creation and cancellation by ids and counts, never rows', async () => {
    const rows = ['row-one', 'row-two'].map((id, index) => JSON.stringify({ custom_id: id, inputs: { INPUT0: [index + 0.5, 77.25] } })).join('\n');
    const job = await ok('POST', '/v1/jobs?model=identity_fp32', jobsA, rows, { 'content-type': 'application/x-ndjson' });
    jobId = job['id'] as string;
    await ok('POST', `/v1/jobs/${jobId}/cancel`, jobsA);
    const entries = await audit(`?tenant=${a}&model=identity_fp32&kind=admin`);
    const [cancel, create] = entries;
    assert.equal(cancel?.['action'], 'job.cancel');
    assert.equal(create?.['action'], 'job.create');
    assert.equal(create?.['target'], `job/${jobId}`);
    assert.equal(create?.['actor']['tenant_id'], a);
    assert.equal(create?.['after']['rows'], 2);
    assert.equal(create?.['after']['model'], 'identity_fp32');
    assert.equal(cancel?.['before']['status'], 'queued');
    assert.equal(cancel?.['after']['status'], 'cancelling');
    const text = JSON.stringify(entries);
    for (const rowText of ['row-one', 'custom_id', '77.25', 'inputs']) assert.ok(!text.includes(rowText), `a job entry holds ${rowText}`);
  });

  it('records the metadata of gRPC and REST inferences, failed ones too', async () => {
    const client = new TritonTestClient(started.triage.address, undefined, inferA.key);
    try {
      const metadata = new Metadata();
      metadata.set('x-request-id', 'grpc-call-1');
      await client.unary('ModelInfer', inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [4], raw: float32Buffer([1, 2, 3, 4]) }]), metadata);
    } finally {
      client.close();
    }
    const rest = await fetch(`${started.base}/v2/models/identity_fp32/infer`, {
      method: 'POST', body: REST_BODY, headers: { authorization: `Bearer ${inferB.key}`, 'content-type': 'application/json', 'x-request-id': 'rest-call-1' },
    });
    const restAnswer = await rest.text();
    assert.equal(rest.status, 200, restAnswer);
    const wrongShape = await fetch(`${started.base}/v2/models/identity_fp32/infer`, {
      method: 'POST', body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [3], datatype: 'FP32', data: [1, 2, 3, 4] }] }),
      headers: { authorization: `Bearer ${inferB.key}`, 'content-type': 'application/json', 'x-request-id': 'rest-call-2' },
    });
    await wrongShape.text();
    assert.equal(wrongShape.status, 400);

    const [grpc] = await eventually(`?kind=inference&tenant=${a}`, 1);
    assert.deepEqual({ ...grpc, id: '', at: '', latency_ms: 0, upstream_ms: 0, instance: '', bytes_in: 0, bytes_out: 0 }, {
      id: '', at: '', kind: 'inference', tenant_id: a, key_id: inferA.keyId, model: 'identity_fp32', version: '', request_id: 'grpc-call-1', protocol: 'grpc',
      rpc: 'ModelInfer', code: 'OK', failed: false, refused_by: null, latency_ms: 0, upstream_ms: 0, instance: '', bytes_in: 0, bytes_out: 0,
    });
    assert.ok(grpc?.['bytes_in'] > 16 && grpc?.['bytes_out'] > 16, JSON.stringify(grpc));
    assert.equal(grpc?.['instance'], started.local.address);
    assert.ok(grpc?.['latency_ms'] > 0 && grpc?.['upstream_ms'] > 0);

    const [failed, succeeded] = await eventually(`?action=inference&tenant=${b}`, 2);
    assert.equal(succeeded?.['protocol'], 'http');
    assert.equal(succeeded?.['rpc'], 'infer');
    assert.equal(succeeded?.['code'], '200');
    assert.equal(succeeded?.['failed'], false);
    assert.equal(succeeded?.['request_id'], 'rest-call-1');
    assert.equal(succeeded?.['key_id'], inferB.keyId);
    assert.equal(succeeded?.['bytes_in'], Buffer.byteLength(REST_BODY));
    assert.equal(succeeded?.['bytes_out'], Buffer.byteLength(restAnswer));
    assert.equal(failed?.['code'], '400');
    assert.equal(failed?.['failed'], true);
    assert.equal(failed?.['request_id'], 'rest-call-2');
  });

  it('narrows by tenant, model, action, since and until, and pages with limit and before', async () => {
    const t1 = (await ok('POST', '/v1/tenants', TEST_ADMIN_KEY, { name: 'audit time one' }))['id'] as string;
    await new Promise((resolve) => setTimeout(resolve, 30));
    const middle = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const t2 = (await ok('POST', '/v1/tenants', TEST_ADMIN_KEY, { name: 'audit time two' }))['id'] as string;
    const targets = async (query: string): Promise<string[]> => (await audit(query)).map((entry) => entry['target'] as string);
    assert.deepEqual(await targets(`?action=tenant.create&since=${new Date(middle).toISOString()}`), [`tenant/${t2}`]);
    assert.deepEqual((await targets(`?action=tenant.create&until=${middle}`)).slice(0, 1), [`tenant/${t1}`]);
    assert.ok(!(await targets(`?action=tenant.create&until=${middle}`)).includes(`tenant/${t2}`));
    assert.deepEqual(await targets(`?since=${middle}&until=${Date.now() + 1000}&kind=admin`), [`tenant/${t2}`]);

    const tenantCreates = await audit('?action=tenant.create');
    assert.ok(tenantCreates.length >= 4 && tenantCreates.every((entry) => entry['action'] === 'tenant.create'));
    assert.ok((await audit(`?tenant=${b}`)).every((entry) => entry['tenant_id'] === b || entry['target']?.startsWith(`tenant/${b}`)));
    assert.ok((await audit('?model=identity_fp32')).every((entry) => entry['model'] === 'identity_fp32' || entry['target']?.startsWith('job/')));
    assert.ok((await audit('?kind=inference')).every((entry) => entry['kind'] === 'inference'));

    const paged: string[] = [];
    let before: string | null = null;
    do {
      const page: JsonDocument = await ok('GET', `/v1/audit?action=tenant.create&limit=1${before === null ? '' : `&before=${before}`}`);
      assert.ok(page['entries'].length <= 1);
      paged.push(...page['entries'].map((entry: JsonDocument) => entry['id'] as string));
      before = page['next_before'] as string | null;
    } while (before !== null && paged.length < 50);
    assert.deepEqual(paged, tenantCreates.map((entry) => entry['id']));
    const all = await audit('?limit=1000');
    const ids = all.map((entry) => entry['id'] as string);
    ids.slice(1).forEach((id, index) => assert.ok(compareStreamIds(ids[index] as string, id) >= 0, `newest first: ${ids[index]} before ${id}`));
  });

  it('exports every matching entry as JSONL, one valid JSON object per line, newest first', async () => {
    const response = await fetch(`${started.base}/v1/audit?format=jsonl&tenant=${a}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename="?triage-audit-[0-9]{8}T[0-9]{6}Z\.jsonl"?$/);
    const text = await response.text();
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as JsonDocument);
    const page = await audit(`?tenant=${a}&limit=1000`);
    assert.deepEqual(lines, page);
    assert.ok(lines.some((line) => line['kind'] === 'admin') && lines.some((line) => line['kind'] === 'inference'));
  });

  it('shows a tenant\'s read key only its own tenant\'s entries; another tenant is a 404', async () => {
    const mine = await audit('?limit=1000', readA);
    assert.ok(mine.length >= 5);
    for (const entry of mine) {
      const related = entry['kind'] === 'inference' ? entry['tenant_id'] === a
        : entry['actor']['tenant_id'] === a || String(entry['target']).startsWith(`tenant/${a}`) || entry['target'] === `job/${jobId}`;
      assert.ok(related, `a's read key sees ${JSON.stringify(entry)}`);
    }
    assert.ok(mine.some((entry) => entry['action'] === 'tenant.create' && entry['target'] === `tenant/${a}`));
    assert.ok(mine.some((entry) => entry['kind'] === 'inference'));
    assert.deepEqual(await audit(`?tenant=${a}&limit=1000`, readA), mine);
    const other = await call('GET', `/v1/audit?tenant=${b}`, readA);
    assert.equal(other.status, 404);
    assert.deepEqual(other.body, { error: `no tenant '${b}'` });
    const exported = await fetch(`${started.base}/v1/audit?format=jsonl`, { headers: { authorization: `Bearer ${readA}` } });
    const lines = (await exported.text()).trim().split('\n').map((line) => JSON.parse(line) as JsonDocument);
    assert.deepEqual(lines, mine);
  });

  it('refuses keys without read or admin (403) and calls without a key (401)', async () => {
    for (const key of [inferA.key, jobsA]) {
      const answer = await call('GET', '/v1/audit', key);
      assert.equal(answer.status, 403, answer.text);
    }
    assert.equal((await call('GET', '/v1/audit', null)).status, 401);
  });

  it('triage audit prints a page as JSON, every matching entry as JSONL, and the server\'s refusal', async () => {
    const env = { TRIAGE_URL: started.base, TRIAGE_API_KEY: TEST_ADMIN_KEY };
    const page = await runTriageCli(['audit', '--action', 'tenant.create', '--limit', '2', '--json'], env, projectRoot());
    assert.equal(page.code, 0, page.stderr);
    const parsed = JSON.parse(page.stdout) as JsonDocument;
    assert.deepEqual(parsed['entries'], (await audit('?action=tenant.create')).slice(0, 2));
    assert.equal(parsed['next_before'], parsed['entries']?.[1]?.['id']);

    const exported = await runTriageCli(['audit', '--tenant', a, '--jsonl'], { ...env, TRIAGE_API_KEY: readA }, projectRoot());
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonDocument);
    assert.deepEqual(lines, await audit(`?tenant=${a}&limit=1000`));

    const refused = await runTriageCli(['audit', '--since', 'last tuesday'], env, projectRoot());
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /since must be an ISO 8601 time/);
  });

  it('answers 400 naming the parameter and its rule', async () => {
    const cases: [string, RegExp][] = [
      ['limit=0', /^limit must be an integer from 1 to 1000/],
      ['limit=1001', /^limit must be an integer from 1 to 1000/],
      ['limit=ten', /^limit must be an integer/],
      ['kind=payload', /^kind must be "admin" or "inference"/],
      ['since=yesterday', /^since must be an ISO 8601 time .* or epoch milliseconds/],
      ['until=2026-13-45T99:00:00Z', /^until must be an ISO 8601 time/],
      ['since=2026-11-02&until=2026-11-01', /^since \(.*\) must not be after until/],
      ['before=12', /^before must be an entry id/],
      ['format=csv', /^format must be "json" or "jsonl"/],
      ['action=DROP%20TABLE', /^action must be an admin action/],
      ['action=inference&kind=admin', /action "inference" .* kind=admin/],
      ['model=a%2Fb', /^model must be a model name/],
      ['colour=red', /^query parameter 'colour' is not known here/],
      ['limit=5&limit=6', /^query parameter 'limit' is given more than once/],
      ['tenant=', /^query parameter 'tenant' must not be empty/],
    ];
    for (const [query, message] of cases) {
      const answer = await call('GET', `/v1/audit?${query}`);
      assert.equal(answer.status, 400, `${query}: ${answer.text}`);
      assert.match(answer.body?.['error'] ?? '', message, query);
    }
  });
});

describe('inference audit settings and shutdown', function () {
  this.timeout(60_000);

  /** One REST inference with the admin key, then triage is stopped at once; answers the inference stream's length afterwards. */
  const inferThenStop = async (overrides: Parameters<typeof startTriageOnLocalTriton>[1]): Promise<number> => {
    const prefix = uniquePrefix();
    const started = await startTriageOnLocalTriton(['identity_fp32'], { ...overrides, redisPrefix: prefix });
    const redis = createRedisClient({ url: await sharedRedisUrl(), name: 'test:audit-shutdown', failFast: true });
    try {
      await waitUntilReady(redis, 5000);
      const response = await fetch(`${started.base}/v2/models/identity_fp32/infer`, { method: 'POST', body: REST_BODY, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
      assert.equal(response.status, 200, await response.text());
      await started.stop();
      return await redis.xlen(`${prefix}audit-inference`);
    } finally {
      await started.stop();
      await closeRedisClient(redis);
    }
  };

  it('writes the last calls\' entries when triage stops', async () => {
    assert.equal(await inferThenStop({}), 1);
  });

  it('records no inference with --audit-inferences off', async () => {
    assert.equal(await inferThenStop({ auditInferences: 'off' }), 0);
  });
});
