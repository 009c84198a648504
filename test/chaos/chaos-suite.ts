import { Metadata } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { after, describe, it } from 'mocha';
import { CHUNK_QUEUE } from '../../src/jobs/execution/chunk-queue';
import { closeRedisClient, createRedisClient } from '../../src/redis/redis-client';
import { RedisKeys } from '../../src/redis/redis-keys';
import { calendarPeriods } from '../../src/tenancy/quota-checks';
import { TritonClient } from '../../src/triton/triton-client';
import { instanceModels } from '../controller/controller-fixture';
import { inferRequest, int32Buffer } from '../support/infer-request';
import { TEST_ADMIN_KEY, uniquePrefix } from '../support/test-redis';
import { ApiPool } from './api-pool';
import { ChaosStack, SLOW_MODEL, type ChaosRole, type KillRecord } from './chaos-stack';
import { InferenceLoad, type LoadFigures } from './inference-load';
import { checkResultLines, ROW_INPUT1, rowInput0, simpleJobBody } from './job-rows';

/** A Redis for one run of the suite: a single redis-server or a local cluster. */
export interface ChaosRedisTarget {
  readonly name: string;
  start(): Promise<{ readonly url: string; stop(): Promise<void> }>;
}

/** The issue's figure; CHAOS_JOB_ROWS overrides it (a smaller machine, a quicker look). */
const JOB_ROWS = jobRows(process.env['CHAOS_JOB_ROWS']);
/** The budgeted tenant's daily_requests: its callers offer about 10/s for ~40 s, so they try well past it. */
const DAILY_REQUESTS = 150;
const LEASE_TTL_MS = 2000;
const STALL_TIMEOUT_MS = 2000;
/** How long a killed process stays down before it is restarted. */
const DOWN_MS = 2500;
/** Between one role's restart and the next kill. */
const PAUSE_MS = 2000;
const WARM_UP_MS = 3000;

type RedisClient = ReturnType<typeof createRedisClient>;

function jobRows(text: string | undefined): number {
  const rows = Number(text ?? 100_000);
  if (!Number.isInteger(rows) || rows < 1000) throw new Error(`CHAOS_JOB_ROWS must be an integer of at least 1000, not '${text ?? ''}'`);
  return rows;
}

interface CreatedTenant {
  readonly id: string;
  readonly key: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True when the proxy's /metrics shows calls in flight on an instance. */
async function proxyHoldsCalls(httpBase: string): Promise<boolean> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  return text.split('\n').some((line) => line.startsWith('triage_instance_in_flight{') && Number(line.slice(line.lastIndexOf(' ') + 1)) > 0);
}

/** Attempts that reached a proxy and were cut (not refused a connection, not rate limited), over every load. */
function cutAttempts(loads: readonly InferenceLoad[]): number {
  return loads.reduce((sum, load) => sum + load.figures().interrupted, 0);
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | false>, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

function describeFigures(name: string, figures: LoadFigures): string {
  const errors = Object.entries(figures.retryableErrors).map(([code, count]) => `${code} x${count}`).join(', ');
  return `${name}: ${figures.calls} calls, ${figures.ok} ok (${figures.okByProxy.join('/')} by proxy), ${figures.refused} refused, ${figures.failed.length} failed, ${figures.unsettled} unsettled; `
    + `${figures.retried} retried (most attempts ${figures.maxAttempts}; retryable errors: ${errors === '' ? 'none' : errors})`;
}

/**
 * The chaos test of issue 8, against one Redis target: a split deployment (2 processes of
 * each role, 3 local-triton) under steady inference traffic of two tenants (one with a
 * daily budget) and a batch job, while one process of each role in turn, the leading
 * controller for the controller role, is SIGKILLed and restarted. Then: no call lost,
 * the job complete with every custom_id once, the budget exact, the controller converged.
 */
export function describeChaos(target: ChaosRedisTarget): void {
  describe(`chaos (${target.name} Redis): SIGKILL and restart of one process of each role, then a rolling SIGTERM restart of the others, under load and a ${JOB_ROWS}-row job`, function () {
    this.timeout(360_000);
    let redis: { readonly url: string; stop(): Promise<void> } | null = null;
    let stack: ChaosStack | null = null;
    let client: RedisClient | null = null;
    const loads: InferenceLoad[] = [];
    const grpcClients: TritonClient[] = [];

    after(async () => {
      await Promise.all(loads.map((load) => load.stop(1_000)));
      for (const each of grpcClients) each.close();
      if (client !== null) await closeRedisClient(client);
      await stack?.stop();
      await redis?.stop();
    });

    it('no inference lost, the job complete with every custom_id once, the budget exact, the controller converged', async () => {
      const began = performance.now();
      redis = await target.start();
      const keys = new RedisKeys(uniquePrefix());
      client = createRedisClient({ url: redis.url, name: 'test:chaos', failFast: false });
      const redisClient = client;
      const up = await ChaosStack.start({
        redisUrl: redis.url, redisPrefix: keys.prefix, instances: 3, copies: 2, leaseTtlMs: LEASE_TTL_MS, stallTimeoutMs: STALL_TIMEOUT_MS,
        chunkRows: 400, workerConcurrency: 2, globalConcurrency: 4,
      });
      stack = up;
      const startedMs = performance.now() - began;
      const api = new ApiPool(() => up.apiBases());
      const instanceClients = up.instances.map((instance) => new TritonClient(instance.address, { maxMessageBytes: 4 * 1024 * 1024 }));
      grpcClients.push(...instanceClients);
      const MODELS = ['simple', SLOW_MODEL] as const;
      /** Each model's instances where it is READY, as the instances themselves say (RepositoryIndex). */
      const readyOn = async (): Promise<Record<string, string[]>> => {
        const indexes = await Promise.all(instanceClients.map((each) => instanceModels(each)));
        return Object.fromEntries(MODELS.map((model) => [model,
          up.instances.filter((_, index) => (indexes[index]?.get(model)?.ready.length ?? 0) > 0).map((instance) => instance.address)]));
      };
      const leaseOwnerPid = async (): Promise<number | null> => {
        const owner = await redisClient.get(keys.controllerLease());
        // hostname:pid:random
        return owner === null ? null : Number(owner.split(':').at(-2));
      };

      // The deployments: each model on 2 of the 3 instances.
      for (const model of MODELS) await api.json(202, 'POST', `/v1/models/${model}/deploy`, { replicas: 2 });
      await waitFor('both models READY on two instances each', 30_000, async () => Object.values(await readyOn()).every((where) => where.length === 2));
      const placedBefore = await readyOn();

      // Two tenants through the api: one without limits, one with a daily budget.
      const createTenant = async (quotas: Record<string, unknown> | null): Promise<CreatedTenant> => {
        const tenant = await api.json<{ id: string }>(201, 'POST', '/v1/tenants', { name: `chaos-${Math.random().toString(36).slice(2, 10)}` });
        if (quotas !== null) await api.json(200, 'PUT', `/v1/tenants/${tenant.id}/quotas`, quotas);
        const created = await api.json<{ key: string }>(201, 'POST', `/v1/tenants/${tenant.id}/keys`, { scopes: ['infer'] });
        return { id: tenant.id, key: created.key };
      };
      const steadyTenant = await createTenant(null);
      const budgetTenant = await createTenant({ daily_requests: DAILY_REQUESTS });
      const firstDay = calendarPeriods(Date.now()).day;

      // Every proxy routes simple before the load begins (the admin key spends no tenant's budget).
      const adminMetadata = new Metadata();
      adminMetadata.set('authorization', `Bearer ${TEST_ADMIN_KEY}`);
      for (const address of up.proxyAddresses()) {
        const proxyClient = new TritonClient(address, { maxMessageBytes: 4 * 1024 * 1024 });
        grpcClients.push(proxyClient);
        for (const model of MODELS) {
          const probeRequest = inferRequest(model, [
            { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(rowInput0(1)) },
            { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(ROW_INPUT1) },
          ]);
          await waitFor(`the proxy at ${address} routes ${model}`, 20_000, () => proxyClient.unary('ModelInfer', probeRequest, { metadata: adminMetadata, timeoutMs: 5_000 }).then(() => true, () => false), 200);
        }
      }

      // Steady traffic: simple at 60 calls/s; the slow model keeps a few calls in flight on each proxy at any moment
      // (so a proxy's kill cuts calls it holds); the budgeted tenant at 10 calls/s, past its budget.
      const proxies = up.proxyAddresses();
      const steady = new InferenceLoad({ proxies, apiKey: steadyTenant.key, model: 'simple', callers: 4, ratePerCaller: 15, refusal: null });
      const slow = new InferenceLoad({ proxies, apiKey: steadyTenant.key, model: SLOW_MODEL, callers: 4, ratePerCaller: 2, refusal: null });
      const budgeted = new InferenceLoad({ proxies, apiKey: budgetTenant.key, model: 'simple', callers: 2, ratePerCaller: 5, refusal: /^daily_requests of tenant /u });
      loads.push(steady, slow, budgeted);
      for (const load of loads) load.start();

      // The job, through an api process, while the load runs.
      const submittedAt = performance.now();
      const created = await api.request('POST', '/v1/jobs?model=simple', simpleJobBody(JOB_ROWS), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, 120_000);
      assert.equal(created.status, 201, created.text.slice(0, 500));
      const jobId = (JSON.parse(created.text) as { id: string }).id;
      const uploadMs = performance.now() - submittedAt;
      const jobState = async (): Promise<{ status: string; created_at: string; completed_at: string | null; request_counts: { total: number; completed: number; failed: number } }> =>
        api.json(200, 'GET', `/v1/jobs/${jobId}`);

      await sleep(WARM_UP_MS);

      // One process of each role in turn; for the controller, the leader. The worker goes
      // first, once a tenth of the job is done, so that its kill lands in the middle of the job.
      const notes: string[] = [];
      const killOne = async (role: ChaosRole, index: number, note: string, whileDown: () => Promise<string> = async () => ''): Promise<KillRecord> => {
        const killed = await up.kill(role, index);
        const [downNote] = await Promise.all([whileDown(), sleep(DOWN_MS)]);
        const record = await up.restart(role, index, killed, [note, downNote].filter((text) => text !== '').join('; '));
        notes.push(`${role} #${index} (pid ${record.pid}${record.note === '' ? '' : `, ${record.note}`}): ready again ${record.recoveryMs} ms after SIGKILL`);
        await sleep(PAUSE_MS);
        return record;
      };
      const atWorkerKill = await waitFor('a tenth of the job done', 60_000, async () => {
        const state = await jobState();
        return state.request_counts.completed >= JOB_ROWS / 10 || state.status === 'completed' ? state : null;
      }, 50);
      assert.equal(atWorkerKill.status, 'in_progress', 'the job is still running when the worker is killed (raise CHAOS_JOB_ROWS)');
      await killOne('worker', 0, `job at ${atWorkerKill.request_counts.completed}/${atWorkerKill.request_counts.total} rows`);
      await killOne('proxy', 0, '');
      const servedByRestartedProxy = steady.figures().okByProxy[0] ?? 0;
      await killOne('api', 0, '', async () => {
        // The other api answers while this one is down.
        const state = await jobState();
        return `job ${state.status} ${state.request_counts.completed}/${state.request_counts.total} rows read through the other api while down`;
      });
      const leaderPid = await waitFor('a controller leads', 10_000, leaseOwnerPid);
      const controllers = up.of('controller');
      const leader = controllers.find((member) => member.current.child.pid === leaderPid);
      const standby = controllers.find((member) => member !== leader);
      assert.ok(leader !== undefined && standby !== undefined, `the lease names one of the two controllers (pid ${leaderPid})`);
      let takeoverMs = Infinity;
      await killOne('controller', leader.index, 'the leader', async () => {
        const killedAt = performance.now();
        await waitFor('the standby controller takes the lease', LEASE_TTL_MS * 3, async () => (await leaseOwnerPid()) === standby.current.child.pid, 25);
        takeoverMs = Math.round(performance.now() - killedAt);
        return `standby took the lease ${takeoverMs} ms after the kill`;
      });

      // A rolling restart: SIGTERM of the other process of each role, under the same load. A graceful
      // stop drains: no call it holds is cut (no CANCELLED or reset attempt), it exits 0 by itself.
      const cutBeforeRolling = cutAttempts([steady, slow, budgeted]);
      for (const role of ['proxy', 'api', 'worker', 'controller'] as const) {
        // The proxy is signalled while it holds a call of the slow model (queued up to 300 ms at the instance): the
        // call must still be answered, after the signal. A call can leave early in a batch with others: then try again.
        let held: { settledAt: number; answer: Promise<unknown>; client: TritonClient } | null = null;
        if (role === 'proxy') {
          const proxyBase = up.member('proxy', 1).current.httpBase;
          for (let attempt = 0; attempt < 10 && held === null; attempt += 1) {
            const client = new TritonClient(up.proxyAddresses()[1] as string, { maxMessageBytes: 4 * 1024 * 1024 });
            const request = inferRequest(SLOW_MODEL, [
              { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(rowInput0(7)) },
              { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(ROW_INPUT1) },
            ]);
            const candidate = { settledAt: Infinity, answer: Promise.resolve() as Promise<unknown>, client };
            candidate.answer = client.unary('ModelInfer', request, { metadata: adminMetadata, timeoutMs: 10_000 }).finally(() => { candidate.settledAt = performance.now(); });
            // Until the proxy reports calls in flight on an instance while this one is still unanswered.
            const deadline = performance.now() + 250;
            while (candidate.settledAt === Infinity && performance.now() < deadline && !(await proxyHoldsCalls(proxyBase))) await sleep(5);
            // No await between this check and the signal below: the answer cannot be taken in between.
            if ((await proxyHoldsCalls(proxyBase)) && candidate.settledAt === Infinity) held = candidate;
            else {
              await candidate.answer.catch(() => undefined);
              client.close();
            }
          }
          assert.ok(held !== null, 'caught the proxy holding the call within 10 tries');
        }
        const signalledAt = performance.now();
        const stopped = await up.terminate(role, 1);
        if (held !== null) {
          await held.answer.finally(() => held?.client.close());
          assert.ok(held.settledAt > signalledAt, 'the call the proxy held when signalled was answered after the signal');
        }
        assert.equal(stopped.signal, null, `${role} #1 stopped by itself on SIGTERM, not by the SIGKILL after 5 s (${stopped.stopMs} ms)`);
        assert.equal(stopped.exitCode, 0, `${role} #1 exited 0 on SIGTERM`);
        const record = await up.restart(role, 1, stopped, 'SIGTERM');
        notes.push(`${role} #1 (pid ${record.pid}, SIGTERM): stopped in ${stopped.stopMs} ms, ready again ${record.recoveryMs} ms after the signal`);
        await sleep(PAUSE_MS);
      }
      assert.equal(cutAttempts([steady, slow, budgeted]), cutBeforeRolling, 'no call cut by a graceful stop');

      const [steadyFigures, slowFigures, budgetFigures] = await Promise.all([steady.stop(), slow.stop(), budgeted.stop()]);

      // The job: completed, every custom_id exactly once, every answer right.
      const finished = await waitFor('the job to end', 180_000, async () => {
        const state = await jobState();
        return ['completed', 'failed', 'cancelled', 'expired'].includes(state.status) ? state : null;
      }, 250);
      const jobMs = Date.parse(finished.completed_at ?? '') - Date.parse(finished.created_at);
      assert.equal(finished.status, 'completed', JSON.stringify(finished));
      assert.deepEqual(finished.request_counts, { total: JOB_ROWS, completed: JOB_ROWS, failed: 0 });
      const results = await api.request('GET', `/v1/jobs/${jobId}/results`, undefined, {}, 60_000);
      assert.equal(results.status, 200);
      const { seen, duplicates, wrong, missing } = checkResultLines(results.text, JOB_ROWS);
      const errors = await api.request('GET', `/v1/jobs/${jobId}/errors`, undefined, {}, 60_000);
      assert.equal(errors.status, 200);
      assert.equal(errors.text, '', 'no row failed');
      assert.equal(duplicates, 0, 'no custom_id twice');
      assert.equal(seen.size, JOB_ROWS, 'every custom_id once');
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} rows without a result`);
      assert.equal(wrong, 0, 'every OUTPUT0 is INPUT0 + INPUT1');
      // The worker's kill cut chunks it was running: the other worker took them over and ran them again, and they still count once.
      const queue = new Queue(CHUNK_QUEUE, { connection: redisClient, prefix: keys.bullPrefix() });
      let rerun: number;
      try {
        rerun = (await queue.getJobs(['completed'], 0, -1)).filter((chunk) => chunk.stalledCounter > 0).length;
      } finally {
        await queue.close();
      }
      assert.ok(rerun > 0, 'at least one chunk was interrupted by the worker kill and run again');

      // No call lost: every call ended ok (or, for the budgeted tenant, refused by its budget).
      for (const [name, figures] of [['steady', steadyFigures], ['slow', slowFigures], ['budgeted', budgetFigures]] as const) {
        assert.equal(figures.unsettled, 0, `${name}: no call left without an answer`);
        assert.deepEqual(figures.failed, [], `${name}: every call succeeded or was refused by the budget`);
        assert.equal(figures.ok + figures.refused, figures.calls, `${name}: every call counted once`);
      }
      assert.equal(steadyFigures.refused + slowFigures.refused, 0);
      assert.ok(steadyFigures.ok > 1000 && slowFigures.ok > 100, `the steady load ran (${steadyFigures.ok} and ${slowFigures.ok} calls)`);
      const afterRestart = (steadyFigures.okByProxy[0] ?? 0) - servedByRestartedProxy;
      assert.ok(afterRestart > 100, `the restarted proxy served its share again (${afterRestart} calls since it was ready)`);

      // The budget is exact: admitted exactly DAILY_REQUESTS times over both proxies and every kill.
      // A call admitted and then cut by a killed proxy spends its request like any admitted one,
      // so the successes are DAILY_REQUESTS less at most the attempts that were interrupted.
      const days = [...new Set([firstDay, calendarPeriods(Date.now()).day])];
      const admitted = (await Promise.all(days.map((day) => redisClient.get(`${keys.admission(budgetTenant.id, null)}:req:d:${day}`))))
        .reduce((sum, value) => sum + Number(value ?? 0), 0);
      assert.equal(admitted, DAILY_REQUESTS, 'the budget counter stopped exactly at daily_requests');
      assert.ok(budgetFigures.calls > DAILY_REQUESTS + 50, `the budgeted tenant tried past its budget (${budgetFigures.calls} calls)`);
      assert.ok(budgetFigures.ok <= DAILY_REQUESTS, `no more than ${DAILY_REQUESTS} successes (${budgetFigures.ok})`);
      assert.ok(budgetFigures.ok >= DAILY_REQUESTS - budgetFigures.interrupted,
        `${budgetFigures.ok} successes: only interrupted attempts (${budgetFigures.interrupted}) may have spent a request without an answer`);

      // The controller converged: each model READY on the same two instances, still so a few seconds later; one leader, alive.
      assert.deepEqual(await readyOn(), placedBefore, 'each model READY on the same two instances as before the kills');
      for (const model of MODELS) {
        const record = await api.json<{ state: { instance: string; state: string }[]; unplaced: unknown }>(200, 'GET', `/v1/models/${model}`);
        assert.deepEqual(record.state.filter((each) => each.state === 'READY').map((each) => each.instance).sort(), [...placedBefore[model] ?? []].sort(), `${model}: placement records`);
        assert.equal(record.unplaced, null);
      }
      await sleep(3000);
      assert.deepEqual(await readyOn(), placedBefore, 'placement stable');
      const owner = await leaseOwnerPid();
      const controllerPids = up.of('controller').map((member) => member.current.child.pid);
      assert.ok(owner !== null && controllerPids.includes(owner), `one leader, a running controller (lease pid ${owner}, controllers ${controllerPids.join(', ')})`);
      assert.ok(takeoverMs <= LEASE_TTL_MS + 1000, `the standby took over within the lease TTL (${takeoverMs} ms)`);
      for (const member of up.members) assert.ok(member.current.running(), `${member.role} #${member.index} running at the end`);

      const totalMs = performance.now() - began;
      console.log([
        `      figures (${target.name} Redis): stack of ${up.members.length} triage processes and ${up.instances.length} local-triton up in ${Math.round(startedMs)} ms`,
        `        ${describeFigures('steady tenant, simple', steadyFigures)}`,
        `        ${describeFigures(`steady tenant, ${SLOW_MODEL}`, slowFigures)}`,
        `        ${describeFigures('budgeted tenant', budgetFigures)}; budget counter ${admitted}/${DAILY_REQUESTS}, interrupted attempts ${budgetFigures.interrupted}`,
        `        job: ${JOB_ROWS} rows uploaded in ${Math.round(uploadMs)} ms, completed ${jobMs} ms after it was created, ${seen.size} distinct custom_ids, 0 duplicates, ${rerun} chunks run again after the worker kill`,
        ...notes.map((note) => `        kill: ${note}`),
        `        whole test ${Math.round(totalMs)} ms`,
      ].join('\n'));
    });
  });
}
