import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { after, before, describe, it } from 'mocha';
import { closeRedisClient, createRedisClient, mastersOf, waitUntilReady, type RedisClient } from '../../src/redis/redis-client';
import { freePort } from '../../src/redis/redis-server-process';
import { pipelinesBySlot, transactionsBySlot } from '../../src/redis/slot-batches';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

describe('slot batches: pipelines and MULTIs that Redis Cluster accepts', function () {
  this.timeout(60_000);
  let cluster: LocalRedisCluster;
  let onCluster: RedisClient;
  let onServer: RedisClient;

  const connect = async (url: string): Promise<RedisClient> => {
    const client = createRedisClient({ url, name: 'test:slot-batches', failFast: false });
    client.on('error', () => undefined);
    await waitUntilReady(client, 10_000);
    return client;
  };
  /** The node serving a key's slot, as the cluster client knows it. */
  const nodeOf = (key: string): string => ((onCluster as { slots: string[][] }).slots[calculateSlot(key)] ?? []).join();

  before(async () => {
    cluster = await startRedisCluster();
    onCluster = await connect(cluster.url);
    onServer = await connect(await sharedRedisUrl());
  });
  after(async () => {
    await Promise.all([onCluster, onServer].filter((client) => client !== undefined).map((client) => closeRedisClient(client)));
    await cluster?.stop();
  });

  it('a plain Cluster pipeline over several nodes is refused; the same commands as slot pipelines answer in order', async () => {
    const prefix = uniquePrefix();
    const keys = Array.from({ length: 300 }, (_, index) => `${prefix}{t:${index}}:usage`);
    assert.ok(new Set(keys.map(nodeOf)).size === 3, 'the keys live on all three masters');
    const plain = onCluster.pipeline();
    for (const key of keys) plain.get(key);
    await assert.rejects(plain.exec(), /All keys in the pipeline should belong to the same slots allocation group/);

    const writes = pipelinesBySlot(onCluster);
    keys.forEach((key, index) => writes.on(key).set(key, String(index)));
    assert.equal(writes.length, 300);
    assert.ok((await writes.exec()).every(([error, reply]) => error === null && reply === 'OK'));
    const reads = pipelinesBySlot(onCluster);
    for (const key of keys) reads.on(key).get(key);
    keys.forEach((key) => reads.on(key).strlen(key));
    const replies = await reads.exec();
    assert.deepEqual(replies.slice(0, 300).map(([, value]) => value), keys.map((_, index) => String(index)));
    assert.deepEqual(replies.slice(300).map(([, value]) => value), keys.map((_, index) => String(index).length));
    // Every master holds some of them.
    for (const master of mastersOf(onCluster)) assert.ok((await master.dbsize()) > 0, `${master.options.port} holds keys`);
  });

  it('on one server the same calls are one pipeline, replies in order', async () => {
    const prefix = uniquePrefix();
    const pipeline = pipelinesBySlot(onServer);
    pipeline.on(`${prefix}a`).set(`${prefix}a`, '1');
    pipeline.on(`${prefix}{t:2}:b`).incrby(`${prefix}{t:2}:b`, 5);
    pipeline.on(`${prefix}a`).get(`${prefix}a`);
    assert.deepEqual(await pipeline.exec(), [[null, 'OK'], [null, 5], [null, '1']]);
    assert.deepEqual(await pipelinesBySlot(onServer).exec(), []);
  });

  it('transactions: one MULTI per slot, in order; a failing one stops the later ones and rejects', async () => {
    const prefix = uniquePrefix();
    const record = `${prefix}{t:7}:tenant`;
    const index = `${prefix}tenants`;
    const committed = transactionsBySlot(onCluster);
    committed.on(record).hset(record, 'id', 't7');
    committed.on(index).sadd(index, 't7');
    committed.on(record).hget(record, 'id');
    assert.deepEqual(await committed.exec(), [1, 1, 't7']);

    const later = `${prefix}{t:8}:tenant`;
    assert.notEqual(calculateSlot(record), calculateSlot(later));
    const failing = transactionsBySlot(onCluster);
    failing.on(index).sadd(index, 't8');
    failing.on(record).incr(record); // WRONGTYPE: the record is a hash
    failing.on(later).set(later, 'never');
    await assert.rejects(failing.exec(), /WRONGTYPE/);
    assert.equal(await onCluster.sismember(index, 't8'), 1, 'the first slot\'s MULTI ran');
    assert.equal(await onCluster.exists(later), 0, 'no MULTI is sent after the one that failed');
  });

  it('a pipeline whose connection is down answers an error for each command instead of rejecting', async () => {
    const down = createRedisClient({ url: `redis://127.0.0.1:${await freePort()}`, name: 'test:down', failFast: true });
    down.on('error', () => undefined);
    try {
      const pipeline = pipelinesBySlot(down);
      pipeline.on('a').get('a');
      pipeline.on('b').get('b');
      const replies = await pipeline.exec();
      assert.equal(replies.length, 2);
      for (const [error, value] of replies) {
        assert.ok(error instanceof Error);
        assert.equal(value ?? null, null);
      }
    } finally {
      await closeRedisClient(down);
    }
  });

  it('refuses an on(key) that queues more than one command (the replies would not line up)', async () => {
    const prefix = uniquePrefix();
    const pipeline = pipelinesBySlot(onCluster);
    pipeline.on(`${prefix}x`).get(`${prefix}x`).get(`${prefix}x`);
    await assert.rejects(pipeline.exec(), /each on\(key\) must queue exactly one command/);
  });
});
