import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { formatRecord, formatTable } from '../../src/cli/text-table';
import { silentLogger } from '../../src/observability/logger';
import { UsageMeter } from '../../src/tenancy/usage-meter';
import { runTriageCli, type CliRun } from '../support/cli-run';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startAdminFixture, type AdminFixture, type JsonDocument } from './admin-fixture';


/** A port of 127.0.0.1 on which nothing listens (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('admin API: the triage tenants, keys, quotas and usage commands', function () {
  this.timeout(30_000);
  let api: AdminFixture;
  let scratch: string;
  let tenantId: string;
  let key: string;
  let keyId: string;

  /** `triage <args>` as a user runs it, stdout not a terminal (so answers are JSON), with TRIAGE_URL and TRIAGE_API_KEY set. */
  const triage = (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> =>
    runTriageCli(args, { TRIAGE_URL: api.base, TRIAGE_API_KEY: TEST_ADMIN_KEY, ...env }, scratch);
  const json = async (args: readonly string[], env: Record<string, string> = {}): Promise<JsonDocument> => {
    const run = await triage(args, env);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as JsonDocument;
  };

  before(async () => {
    api = await startAdminFixture();
    scratch = mkdtempSync(join(tmpdir(), 'triage-cli-'));
  });
  after(async () => {
    await api?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('creates and lists tenants, and creates, lists and revokes keys', async () => {
    const tenant = await json(['tenants', 'create', 'cli tenant', '--label', 'tier=gold', '--label', 'site=north']);
    tenantId = tenant['id'];
    assert.deepEqual([tenant['name'], tenant['status'], tenant['labels']], ['cli tenant', 'active', { tier: 'gold', site: 'north' }]);
    const [listed, created] = await Promise.all([
      json(['tenants', 'list']),
      json(['keys', 'create', tenantId, '--scopes', 'infer,read', '--expires-at', '2099-06-30T00:00:00Z']),
    ]);
    assert.deepEqual(listed['tenants'], [tenant]);
    key = created['key'];
    keyId = created['key_id'];
    assert.match(key, new RegExp(`^trg_${keyId}_`));
    assert.deepEqual([created['scopes'], created['expires_at']], [['infer', 'read'], '2099-06-30T00:00:00.000Z']);
    const keys = await triage(['keys', 'list', tenantId]);
    assert.equal(keys.code, 0, keys.stderr);
    assert.ok(!keys.stdout.includes(key.split('_')[2] as string), 'no secret in the list');
    assert.deepEqual((JSON.parse(keys.stdout) as JsonDocument)['keys'].map((each: JsonDocument) => each['key_id']), [keyId]);
  });

  it('sets quotas from --data (inline or @file) and from flags merged into the current document, and reads them back', async () => {
    const inline = await json(['quotas', 'set', tenantId, '--data', '{"requests_per_second": 50, "allowed_models": ["identity_fp32"]}', '--max-concurrent', '4']);
    assert.deepEqual(inline, { requests_per_second: 50, allowed_models: ['identity_fp32'], max_concurrent: 4 });
    const merged = await json(['quotas', 'set', tenantId, '--burst', '10', '--requests-per-second', 'none', '--model', 'identity_fp32', '--daily-requests', '1000']);
    assert.deepEqual(merged, { requests_per_second: 50, allowed_models: ['identity_fp32'], max_concurrent: 4, models: { identity_fp32: { burst: 10, requests_per_second: null, daily_requests: 1000 } } });
    writeFileSync(join(scratch, 'quotas.json'), JSON.stringify({ max_concurrent: 8, priority: 2 }));
    const fromFile = await json(['quotas', 'set', tenantId, '--data', '@quotas.json', '--allowed-models', 'all']);
    assert.deepEqual(fromFile, { max_concurrent: 8, priority: 2, allowed_models: null });
    assert.deepEqual(await json(['quotas', 'get', tenantId]), fromFile);
    const batch = await json(['quotas', 'set', tenantId, '--model', 'identity_fp32', '--max-queued-jobs', '3', '--max-rows-per-job', '5000', '--daily-batch-rows', '100000']);
    assert.deepEqual(batch, { ...fromFile, max_queued_jobs: 3, max_rows_per_job: 5000, daily_batch_rows: 100000 }, 'batch limits are the tenant\'s even with --model');
    assert.deepEqual(await json(['quotas', 'set', tenantId, '--data', '@quotas.json', '--allowed-models', 'all']), fromFile);
  });

  it('suspends and resumes a tenant, and its read key sees its own usage, as JSON and as CSV', async () => {
    const { redis, keys } = api.triage.triage.tenancy;
    const meter = new UsageMeter(redis, keys, 60_000, silentLogger(), () => Date.parse('2025-04-02T08:00:00Z'));
    meter.record(tenantId, 'identity_fp32', { inferences: 2, bytesIn: 8, bytesOut: 8, error: false, latencyMs: 1 });
    await meter.flush();
    assert.equal((await json(['tenants', 'suspend', tenantId]))['status'], 'suspended');
    assert.equal((await json(['tenants', 'resume', tenantId]))['status'], 'active');
    const [usage, csv] = await Promise.all([
      json(['usage', '--from', '2025-04-01', '--to', '2025-04-30', '--json'], { TRIAGE_API_KEY: key }),
      triage(['usage', '--from', '2025-04-01', '--to', '2025-04-30', '--csv', '--api-key', key], { TRIAGE_API_KEY: 'overridden by --api-key' }),
    ]);
    assert.deepEqual(usage['rows'], [{ tenant_id: tenantId, model: 'identity_fp32', day: '2025-04-02', requests: 1, inferences: 2, bytes_in: 8, bytes_out: 8, errors: 0, latency_ms: 1 }]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout, `tenant_id,model,day,requests,inferences,bytes_in,bytes_out,errors,latency_ms\r\n${tenantId},identity_fp32,2025-04-02,1,2,8,8,0,1\r\n`);
  });

  it('prints the server\'s message and exits 1 on an error; a revoked key is refused', async () => {
    const revoked = await json(['keys', 'revoke', tenantId, keyId]);
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    assert.equal(revoked['key_id'], keyId);
    assert.notEqual(revoked['revoked_at'], null);
    const runs = await Promise.all([
      triage(['tenants', 'get', 't_nobody']),
      triage(['quotas', 'set', tenantId, '--max-concurrent', '-1']),
      triage(['quotas', 'set', tenantId, '--daily-requests', 'lots']),
      triage(['tenants', 'list'], { TRIAGE_API_KEY: key }),
      triage(['tenants', 'create', 'x', '--label', 'x=1'], { TRIAGE_API_KEY: '' }),
      triage(['tenants', 'list', '--url', nowhere]),
      triage(['quotas', 'set', tenantId]),
    ]);
    const expected = [
      "triage: no tenant 't_nobody' (HTTP 404)\n",
      'triage: max_concurrent must be between 1 and 1000000000000, got -1 (HTTP 400)\n',
      'triage: daily_requests must be an integer, got the string "lots" (HTTP 400)\n',
      `triage: API key ${keyId} was revoked (HTTP 401)\n`,
      'triage: no API key: pass --api-key <key> or set TRIAGE_API_KEY\n',
      `triage: cannot reach triage at ${nowhere}: ECONNREFUSED\n`,
      'triage: nothing to set: give --data <json|@file> or a limit flag (see --help)\n',
    ];
    assert.deepEqual(runs.map((run) => [run.code, run.stderr, run.stdout]), expected.map((stderr) => [1, stderr, '']));
    assert.deepEqual(await json(['quotas', 'get', tenantId]), { max_concurrent: 8, priority: 2, allowed_models: null }, 'the refused changes changed nothing');
  });

  it('renders tables and records for a terminal', () => {
    const rows = [
      { key_id: 'AAAAAAAAAA', scopes: ['infer', 'read'], requests: 5, revoked_at: null },
      { key_id: 'BB', scopes: [], requests: 12345, revoked_at: '2026-01-01T00:00:00.000Z' },
    ];
    assert.equal(formatTable(['key_id', 'scopes', 'requests', 'revoked_at'], rows), [
      'KEY_ID      SCOPES      REQUESTS  REVOKED_AT',
      'AAAAAAAAAA  infer,read         5  -',
      'BB          -              12345  2026-01-01T00:00:00.000Z',
    ].join('\n'));
    assert.equal(formatRecord({ max_concurrent: 4, allowed_models: null, models: { simple: { burst: 2 } } }), [
      'max_concurrent       4',
      'allowed_models       -',
      'models.simple.burst  2',
    ].join('\n'));
  });
});
