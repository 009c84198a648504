import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { silentLogger } from '../../src/observability/logger';
import { RecencyRecorder } from '../../src/proxy/recency-recorder';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../../src/redis/redis-client';
import type { RedisClient } from '../../src/redis/redis-client';
import { RedisKeys } from '../../src/redis/redis-keys';
import { startRedisServer } from '../../src/redis/redis-server-process';
import { RecencyStore } from '../../src/registry/recency-store';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';
import { waitUntil } from './controller-fixture';

/** Last-use times: several proxies write them to one Redis hash; the newest time wins. */
describe('model last-use times (recency)', () => {
  const clients: RedisClient[] = [];
  let url: string;

  const client = async (redisUrl = url, failFast = true): Promise<RedisClient> => {
    const redis = createRedisClient({ url: redisUrl, name: 'test:recency', failFast });
    redis.on('error', () => undefined);
    clients.push(redis);
    await waitUntilReady(redis, 3000);
    return redis;
  };

  before(async () => {
    url = await sharedRedisUrl();
  });

  after(async () => {
    for (const redis of clients) await closeRedisClient(redis);
  });

  it('keeps the newest time of each model whatever order two proxies write in, and forgets on request', async () => {
    const keys = new RedisKeys(uniquePrefix());
    const store = new RecencyStore(await client(), keys);
    const first = new RecencyRecorder(store, 60_000, silentLogger());
    const second = new RecencyRecorder(new RecencyStore(await client(), keys), 60_000, silentLogger());
    first.note('m', 2000);
    second.note('m', 1000);
    second.note('n', 5);
    assert.equal(await first.flush(), true);
    assert.equal(await second.flush(), true);
    assert.deepEqual([...await store.all()].sort(), [['m', 2000], ['n', 5]]);
    second.note('m', 3000);
    first.note('m', 2500);
    await Promise.all([second.flush(), first.flush()]);
    assert.deepEqual((await store.all()).get('m'), 3000);
    await store.forget(['n']);
    assert.deepEqual([...await store.all()], [['m', 3000]]);
    await first.stop();
    await second.stop();
  });

  it('a demand is written at once, with the current time, and announced to the controller', async () => {
    const keys = new RedisKeys(uniquePrefix());
    const subscriber = await client(url, false);
    const received: string[] = [];
    subscriber.on('message', (channel: string, model: string) => { if (channel === keys.modelDemand()) received.push(model); });
    await subscriber.subscribe(keys.modelDemand());
    const store = new RecencyStore(await client(), keys);
    const recorder = new RecencyRecorder(store, 60_000, silentLogger(), () => 123_456);
    recorder.note('other', 7);
    await recorder.demand('cold');
    assert.deepEqual([...await store.all()].sort(), [['cold', 123_456], ['other', 7]], 'the demand flushed everything pending');
    await waitUntil(() => received.length === 1, 2000, 'the demand message');
    assert.deepEqual(received, ['cold']);
    await recorder.stop();
  });

  it('keeps the times of a failed write for the next flush', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'triage-recency-redis-'));
    let server = await startRedisServer({ directory });
    try {
      const keys = new RedisKeys(uniquePrefix());
      const redis = createRedisClient({ url: server.url, name: 'test:recency', failFast: true });
      redis.on('error', () => undefined);
      await waitUntilReady(redis, 3000);
      const recorder = new RecencyRecorder(new RecencyStore(redis, keys), 60_000, silentLogger());
      await server.stop();
      recorder.note('m', 42);
      assert.equal(await recorder.flush(), false);
      await assert.rejects(recorder.demand('cold'), /could not be written to Redis/);
      server = await startRedisServer({ directory, port: server.port });
      await waitUntil(() => redis.status === 'ready', 5000, 'the client reconnects');
      assert.equal(await recorder.flush(), true);
      const times = await new RecencyStore(redis, keys).all();
      assert.equal(times.get('m'), 42);
      assert.ok((times.get('cold') ?? 0) > 0, 'the demand that failed is written too');
      await recorder.stop();
      // Closed while its server runs: closing it later would leave ioredis's disconnect timer behind.
      await closeRedisClient(redis);
    } finally {
      await server.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
