import type { Logger } from '../observability/logger';
import type { RedisClient } from '../redis/redis-client';

export interface InvalidationBusOptions {
  /** Pub/sub channel of the messages. */
  readonly channel: string;
  /** Counter of every invalidation ever published (INCR), the bus's sequence numbers. */
  readonly versionKey: string;
  /** How often the counter is read to catch a message pub/sub did not deliver. */
  readonly checkIntervalMs: number;
}

/**
 * Tells every triage process that a tenant, key or quota changed, so cached credentials
 * and quotas are dropped at once (revocation reaches every replica within moments).
 * Messages travel on Redis pub/sub, each numbered from one counter. Pub/sub does not
 * promise delivery (a subscriber that reconnects misses what was sent meanwhile), so
 * each process also reads the counter every checkIntervalMs: when it is ahead of the
 * last number received, or a received number skips one, `onResync` drops everything
 * cached. Either way a change reaches every process within about checkIntervalMs.
 */
export class InvalidationBus {
  private lastSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private onResync: () => void = () => undefined;

  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly options: InvalidationBusOptions,
    private readonly logger: Logger,
  ) {}

  async start(onMessage: (message: string) => void, onResync: () => void): Promise<void> {
    this.onResync = onResync;
    this.lastSeen = Number(await this.publisher.get(this.options.versionKey) ?? 0);
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.options.channel) return;
      const space = text.indexOf(' ');
      const version = Number(text.slice(0, space));
      if (version > this.lastSeen + 1) this.resync(`message ${version} arrived after ${this.lastSeen}`);
      this.lastSeen = Math.max(this.lastSeen, version);
      onMessage(text.slice(space + 1));
    });
    await this.subscriber.subscribe(this.options.channel);
    this.timer = setInterval(() => { void this.check(); }, this.options.checkIntervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async publish(message: string): Promise<void> {
    const version = await this.publisher.incr(this.options.versionKey);
    await this.publisher.publish(this.options.channel, `${version} ${message}`);
  }

  private async check(): Promise<void> {
    try {
      const version = Number(await this.publisher.get(this.options.versionKey) ?? 0);
      if (version > this.lastSeen) {
        this.resync(`invalidation ${version} was not received (last: ${this.lastSeen})`);
        this.lastSeen = version;
      }
    } catch {
      // Redis unreachable: the next check tries again.
    }
  }

  private resync(reason: string): void {
    this.logger.info({ reason }, 'invalidation missed: dropping every cached key and quota');
    this.onResync();
  }
}

export const invalidateKey = (keyId: string): string => `key:${keyId}`;
export const invalidateTenant = (tenantId: string): string => `tenant:${tenantId}`;
