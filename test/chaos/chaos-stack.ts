import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnLocalTriton, type LocalTritonProcess } from '../support/local-triton-process';
import { SAMPLE_REPOSITORY, TempRepository } from '../support/temp-repository';
import { spawnTriageProcess, type TriageRoleProcess } from '../support/triage-process';

/** The sample `simple` model with every request held SLOW_MODEL_DELAY_MS in its queue (batches never fill): calls stay in flight long enough for a kill to cut them. */
export const SLOW_MODEL = 'simple_slow';
export const SLOW_MODEL_DELAY_MS = 300;

function slowModelConfig(): string {
  const config = readFileSync(join(SAMPLE_REPOSITORY, 'simple', 'config.pbtxt'), 'utf8').replace('name: "simple"', `name: "${SLOW_MODEL}"`);
  return `${config}\ndynamic_batching { max_queue_delay_microseconds: ${SLOW_MODEL_DELAY_MS * 1000} }\n`;
}

export const CHAOS_ROLES = ['proxy', 'api', 'worker', 'controller'] as const;
export type ChaosRole = (typeof CHAOS_ROLES)[number];

export interface ChaosStackOptions {
  /** The Redis every triage process shares (redis:// or redis+cluster://). */
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** local-triton processes (explicit model control, one shared repository). */
  readonly instances: number;
  /** triage processes per role. */
  readonly copies: number;
  readonly leaseTtlMs: number;
  readonly stallTimeoutMs: number;
  /** --jobs-chunk-rows of the api processes (they cut jobs into chunks). */
  readonly chunkRows: number;
  /** --jobs-concurrency of each worker process. */
  readonly workerConcurrency: number;
  readonly globalConcurrency: number;
}

/** One triage process slot: its role, its flags and ports (kept across restarts), and the process now in it. */
export interface ChaosMember {
  readonly role: ChaosRole;
  readonly index: number;
  current: TriageRoleProcess;
  /** Every process that ran in this slot, the current one last. */
  readonly history: TriageRoleProcess[];
}

/** What one kill and restart took. */
export interface KillRecord {
  readonly role: ChaosRole;
  readonly index: number;
  readonly pid: number;
  readonly note: string;
  /** From SIGKILL to the restarted process answering /readyz 200. */
  readonly recoveryMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A split deployment on one machine, every part a child process: local-triton instances
 * on one temp repository (`simple` and SLOW_MODEL) and `copies` triage processes of each role, all on one Redis
 * prefix and admin key. A slot keeps its flags and ports, so a killed process comes back
 * where its clients expect it, as under an orchestrator. stop() ends everything it
 * started, whatever state it is in, and is idempotent.
 */
export class ChaosStack {
  readonly repository = new TempRepository().copySample('simple')
    .writeModel(SLOW_MODEL, slowModelConfig(), { 1: { 'model.onnx': readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx')) } });
  readonly instances: LocalTritonProcess[] = [];
  readonly members: ChaosMember[] = [];
  readonly kills: KillRecord[] = [];
  private readonly dataDirs: string[] = [];
  private stopped = false;

  private constructor(readonly options: ChaosStackOptions) {}

  /** Starts the instances, then every triage process (in parallel); on a failure, stops what started and rethrows. */
  static async start(options: ChaosStackOptions): Promise<ChaosStack> {
    const stack = new ChaosStack(options);
    try {
      const instances = await Promise.allSettled(Array.from({ length: options.instances }, () => spawnLocalTriton({
        modelRepository: stack.repository.path,
        args: ['--model-control-mode', 'explicit', '--strict-readiness', 'false'],
        readyTimeoutMs: 60_000,
      })));
      for (const outcome of instances) if (outcome.status === 'fulfilled') stack.instances.push(outcome.value);
      const failed = instances.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const slots = CHAOS_ROLES.flatMap((role) => Array.from({ length: options.copies }, (_, index) => ({ role, index })));
      const started = await Promise.allSettled(slots.map(async ({ role, index }) => {
        const current = await stack.spawn(role, index, 0, 0);
        stack.members.push({ role, index, current, history: [current] });
      }));
      const startFailure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (startFailure !== undefined) throw startFailure.reason;
      await Promise.all(stack.members.map((member) => stack.waitReady(member.current, 60_000)));
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  member(role: ChaosRole, index: number): ChaosMember {
    const found = this.members.find((member) => member.role === role && member.index === index);
    if (found === undefined) throw new Error(`no ${role} #${index} in the stack`);
    return found;
  }

  of(role: ChaosRole): ChaosMember[] {
    return this.members.filter((member) => member.role === role).sort((a, b) => a.index - b.index);
  }

  /** The proxies' gRPC addresses (fixed for the life of the stack: restarts reuse the ports). */
  proxyAddresses(): string[] {
    return this.of('proxy').map((member) => `127.0.0.1:${member.current.grpcPort ?? 0}`);
  }

  /** The HTTP base of every api process (fixed: restarts reuse the ports). */
  apiBases(): string[] {
    return this.of('api').map((member) => member.current.httpBase);
  }

  /** SIGKILL of the slot's process; resolves once it has exited, with its pid and when it was killed (performance.now()). */
  async kill(role: ChaosRole, index: number): Promise<{ pid: number; killedAt: number }> {
    const member = this.member(role, index);
    const pid = member.current.child.pid ?? -1;
    const killedAt = performance.now();
    await member.current.kill();
    return { pid, killedAt };
  }

  /**
   * SIGTERM of the slot's process (a rolling restart's step); resolves once it has exited,
   * with how it exited: a graceful stop ends with code 0 by itself, not by the SIGKILL that
   * follows 5 s later.
   */
  async terminate(role: ChaosRole, index: number): Promise<{ pid: number; killedAt: number; exitCode: number | null; signal: string | null; stopMs: number }> {
    const member = this.member(role, index);
    const pid = member.current.child.pid ?? -1;
    const killedAt = performance.now();
    await member.current.stop();
    return { pid, killedAt, exitCode: member.current.child.exitCode, signal: member.current.child.signalCode, stopMs: Math.round(performance.now() - killedAt) };
  }

  /**
   * The killed slot's process again, same flags, same ports; resolves once the new one
   * answers /readyz 200, with the time from the kill to then.
   */
  async restart(role: ChaosRole, index: number, killed: { pid: number; killedAt: number }, note: string): Promise<KillRecord> {
    const member = this.member(role, index);
    if (member.current.running()) throw new Error(`${role} #${index} is still running: kill it first`);
    const restarted = await this.spawn(role, index, member.current.grpcPort ?? 0, member.current.httpPort);
    member.current = restarted;
    member.history.push(restarted);
    await this.waitReady(restarted, 60_000);
    const record: KillRecord = { role, index, pid: killed.pid, note, recoveryMs: Math.round(performance.now() - killed.killedAt) };
    this.kills.push(record);
    return record;
  }

  /** Polls GET /readyz until 200; rejects with the last answer after timeoutMs. */
  async waitReady(process: TriageRoleProcess, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!process.running()) throw new Error(`triage pid ${process.child.pid ?? '?'} exited before it was ready: ${process.output().slice(-2000)}`);
      try {
        const answer = await fetch(`${process.httpBase}/readyz`, { signal: AbortSignal.timeout(2_000) });
        last = `${answer.status} ${await answer.text()}`;
        if (answer.status === 200) return;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`triage pid ${process.child.pid ?? '?'} not ready within ${timeoutMs} ms: ${last}`);
  }

  /** Kills every process (triage first, then the instances) and removes the temp folders. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.members.flatMap((member) => member.history.map((process) => process.kill())));
    await Promise.all(this.instances.map((instance) => instance.kill()));
    this.repository.remove();
    for (const dataDir of this.dataDirs) rmSync(dataDir, { recursive: true, force: true });
  }

  private spawn(role: ChaosRole, index: number, grpcPort: number, httpPort: number): Promise<TriageRoleProcess> {
    const { options } = this;
    const dataDir = mkdtempSync(join(tmpdir(), `triage-chaos-${role}-${index}-`));
    this.dataDirs.push(dataDir);
    return spawnTriageProcess({
      tritonUrls: this.instances.map((instance) => instance.address),
      redisUrl: options.redisUrl,
      redisPrefix: options.redisPrefix,
      grpcPort,
      httpPort,
      readyTimeoutMs: 60_000,
      args: [
        '--roles', role,
        '--model-repository', this.repository.path,
        '--data-dir', dataDir,
        '--triton-metrics-port', '-1',
        '--probe-interval', '500',
        '--probe-timeout', '2000',
        '--controller-lease-ttl', String(options.leaseTtlMs),
        '--controller-tick', '200',
        '--jobs-chunk-rows', String(options.chunkRows),
        '--jobs-concurrency', String(options.workerConcurrency),
        '--jobs-global-concurrency', String(options.globalConcurrency),
        '--jobs-stall-timeout', String(options.stallTimeoutMs),
        '--shutdown-grace', '2000',
      ],
    });
  }
}
