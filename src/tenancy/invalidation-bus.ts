import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';

/**
 * Tells every triage process that a tenant, key or quota changed, through Redis pub/sub,
 * so cached credentials and quotas are dropped within moments (revocation reaches every
 * replica well within a second). When the subscription is lost and comes back, messages
 * may have been missed: `onResync` then drops everything cached.
 */
export class InvalidationBus {
  private readyOnce = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(onMessage: (message: string) => void, onResync: () => void): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) onMessage(message);
    });
    this.subscriber.on('ready', () => {
      if (this.readyOnce) {
        this.logger.info('invalidation channel reconnected: dropping every cached key and quota');
        onResync();
      }
      this.readyOnce = true;
    });
    await this.subscriber.subscribe(this.channel);
    this.readyOnce = true;
  }

  async publish(message: string): Promise<void> {
    await this.publisher.publish(this.channel, message);
  }
}

export const invalidateKey = (keyId: string): string => `key:${keyId}`;
export const invalidateTenant = (tenantId: string): string => `tenant:${tenantId}`;
