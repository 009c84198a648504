import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { AUDIT_KINDS } from '../../src/observability/audit-entries';
import { AuditReader, type AuditQuery } from '../../src/observability/audit-reader';
import { compareStreamIds } from '../../src/observability/stream-cursor';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../../src/redis/redis-client';
import type { RedisClient } from '../../src/redis/redis-client';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

const ALL: AuditQuery = { kinds: AUDIT_KINDS, tenant: null, model: null, action: null, sinceMs: null, untilMs: null, before: null };

describe('audit reader: both streams merged newest first, bounded scans', function () {
  this.timeout(30_000);
  let redis: RedisClient;
  let reader: AuditReader;
  const prefix = uniquePrefix();
  const streams = { admin: `${prefix}audit`, inference: `${prefix}audit-inference` };

  const admin = (id: string, action: string, actorTenant: string, target: string, tenant = '', model = ''): Promise<unknown> =>
    redis.xadd(streams.admin, id, 'kind', 'admin', 'at', 'x', 'action', action, 'target', target, 'actor_tenant_id', actorTenant, 'actor_key_id', 'k',
      'tenant_id', tenant, 'model', model, 'before', 'null', 'after', '{"n":1}');
  const inference = (id: string, tenant: string, model: string): Promise<unknown> =>
    redis.xadd(streams.inference, id, 'at', 'x', 'tenant_id', tenant, 'key_id', 'k', 'model', model, 'version', '', 'request_id', `r${id}`, 'protocol', 'grpc',
      'rpc', 'ModelInfer', 'code', 'OK', 'failed', '0', 'refused_by', '', 'latency_ms', '1.000', 'upstream_ms', '', 'instance', '', 'bytes_in', '1', 'bytes_out', '2');
  const ids = (entries: readonly { id: string; kind: string }[]): string[] => entries.map((entry) => `${entry.kind[0]}${entry.id}`);

  before(async () => {
    redis = createRedisClient({ url: await sharedRedisUrl(), name: 'test:audit-reader', failFast: true });
    await waitUntilReady(redis, 5000);
    reader = new AuditReader(redis, streams);
    await admin('1000-0', 'tenant.create', 'admin', 'tenant/t_a', 't_a');
    await inference('1000-0', 't_a', 'simple'); // the same id in both streams
    await admin('2000-0', 'model.deploy', 'admin', 'model/simple', '', 'simple');
    await inference('3000-0', 't_b', 'simple');
    await inference('3000-1', 't_a', 'other');
    await admin('4000-0', 'quota.set', 'admin', 'tenant/t_b/quotas', 't_b');
    await admin('5000-0', 'key.create', 't_a', 'tenant/t_a/key/K', 't_a');
  });
  after(async () => {
    await redis?.del(streams.admin, streams.inference);
    await closeRedisClient(redis);
  });

  it('orders stream ids by milliseconds, then sequence, even past 2^53', () => {
    assert.ok(compareStreamIds('999-5', '1000-0') < 0);
    assert.ok(compareStreamIds('1000-10', '1000-9') > 0);
    assert.equal(compareStreamIds('7-18446744073709551615', '7-18446744073709551615'), 0);
    assert.ok(compareStreamIds('7-18446744073709551614', '7-18446744073709551615') < 0);
  });

  it('merges both streams newest first, and reads each back in its API shape', async () => {
    const page = await reader.page(ALL, 100, 1000);
    assert.deepEqual(ids(page.entries), ['a5000-0', 'a4000-0', 'i3000-1', 'i3000-0', 'a2000-0', 'a1000-0', 'i1000-0']);
    assert.equal(page.nextBefore, null);
    assert.equal(page.scannedTo, null);
    assert.deepEqual(page.entries[0], { id: '5000-0', at: 'x', kind: 'admin', actor: { tenant_id: 't_a', key_id: 'k' }, action: 'key.create', target: 'tenant/t_a/key/K', before: null, after: { n: 1 } });
    assert.deepEqual(page.entries[2], {
      id: '3000-1', at: 'x', kind: 'inference', tenant_id: 't_a', key_id: 'k', model: 'other', version: '', request_id: 'r3000-1', protocol: 'grpc', rpc: 'ModelInfer',
      code: 'OK', failed: false, refused_by: null, latency_ms: 1, upstream_ms: null, instance: null, bytes_in: 1, bytes_out: 2,
    });
  });

  it('pages with the before cursor, never splitting two entries that share an id', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const page = await reader.page({ ...ALL, before }, 2, 1000);
      seen.push(...ids(page.entries));
      before = page.nextBefore;
      pages += 1;
    } while (before !== null && pages < 10);
    assert.deepEqual(seen, ['a5000-0', 'a4000-0', 'i3000-1', 'i3000-0', 'a2000-0', 'a1000-0', 'i1000-0']);
    const tie = await reader.page({ ...ALL, before: '2000-0' }, 1, 1000);
    assert.deepEqual(ids(tie.entries), ['a1000-0', 'i1000-0'], 'both entries of id 1000-0 come on one page');
    assert.equal(tie.nextBefore, null);
  });

  it('maps since and until to the stream range, both inclusive', async () => {
    assert.deepEqual(ids((await reader.page({ ...ALL, sinceMs: 2000, untilMs: 3000 }, 100, 1000)).entries), ['i3000-1', 'i3000-0', 'a2000-0']);
    assert.deepEqual(ids((await reader.page({ ...ALL, untilMs: 3000, before: '3000-1' }, 100, 1000)).entries), ['i3000-0', 'a2000-0', 'a1000-0', 'i1000-0']);
    assert.deepEqual(ids((await reader.page({ ...ALL, sinceMs: 4000 }, 100, 1000)).entries), ['a5000-0', 'a4000-0']);
  });

  it('filters by kind, tenant (actor or target), model and action', async () => {
    const only = async (query: Partial<AuditQuery>): Promise<string[]> => ids((await reader.page({ ...ALL, ...query }, 100, 1000)).entries);
    assert.deepEqual(await only({ kinds: ['admin'] }), ['a5000-0', 'a4000-0', 'a2000-0', 'a1000-0']);
    assert.deepEqual(await only({ kinds: ['inference'] }), ['i3000-1', 'i3000-0', 'i1000-0']);
    assert.deepEqual(await only({ tenant: 't_a' }), ['a5000-0', 'i3000-1', 'a1000-0', 'i1000-0']);
    assert.deepEqual(await only({ tenant: 't_b' }), ['a4000-0', 'i3000-0']);
    assert.deepEqual(await only({ model: 'simple' }), ['i3000-0', 'a2000-0', 'i1000-0']);
    assert.deepEqual(await only({ action: 'inference' }), ['i3000-1', 'i3000-0', 'i1000-0']);
    assert.deepEqual(await only({ action: 'model.deploy' }), ['a2000-0']);
    assert.deepEqual(await only({ tenant: 't_a', model: 'simple' }), ['i1000-0']);
  });

  it('stops a scan at its bound and says where (scanned_to), so the client can go on from there', async () => {
    const first = await reader.page({ ...ALL, tenant: 't_b' }, 100, 1);
    assert.deepEqual(first.entries, []);
    assert.equal(first.scannedTo, '5000-0');
    assert.equal(first.nextBefore, '5000-0');
    const second = await reader.page({ ...ALL, tenant: 't_b', before: first.nextBefore }, 100, 2);
    assert.deepEqual(ids(second.entries), ['a4000-0']);
    assert.equal(second.scannedTo, '3000-1');
    const rest = await reader.page({ ...ALL, tenant: 't_b', before: second.nextBefore }, 100, 1000);
    assert.deepEqual(ids(rest.entries), ['i3000-0']);
    assert.equal(rest.scannedTo, null);
    assert.equal(rest.nextBefore, null);
  });

  it('exports every matching entry, bounded by the scan limit, reading pages of 1,000', async () => {
    const many = `${prefix}many`;
    const writes = redis.pipeline();
    for (let index = 1; index <= 2500; index++) writes.xadd(many, `${index}-0`, 'at', 'x', 'tenant_id', index % 2 === 0 ? 't_even' : 't_odd', 'model', 'm');
    await writes.exec();
    const big = new AuditReader(redis, { admin: `${prefix}none`, inference: many });
    const collect = async (query: Partial<AuditQuery>, limit: number | null, maxScanned: number): Promise<{ ids: string[]; scannedTo: string | null }> => {
      const exported = big.export({ ...ALL, ...query }, limit, maxScanned);
      const found: string[] = [];
      for await (const entry of exported.entries) found.push(entry.id);
      return { ids: found, scannedTo: exported.scannedTo() };
    };
    const all = await collect({}, null, 1_000_000);
    assert.equal(all.ids.length, 2500);
    assert.equal(all.ids[0], '2500-0');
    assert.equal(all.ids[2499], '1-0');
    assert.equal(all.scannedTo, null);
    const even = await collect({ tenant: 't_even' }, null, 1500);
    assert.equal(even.ids.length, 750);
    assert.equal(even.scannedTo, '1001-0');
    assert.deepEqual((await collect({}, 3, 1_000_000)).ids, ['2500-0', '2499-0', '2498-0']);
    await redis.del(many);
  });
});
