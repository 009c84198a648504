import { request, type ClientRequest } from 'node:http';
import type { Logger } from '../observability/logger';
import type { InstancePool } from './instance-pool';
import { parsePrometheusText } from './prometheus-text';
import { tritonFigures, type TritonFigures } from './triton-figures';

/** A metrics page larger than this is cut off and the scrape fails (Triton's is tens of KiB per hundred models). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface TritonMetricsScrapeOptions {
  readonly pool: Pick<InstancePool, 'list'>;
  /** --triton-metrics-port: Triton's metrics port on every instance's host; -1: scrape none (but those of metricsPorts). */
  readonly metricsPort: number;
  /** Instances whose metrics port is known otherwise: address -> port (the embedded local-triton's port 0 choice). */
  readonly metricsPorts: ReadonlyMap<string, number>;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** The last scrape of one instance. */
export interface InstanceScrape {
  /** True when the last scrape answered 200 with a readable page. */
  readonly up: boolean;
  /** The figures of the last scrape that worked (null: none yet). */
  readonly figures: TritonFigures | null;
}

/**
 * Scrapes Triton's own Prometheus metrics (GET http://<host>:<metrics port>/metrics) of
 * every pool instance every intervalMs, each with a deadline of timeoutMs, and keeps per
 * instance the figures of the last scrape: GPU utilization and memory, CPU memory,
 * per-model inference counts and queue time. triage's /metrics re-exports them with an
 * `instance` label, and the dashboard reads them with latest(address).
 *
 * Invariant: after stop() resolves no timer is pending and no request is open (requests
 * use no keep-alive agent, so no socket outlives its scrape).
 */
export class TritonMetricsScrape {
  private readonly scrapes = new Map<string, InstanceScrape>();
  private readonly open = new Set<ClientRequest>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: TritonMetricsScrapeOptions) {}

  /** Scrapes now, then every intervalMs (a no-op when no instance can be scraped). */
  start(): void {
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const pending of this.open) pending.destroy();
    await this.running;
  }

  /** The figures of the instance's last successful scrape, or null (never scraped, not scraped, or not in the pool). */
  latest(address: string): TritonFigures | null {
    return this.scrapes.get(address)?.figures ?? null;
  }

  /** The last scrape of every instance in the pool that is scraped. */
  current(): ReadonlyMap<string, InstanceScrape> {
    const current = new Map<string, InstanceScrape>();
    for (const instance of this.options.pool.list()) {
      const scrape = this.scrapes.get(instance.address);
      if (scrape !== undefined) current.set(instance.address, scrape);
    }
    return current;
  }

  /** Scrapes every instance once; resolves when all have answered or timed out. */
  async scrapeOnce(): Promise<void> {
    const addresses = this.options.pool.list().map((instance) => instance.address);
    const wanted = new Set(addresses);
    for (const address of this.scrapes.keys()) if (!wanted.has(address)) this.scrapes.delete(address);
    await Promise.all(addresses.map(async (address) => {
      const target = this.target(address);
      if (target === null) return;
      const scrapedAtMs = Date.now();
      try {
        const body = await this.get(target.host, target.port);
        if (this.stopped) return;
        const parsed = parsePrometheusText(body);
        if (this.scrapes.get(address)?.up === false) this.options.logger.info({ instance: address, port: target.port }, 'Triton metrics scraped again');
        this.scrapes.set(address, { up: true, figures: tritonFigures(parsed.samples, scrapedAtMs) });
      } catch (error) {
        if (this.stopped) return;
        const previous = this.scrapes.get(address);
        if (previous?.up !== false) this.options.logger.warn({ instance: address, port: target.port, reason: (error as Error).message }, 'cannot scrape Triton metrics');
        this.scrapes.set(address, { up: false, figures: previous?.figures ?? null });
      }
    }));
  }

  /** Host and metrics port of an instance, or null when it is not scraped. */
  private target(address: string): { host: string; port: number } | null {
    const separator = address.lastIndexOf(':');
    if (separator <= 0) return null;
    const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
    const port = this.options.metricsPorts.get(address) ?? this.options.metricsPort;
    return port > 0 ? { host, port } : null;
  }

  /** The page's text; rejects on an error, a status other than 200, a page too large, or no full answer within timeoutMs. Settles once. */
  private get(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const pending = request({ host, port, path: '/metrics', method: 'GET', agent: false, headers: { accept: 'text/plain' } });
      this.open.add(pending);
      let settled = false;
      const settle = (error: Error | null, body = ''): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.open.delete(pending);
        if (error === null) resolve(body);
        else reject(error);
        if (error !== null) pending.destroy();
      };
      const timer = setTimeout(() => settle(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      pending.on('error', (error) => settle(error));
      // Whatever cut the exchange short (destroy, a reset), the request closes: it never stays unsettled.
      pending.once('close', () => settle(new Error('the connection closed before the page was read')));
      pending.once('response', (response) => {
        response.on('error', (error) => settle(error));
        if (response.statusCode !== 200) {
          settle(new Error(`HTTP ${response.statusCode ?? '?'} from /metrics`));
          return;
        }
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_BODY_BYTES) settle(new Error(`the metrics page is larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.once('end', () => settle(null, Buffer.concat(chunks).toString('utf8')));
      });
      pending.end();
    });
  }

  private run(): void {
    if (this.stopped) return;
    this.running = this.scrapeOnce().finally(() => {
      this.running = null;
      if (!this.stopped) this.timer = setTimeout(() => this.run(), this.options.intervalMs);
    });
  }
}
