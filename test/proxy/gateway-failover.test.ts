import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, int32Buffer, readFloat32, readInt32 } from '../support/infer-request';
import { spawnLocalTriton, type LocalTritonProcess } from '../support/local-triton-process';
import { statsCounts } from '../support/model-statistics';
import { TempRepository } from '../support/temp-repository';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

interface InferResponse {
  id: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

/** One call made by a load loop: when it started and settled, and how. */
interface CallRecord {
  readonly startMs: number;
  readonly endMs: number;
  readonly error: ServiceError | null;
}

const LOOPS = 8;
const CALL_DEADLINE_MS = 4_000;
/** identity_slow keeps a lone request queued this long (dynamic batching without a preferred size). */
const SLOW_DELAY_MS = 600;

const range = <T = number>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function simpleRequest(id: string, value: number): Record<string, unknown> {
  return inferRequest('simple', [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16, (i) => i + value)) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16, () => 1)) },
  ], { id });
}

/** Polls `condition` every 25 ms; resolves with the time it first held, or null after timeoutMs. */
async function firstTimeTrue(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const limit = Date.now() + timeoutMs;
  while (Date.now() < limit) {
    if (await condition()) return Date.now();
    await sleep(25);
  }
  return null;
}

/**
 * LOOPS concurrent loops of ModelInfer on simple through a client, each call with a
 * deadline, until stop() is called. Every call is recorded; a wrong answer fails the test.
 */
class SteadyLoad {
  readonly calls: CallRecord[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly client: TritonTestClient) {
    this.loops = range(LOOPS, (loop) => this.loop(loop));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Calls that failed and settled at or after `sinceMs` (or, with untilMs, before it). */
  failures(sinceMs: number, untilMs = Infinity): CallRecord[] {
    return this.calls.filter((call) => call.error !== null && call.endMs >= sinceMs && call.endMs < untilMs);
  }

  private async loop(loop: number): Promise<void> {
    for (let index = 0; this.running; index++) {
      const startMs = Date.now();
      const value = loop * 100_000 + index;
      try {
        const response = await this.client.unary<InferResponse>('ModelInfer', simpleRequest(`load-${loop}-${index}`, value), { timeoutMs: CALL_DEADLINE_MS });
        assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), range(16, (i) => i + value + 1), 'a wrong answer under failover');
        this.calls.push({ startMs, endMs: Date.now(), error: null });
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        this.calls.push({ startMs, endMs: Date.now(), error: error as ServiceError });
      }
    }
  }
}

describe('gateway: failover over three local-triton child processes', function () {
  this.timeout(60_000);
  let repository: TempRepository | undefined;
  /** The current process of each instance (a restarted one replaces the killed one). */
  const children: LocalTritonProcess[] = [];
  const everyChild: LocalTritonProcess[] = [];
  let gateway: TriageFixture | undefined;

  before(async () => {
    repository = new TempRepository().copySample('simple').writeModel('identity_slow', `name: "identity_slow"
backend: "identity"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
dynamic_batching { max_queue_delay_microseconds: ${SLOW_DELAY_MS * 1000} }
`);
    const path = repository.path;
    const started = await Promise.allSettled(range(3, () => spawnLocalTriton({ modelRepository: path })));
    for (const result of started) {
      if (result.status !== 'fulfilled') continue;
      children.push(result.value);
      everyChild.push(result.value);
    }
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    gateway = await startTriageFixture(children.map((child) => child.address));
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all(everyChild.map((child) => child.kill()));
    repository?.remove();
  });

  const triage = (): TriageFixture => gateway as TriageFixture;
  const poolEntry = (address: string) => triage().triage.pool.list().find((instance) => instance.address === address);

  it('graceful shutdown: stop() lets the calls in flight finish, and refuses new ones meanwhile', async () => {
    const draining = await startTriageFixture(children.map((child) => child.address), { shutdownGraceMs: 10_000 });
    try {
      const finished: number[] = [];
      const inFlight = range(6, (index) => draining.client.unary<InferResponse>('ModelInfer',
        inferRequest('identity_slow', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 3], raw: float32Buffer([index, index + 0.5, -index]) }], { id: `drain-${index}` }),
        { timeoutMs: 10_000 }).then((response) => { finished.push(Date.now()); return response; }));
      const outstanding = (): number => draining.triage.pool.list().reduce((sum, instance) => sum + instance.outstanding, 0);
      assert.notEqual(await firstTimeTrue(() => outstanding() === 6, 3_000), null, `only ${outstanding()} of 6 calls reached the instances`);

      const stopStartedMs = Date.now();
      let stoppedMs = 0;
      const stopped = draining.triage.stop().then(() => { stoppedMs = Date.now(); });
      await sleep(50);
      assert.equal(stoppedMs, 0, 'stop() resolved while calls were in flight');
      const late = await draining.client.unary('ModelInfer', inferRequest('identity_slow', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], raw: float32Buffer([9]) }]), { timeoutMs: 3_000 })
        .then(() => null, (error: ServiceError) => error);
      assert.ok(late !== null, 'a call started after stop() was accepted');
      assert.equal(late.code, status.UNAVAILABLE, `a call started after stop(): ${late.code} ${late.details}`);

      const responses = await Promise.all(inFlight);
      responses.forEach((response, index) => {
        assert.equal(response.id, `drain-${index}`);
        assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), [index, index + 0.5, -index]);
      });
      await stopped;
      assert.ok(stoppedMs >= Math.max(...finished), 'stop() resolved before the last call in flight finished');
      assert.ok(stoppedMs - stopStartedMs < 5_000, `stop() took ${stoppedMs - stopStartedMs} ms: it waited for the grace period instead of the calls`);
    } finally {
      await draining.stop();
    }
  });

  it('SIGKILL of one instance under load: only its calls in flight fail, traffic moves within 2 s, and it is re-admitted within 5 s of coming back', async () => {
    const victimIndex = 0;
    const victim = children[victimIndex] as LocalTritonProcess;
    const load = new SteadyLoad(triage().client);
    let restartedClient: TritonTestClient | null = null;
    try {
      // Warm up until every instance, the victim included, is taking part of the load.
      const direct = children.map((child) => new TritonTestClient(child.address));
      const before = await Promise.all(direct.map((client) => statsCounts(client, 'simple')));
      const everyoneServing = await firstTimeTrue(async () => {
        const now = await Promise.all(direct.map((client) => statsCounts(client, 'simple')));
        return now.every((counts, index) => counts.inferences > (before[index]?.inferences ?? 0));
      }, 5_000).finally(() => { for (const client of direct) client.close(); });
      assert.ok(everyoneServing !== null, 'the load did not reach all three instances within 5 s');
      await sleep(300);
      assert.ok(load.calls.length >= LOOPS, `only ${load.calls.length} calls in the warm-up`);
      assert.deepEqual(load.failures(0), [], 'calls failed before the kill');

      const killMs = Date.now();
      await victim.kill();
      // Traffic must be back on the survivors well within 2 s: wait 2.5 s under load.
      await sleep(2_500);
      const afterKill = load.calls.filter((call) => call.endMs >= killMs);
      const failures = load.failures(killMs);
      assert.ok(failures.length <= LOOPS, `${failures.length} calls failed after the kill: more than the ${LOOPS} that can be in flight`);
      for (const failure of failures) {
        const error = failure.error as ServiceError;
        assert.ok(error.code === status.UNAVAILABLE || error.code === status.CANCELLED, `a call failed with ${error.code} ${error.details}`);
        assert.ok(error.details.length > 0, 'a failure without a message');
        // A call refused before it reached the instance was never in flight there: it must have been retried elsewhere.
        assert.doesNotMatch(error.details, /No connection established|ECONNREFUSED/, 'a call that never reached the killed instance failed instead of moving');
        assert.ok(failure.startMs <= killMs + 2_000, `a call started ${failure.startMs - killMs} ms after the kill failed: ${error.details}`);
      }
      const slowest = Math.max(...afterKill.map((call) => call.endMs - call.startMs));
      assert.ok(slowest < 2_000, `a call took ${slowest} ms around the kill (deadline ${CALL_DEADLINE_MS} ms)`);

      // Recovered: the first of RUN consecutive successes (in the order calls settled), none failing after it.
      const RUN = 50;
      const settled = [...afterKill].sort((a, b) => a.endMs - b.endMs);
      let runStart = -1;
      for (let index = 0, run = 0; index < settled.length; index++) {
        run = (settled[index] as CallRecord).error === null ? run + 1 : 0;
        if (run === RUN) { runStart = index - RUN + 1; break; }
      }
      assert.ok(runStart >= 0, `no run of ${RUN} consecutive successes after the kill (${afterKill.length} calls, ${failures.length} failed)`);
      const recoveredMs = (settled[runStart] as CallRecord).endMs;
      assert.ok(recoveredMs - killMs < 2_000, `the first run of ${RUN} consecutive successes began ${recoveredMs - killMs} ms after the kill`);
      assert.deepEqual(settled.slice(runStart).filter((call) => call.error !== null).map((call) => call.error?.details), [], 'calls failed after the recovery');
      assert.equal(poolEntry(victim.address)?.health, 'ejected');
      assert.equal(triage().triage.pool.candidates('simple', '').length, 2);

      // Back on the same port: re-admitted, and taking traffic again, within 5 s.
      const restarted = await spawnLocalTriton({ modelRepository: (repository as TempRepository).path, grpcPort: victim.port });
      const backMs = Date.now();
      children[victimIndex] = restarted;
      everyChild.push(restarted);
      restartedClient = new TritonTestClient(restarted.address);
      const newClient = restartedClient;
      const healthyMs = await firstTimeTrue(() => poolEntry(restarted.address)?.health === 'healthy', 5_000);
      const servingMs = await firstTimeTrue(async () => (await statsCounts(newClient, 'simple')).inferences > 0, 5_000);
      assert.ok(healthyMs !== null, `the restarted instance was not re-admitted within 5 s (pool says ${poolEntry(restarted.address)?.health}: ${poolEntry(restarted.address)?.lastError})`);
      assert.ok(servingMs !== null, 'the restarted instance received no traffic within 5 s of coming back');
      assert.ok(servingMs - backMs < 5_000, `traffic reached the restarted instance ${servingMs - backMs} ms after it came back`);
      assert.deepEqual(load.failures(killMs + 2_000).map((call) => call.error?.details), [], 'calls failed after the failover settled');
    } finally {
      await load.stop();
      restartedClient?.close();
    }
    assert.deepEqual(load.failures(Date.now() - 1_000), [], 'calls failed at the end of the run');
  });

  it('with every instance down, calls fail fast with UNAVAILABLE and ServerReady turns false', async () => {
    assert.deepEqual(await triage().client.unary('ServerReady', {}), { ready: true });
    const killMs = Date.now();
    await Promise.all(children.map((child) => child.kill()));
    const notReady = firstTimeTrue(async () => !(await triage().client.unary<{ ready: boolean }>('ServerReady', {})).ready, 3_000);
    const attempts: { elapsedMs: number; error: ServiceError | null }[] = [];
    await Promise.all(range(4, async (worker) => {
      for (let index = 0; index < 10; index++) {
        const startMs = Date.now();
        const error = await triage().client.unary('ModelInfer', simpleRequest(`down-${worker}-${index}`, index), { timeoutMs: 5_000 })
          .then(() => null, (failure: ServiceError) => failure);
        attempts.push({ elapsedMs: Date.now() - startMs, error });
      }
    }));
    for (const attempt of attempts) {
      assert.ok(attempt.error !== null, 'a call succeeded with every instance down');
      assert.equal(attempt.error.code, status.UNAVAILABLE, `${attempt.error.code} ${attempt.error.details}`);
      assert.ok(attempt.elapsedMs < 1_000, `a call took ${attempt.elapsedMs} ms to fail`);
    }
    const notReadyMs = await notReady;
    assert.ok(notReadyMs !== null, 'ServerReady still true 3 s after every instance died');
    assert.ok(notReadyMs - killMs < 2_000, `ServerReady turned false ${notReadyMs - killMs} ms after the kill`);
    assert.deepEqual(await triage().client.unary('ServerLive', {}), { live: true }, 'triage itself stays live');

    const startMs = Date.now();
    const refused = await triage().client.unary('ModelInfer', simpleRequest('down-late', 1), { timeoutMs: 5_000 }).then(() => null, (failure: ServiceError) => failure);
    assert.ok(refused !== null);
    assert.equal(refused.code, status.UNAVAILABLE);
    assert.match(refused.details, /no instance can serve model 'simple'/);
    assert.ok(Date.now() - startMs < 1_000, `the call took ${Date.now() - startMs} ms to fail`);
  });
});
