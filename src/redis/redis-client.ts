import { Redis, type RedisOptions } from 'ioredis';

export interface RedisClientOptions {
  readonly url: string;
  /** Name shown by CLIENT LIST, e.g. triage:admission. */
  readonly name: string;
  /**
   * Fail commands at once while disconnected instead of queueing them (the hot path must
   * answer, not wait); reconnection goes on in the background.
   */
  readonly failFast: boolean;
  /** Longest a command may take before it fails. */
  readonly commandTimeoutMs?: number;
}

/** The one place ioredis connections are made. */
export function createRedisClient(options: RedisClientOptions): Redis {
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    lazyConnect: false,
    enableOfflineQueue: !options.failFast,
    maxRetriesPerRequest: options.failFast ? 0 : 20,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
  };
  return new Redis(options.url, redisOptions);
}

/** Resolves once the client is ready, or rejects after timeoutMs with the reason. */
export function waitUntilReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = '';
    const onError = (error: Error): void => { lastError = error.message; };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      client.off('error', onError);
      reject(new Error(`Redis not reachable within ${timeoutMs} ms${lastError === '' ? '' : `: ${lastError}`}`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      client.off('error', onError);
      resolve();
    };
    client.once('ready', onReady);
    client.on('error', onError);
  });
}

/** Closes a client: QUIT when connected, else disconnect; never throws. */
export async function closeRedisClient(client: Redis): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
}
