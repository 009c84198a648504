import { Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC } from './metric-names';

/** Seconds: 0.1 ms to 1 s (a PING on a local network takes well under a millisecond). */
const ROUND_TRIP_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export interface RedisProbeOptions {
  readonly intervalMs: number;
  /** A PING without an answer this long counts as Redis down. */
  readonly timeoutMs: number;
}

/**
 * PINGs the tenancy Redis client (the connection quota admission uses on the hot path)
 * every intervalMs: triage_redis_round_trip_seconds, and triage_redis_up (1 when the last
 * PING answered within timeoutMs). Invariant: after stop() resolves no timer is pending
 * and no PING is outstanding.
 */
export class RedisProbe {
  private readonly roundTrip: Histogram<string>;
  private readonly up: Gauge<string>;
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  private stopped = false;

  constructor(registry: Registry, private readonly redis: { ping(): Promise<string> }, private readonly options: RedisProbeOptions) {
    this.roundTrip = new Histogram({
      name: METRIC.redisRoundTrip, help: 'Round trip of a PING to Redis, every few seconds.', buckets: ROUND_TRIP_BUCKETS_SECONDS, registers: [registry],
    });
    this.up = new Gauge({ name: METRIC.redisUp, help: '1 when the last PING to Redis answered in time, else 0.', registers: [registry] });
  }

  /** Probes now, then every intervalMs. */
  start(): void {
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.probing;
  }

  /** One PING; resolves once its result is recorded. */
  async probeOnce(): Promise<void> {
    const startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs); });
    const answer = await Promise.race([this.redis.ping().catch(() => 'failed'), timedOut]);
    clearTimeout(timer);
    if (answer === 'PONG') {
      this.roundTrip.observe((performance.now() - startedAt) / 1000);
      this.up.set(1);
    } else {
      this.up.set(0);
    }
  }

  private run(): void {
    if (this.stopped) return;
    this.probing = this.probeOnce().finally(() => {
      this.probing = null;
      if (!this.stopped) this.timer = setTimeout(() => this.run(), this.options.intervalMs);
    });
  }
}
