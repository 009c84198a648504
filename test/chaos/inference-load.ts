import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { TritonClient } from '../../src/triton/triton-client';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';

export interface InferenceLoadOptions {
  /** gRPC addresses of the proxies; a call goes to them in turn and is retried on the next. */
  readonly proxies: readonly string[];
  readonly apiKey: string;
  /** A model shaped like the sample `simple` (INT32 [16] + [16] -> sum, difference). */
  readonly model: string;
  readonly callers: number;
  /** Logical calls per second of each caller (a caller waits for its call before the next). */
  readonly ratePerCaller: number;
  /** A refusal matching this (RESOURCE_EXHAUSTED without retry-after-ms) ends a call as refused, not retried. */
  readonly refusal: RegExp | null;
  /** A call still failing with retryable errors this long after it began counts as failed. Default 30 s. */
  readonly callDeadlineMs?: number;
}

/** How the load went: every logical call ended as ok, refused or failed; none may be left unsettled. */
export interface LoadFigures {
  /** Logical calls begun. */
  readonly calls: number;
  readonly ok: number;
  /** Refused by the budget (no retry helps). */
  readonly refused: number;
  /** Calls that did not end in ok or refused, with why (a non-retryable error, or retries until the deadline). */
  readonly failed: readonly string[];
  /** Calls that needed more than one attempt. */
  readonly retried: number;
  /** Retryable failures of single attempts, by code and message. */
  readonly retryableErrors: Readonly<Record<string, number>>;
  /**
   * Attempts that reached a proxy and failed with a retryable error other than a rate limit
   * (the proxy killed under the call, or not routing): each may have been admitted, and
   * have spent quota, before it failed.
   */
  readonly interrupted: number;
  /** Successful attempts by proxy, in the order of `proxies`. */
  readonly okByProxy: readonly number[];
  /** Most attempts one call took. */
  readonly maxAttempts: number;
  /** Calls begun but never settled by the time stop() gave up waiting: lost. */
  readonly unsettled: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A retryable failure of one attempt, named for the figures, or null when the error is
 * final. UNAVAILABLE: the proxy is down or cannot route; CANCELLED or a reset stream: the
 * proxy holding the call died; RESOURCE_EXHAUSTED with retry-after-ms: a rate limit.
 */
function retryableReason(error: ServiceError): string | null {
  if (error.code === status.UNAVAILABLE) return 'UNAVAILABLE';
  if (error.code === status.CANCELLED) return 'CANCELLED';
  if (error.code === status.INTERNAL && /RST_STREAM|ECONNRESET|connection|socket hang up/i.test(error.details)) return 'INTERNAL (connection reset)';
  if (error.code === status.RESOURCE_EXHAUSTED && error.metadata.get('retry-after-ms').length > 0) return 'RESOURCE_EXHAUSTED (retry-after-ms)';
  return null;
}

/**
 * Closed-loop callers of ModelInfer on a `simple`-shaped model through several proxies, each paced to
 * its rate, as clients behind a load balancer: each call starts on the next proxy in
 * turn, and a retryable failure is retried on the next one after a short backoff until
 * it succeeds, is refused by the budget, or its deadline passes. Every answer's OUTPUT0
 * is checked against the call's own inputs. stop() lets the calls in flight settle.
 */
export class InferenceLoad {
  private readonly clients: TritonClient[];
  private readonly metadata = new Metadata();
  private running = false;
  private loops: Promise<void>[] = [];
  private begun = 0;
  private ok = 0;
  private refused = 0;
  private retried = 0;
  private interrupted = 0;
  private readonly okByProxy: number[];
  private maxAttempts = 0;
  private readonly failed: string[] = [];
  private readonly retryableErrors: Record<string, number> = {};
  private next = 0;

  constructor(private readonly options: InferenceLoadOptions) {
    this.clients = options.proxies.map((address) => new TritonClient(address, { maxMessageBytes: 4 * 1024 * 1024, reconnect: true }));
    this.metadata.set('authorization', `Bearer ${options.apiKey}`);
    this.okByProxy = options.proxies.map(() => 0);
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.callers }, (_, caller) => this.loop(caller));
  }

  /** Figures so far (while running: calls in flight are in `calls` only). */
  figures(unsettled = 0): LoadFigures {
    return {
      calls: this.begun, ok: this.ok, refused: this.refused, failed: [...this.failed], retried: this.retried, retryableErrors: { ...this.retryableErrors },
      interrupted: this.interrupted, okByProxy: [...this.okByProxy], maxAttempts: this.maxAttempts, unsettled,
    };
  }

  /** Stops starting calls, waits up to waitMs for those in flight, closes the channels. Idempotent. */
  async stop(waitMs = 40_000): Promise<LoadFigures> {
    this.running = false;
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.all(this.loops).then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), waitMs); }),
    ]);
    clearTimeout(timer);
    for (const client of this.clients) client.close();
    const unsettled = settled ? 0 : this.begun - this.ok - this.refused - this.failed.length;
    return this.figures(unsettled);
  }

  private async loop(caller: number): Promise<void> {
    const periodMs = 1000 / this.options.ratePerCaller;
    // Callers start spread over one period, so they do not beat together.
    await sleep((periodMs * caller) / this.options.callers);
    let sequence = 0;
    while (this.running) {
      const began = Date.now();
      await this.call(caller * 1_000_000 + sequence++);
      const rest = periodMs - (Date.now() - began);
      if (rest > 0) await sleep(rest);
    }
  }

  /** One logical call, with its retries; never rejects. */
  private async call(seed: number): Promise<void> {
    this.begun += 1;
    const deadline = Date.now() + (this.options.callDeadlineMs ?? 30_000);
    const a = Array.from({ length: 16 }, (_, i) => (seed + i) % 100_000);
    const b = Array.from({ length: 16 }, (_, i) => i * 3);
    const request = inferRequest(this.options.model, [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(b) },
    ]);
    let proxy = this.next++ % this.clients.length;
    for (let attempt = 1; ; attempt++) {
      this.maxAttempts = Math.max(this.maxAttempts, attempt);
      const client = this.clients[proxy] as TritonClient;
      try {
        const reply = await client.unary<{ raw_output_contents: Buffer[] }>('ModelInfer', request, { metadata: this.metadata, timeoutMs: 10_000 });
        const sum = readInt32(reply.raw_output_contents[0] ?? Buffer.alloc(0));
        const expected = a.map((value, i) => value + (b[i] as number));
        if (sum.join(',') === expected.join(',')) {
          this.ok += 1;
          this.okByProxy[proxy] = (this.okByProxy[proxy] ?? 0) + 1;
        } else this.failed.push(`wrong OUTPUT0 from ${client.address}: ${sum.slice(0, 4).join(',')}... for ${expected.slice(0, 4).join(',')}...`);
        if (attempt > 1) this.retried += 1;
        return;
      } catch (caught) {
        const error = caught as ServiceError;
        if (this.options.refusal !== null && error.code === status.RESOURCE_EXHAUSTED && this.options.refusal.test(error.details)) {
          this.refused += 1;
          if (attempt > 1) this.retried += 1;
          return;
        }
        const reason = retryableReason(error);
        if (reason === null) {
          this.failed.push(`${status[error.code] ?? error.code} from ${client.address} on attempt ${attempt}: ${error.details}`);
          return;
        }
        // Counted by code and message (numbers masked): a refused connection and a dropped call read apart.
        const kind = `${reason} '${error.details.replace(/[0-9]+/g, 'N').slice(0, 80)}'`;
        this.retryableErrors[kind] = (this.retryableErrors[kind] ?? 0) + 1;
        // A call that never reached a proxy ('No connection established') cannot have been admitted.
        if (reason !== 'RESOURCE_EXHAUSTED (retry-after-ms)' && !error.details.startsWith('No connection established')) this.interrupted += 1;
        if (Date.now() >= deadline) {
          this.failed.push(`still ${reason} after ${attempt} attempts (last from ${client.address}: ${error.details})`);
          return;
        }
        const retryAfter = Number(error.metadata.get('retry-after-ms')[0] ?? 0);
        await sleep(Math.max(retryAfter, Math.min(500, 25 * attempt)));
        proxy = (proxy + 1) % this.clients.length;
      }
    }
  }
}
