import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { parseRoles } from '../../src/config/roles';
import { TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { TEST_ADMIN_KEY, uniquePrefix } from '../support/test-redis';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('roles: parsing', () => {
  it('takes a comma list of known roles and names the bad one otherwise', () => {
    assert.deepEqual([...parseRoles('proxy, api', '--roles')], ['proxy', 'api']);
    assert.throws(() => parseRoles('proxy,gateway', '--roles'), /--roles must be a comma list of proxy, api, worker, controller; 'gateway' is not a role/);
    assert.throws(() => parseRoles(' , ', 'TRIAGE_ROLES'), /TRIAGE_ROLES must name at least one role/);
    assert.throws(() => parseRoles('api,api', '--roles'), /names the role 'api' twice/);
  });
});

describe('roles: one deployment split into a proxy, an api, a worker and a controller process (one Redis, one local-triton)', function () {
  this.timeout(60_000);
  let repository: TempRepository | undefined;
  let triton: LocalTritonFixture | undefined;
  const parts: TriageFixture[] = [];
  let proxy: TriageFixture;
  let api: TriageFixture;
  let worker: TriageFixture;
  let controller: TriageFixture;
  const clients: TritonTestClient[] = [];

  const http = (part: TriageFixture, path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`http://127.0.0.1:${part.triage.httpPort}${path}`, { ...init, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  before(async () => {
    repository = new TempRepository().copySample('simple');
    triton = await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', loadModels: [] });
    const redisPrefix = uniquePrefix();
    const start = async (roles: string): Promise<TriageFixture> => {
      const part = await startTriageFixture([triton!.address], { roles: parseRoles(roles, '--roles'), redisPrefix, modelRepository: repository!.path, tritonMetricsPort: -1 });
      parts.push(part);
      return part;
    };
    proxy = await start('proxy');
    api = await start('api');
    worker = await start('worker');
    controller = await start('controller');
  });

  after(async () => {
    for (const client of clients) client.close();
    for (const part of parts.reverse()) await part.stop();
    await triton?.stop();
    repository?.remove();
  });

  it('runs only what each process\'s roles ask for, and every process serves /healthz, /readyz and /metrics', async () => {
    assert.equal(api.triage.grpcPort, null);
    assert.equal(worker.triage.grpcPort, null);
    assert.equal(controller.triage.grpcPort, null);
    assert.ok(typeof proxy.triage.grpcPort === 'number' && proxy.triage.grpcPort > 0);
    assert.equal(proxy.triage.controller, null);
    assert.equal(api.triage.controller, null);
    assert.notEqual(controller.triage.controller, null);
    assert.equal(api.triage.jobRunner.dispatcher, null, 'no worker role: nothing executes here');
    assert.notEqual(worker.triage.jobRunner.dispatcher, null);
    // The admin API and the dashboard only on the api process; KServe REST only on the proxy.
    assert.equal((await http(api, '/v1/whoami')).status, 200);
    for (const other of [proxy, worker, controller]) {
      assert.equal((await http(other, '/v1/whoami')).status, 404);
      assert.equal((await http(other, '/')).status, 404);
    }
    assert.equal((await http(api, '/')).status, 200);
    assert.equal((await http(proxy, '/v2/health/live')).status, 200);
    assert.equal((await http(api, '/v2/health/live')).status, 404);
    for (const [part, roles] of [[proxy, ['proxy']], [api, ['api']], [worker, ['worker']], [controller, ['controller']]] as const) {
      assert.equal((await http(part, '/healthz')).status, 200);
      assert.equal((await http(part, '/metrics')).status, 200);
      const ready = await http(part, '/readyz');
      const body = await ready.json() as { roles: Record<string, boolean> };
      assert.deepEqual(Object.keys(body.roles), roles);
    }
  });

  it('registers and deploys through the api, loads through the controller, serves through the proxy, and runs a job on the worker', async () => {
    const deploy = await http(api, '/v1/models/simple/deploy', { method: 'POST', body: JSON.stringify({ replicas: 1 }) });
    assert.equal(deploy.status, 202, await deploy.text());
    await waitFor('simple READY on the instance', 20_000, async () => {
      const model = await (await http(api, '/v1/models/simple')).json() as { state: { state: string }[] };
      return model.state.some((placement) => placement.state === 'READY');
    });
    const client = new TritonTestClient(`127.0.0.1:${proxy.triage.grpcPort}`, undefined, TEST_ADMIN_KEY);
    clients.push(client);
    await waitFor('the proxy routes simple', 10_000, async () => proxy.triage.pool.candidates('simple', '').length > 0);
    const reply = await client.unary<{ raw_output_contents: Buffer[] }>('ModelInfer', inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(Array.from({ length: 16 }, (_, i) => i)) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(new Array<number>(16).fill(2)) },
    ]));
    assert.deepEqual(readInt32(reply.raw_output_contents[0] as Buffer), Array.from({ length: 16 }, (_, i) => i + 2));

    const rows = Array.from({ length: 20 }, (_, row) => JSON.stringify({ custom_id: `r-${row}`, inputs: { INPUT0: [Array.from({ length: 16 }, () => row)], INPUT1: [new Array<number>(16).fill(1)] } })).join('\n');
    const created = await http(api, '/v1/jobs?model=simple', { method: 'POST', body: rows, headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(created.status, 201, await created.clone().text());
    const jobId = (await created.json() as { id: string }).id;
    await waitFor('the job completed by the worker process', 30_000, async () => {
      const job = await (await http(api, `/v1/jobs/${jobId}`)).json() as { status: string };
      return job.status === 'completed';
    });
    const job = await (await http(api, `/v1/jobs/${jobId}`)).json() as { counts?: Record<string, number>; request_counts?: Record<string, number> };
    assert.equal(JSON.stringify(job).includes('"completed":20'), true, JSON.stringify(job));
  });

  it('reports a proxy not ready while no instance is, and an api ready all the same (it needs Redis, not an instance)', async () => {
    const redisPrefix = uniquePrefix();
    const lonelyProxy = await startTriageFixture(['127.0.0.1:1'], { roles: parseRoles('proxy', '--roles'), redisPrefix, tritonMetricsPort: -1 });
    parts.push(lonelyProxy);
    const lonelyApi = await startTriageFixture(['127.0.0.1:1'], { roles: parseRoles('api', '--roles'), redisPrefix, tritonMetricsPort: -1 });
    parts.push(lonelyApi);
    const proxyReady = await http(lonelyProxy, '/readyz');
    assert.equal(proxyReady.status, 503);
    assert.deepEqual((await proxyReady.json() as { roles: unknown }).roles, { proxy: false });
    const apiReady = await http(lonelyApi, '/readyz');
    assert.equal(apiReady.status, 200);
    assert.deepEqual((await apiReady.json() as { roles: unknown }).roles, { api: true });
  });
});
