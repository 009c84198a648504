import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import pino from 'pino';
import type { InferenceOutcome } from '../../src/observability/inference-observer';
import { InferenceAudit, type InferenceAuditOptions } from '../../src/observability/inference-audit';
import { silentLogger } from '../../src/observability/logger';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../../src/redis/redis-client';
import type { RedisClient } from '../../src/redis/redis-client';
import { startRedisServer } from '../../src/redis/redis-server-process';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

const DAY_MS = 86_400_000;

function outcome(overrides: Partial<InferenceOutcome> = {}): InferenceOutcome {
  return {
    protocol: 'grpc', rpc: 'ModelInfer', tenantId: 't_tenant', keyId: 'K1', model: 'simple', version: '2', requestId: 'req-1',
    code: 'OK', failed: false, refusedBy: null, latencyMs: 1.23456, upstreamMs: 0.5, instance: '127.0.0.1:9001',
    bytesIn: 160, bytesOut: 170, startedMs: Date.parse('2026-11-01T08:00:00.000Z'), ...overrides,
  };
}

/** The fields of every entry of a stream, oldest first, as objects. */
async function streamEntries(redis: RedisClient, key: string): Promise<Record<string, string>[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, fields]) => {
    const record: Record<string, string> = {};
    for (let index = 0; index + 1 < fields.length; index += 2) record[fields[index] as string] = fields[index + 1] as string;
    return record;
  });
}

/** A pino logger whose lines land in `lines` (parsed). */
function capturingLogger(lines: Record<string, unknown>[]) {
  return pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
}

describe('inference audit stream: buffered writes, retention, Redis outages', function () {
  this.timeout(30_000);
  let redis: RedisClient;
  let key: string;
  const audits: InferenceAudit[] = [];
  const audit = (options: Partial<InferenceAuditOptions> = {}, logger = silentLogger(), client = redis): InferenceAudit => {
    const made = new InferenceAudit(client, { streamKey: key, retentionMs: 7 * DAY_MS, maxEntries: 5_000_000, flushMs: 60_000, ...options }, logger);
    audits.push(made);
    return made;
  };

  before(async () => {
    redis = createRedisClient({ url: await sharedRedisUrl(), name: 'test:inference-audit', failFast: true });
    await waitUntilReady(redis, 5000);
  });
  afterEach(async () => {
    await Promise.all(audits.splice(0).map((each) => each.stop()));
    key = `${uniquePrefix()}audit-inference`;
  });
  after(async () => {
    await closeRedisClient(redis);
  });
  key = `${uniquePrefix()}audit-inference`;

  it('observe() only buffers; a flush writes every outcome as flat metadata fields', async () => {
    const writer = audit();
    writer.observe(outcome());
    writer.observe(outcome({ protocol: 'http', rpc: 'infer', tenantId: null, keyId: null, version: '', code: '401', failed: true, upstreamMs: null, instance: null, bytesOut: 0 }));
    writer.observe(outcome({ code: 'RESOURCE_EXHAUSTED', failed: true, refusedBy: 'requests_per_second', latencyMs: 0.1 }));
    assert.equal(await redis.exists(key), 0, 'nothing is written by observe()');
    assert.equal(writer.buffered(), 3);
    await writer.flush();
    assert.equal(writer.buffered(), 0);
    const entries = await streamEntries(redis, key);
    assert.deepEqual(entries[0], {
      at: '2026-11-01T08:00:00.001Z', tenant_id: 't_tenant', key_id: 'K1', model: 'simple', version: '2', request_id: 'req-1', protocol: 'grpc',
      rpc: 'ModelInfer', code: 'OK', failed: '0', refused_by: '', latency_ms: '1.235', upstream_ms: '0.500', instance: '127.0.0.1:9001', bytes_in: '160', bytes_out: '170',
    });
    assert.deepEqual(entries[1], {
      at: '2026-11-01T08:00:00.001Z', tenant_id: '', key_id: '', model: 'simple', version: '', request_id: 'req-1', protocol: 'http',
      rpc: 'infer', code: '401', failed: '1', refused_by: '', latency_ms: '1.235', upstream_ms: '', instance: '', bytes_in: '160', bytes_out: '0',
    });
    assert.equal(entries[2]?.['refused_by'], 'requests_per_second');
    assert.equal(entries.length, 3);
  });

  it('stores a model name, version or request id that is not well-formed as a placeholder, never as sent', async () => {
    const writer = audit();
    writer.observe(outcome({ model: 'x'.repeat(10_000), version: '1; DROP', requestId: 'with space' }));
    writer.observe(outcome({ model: 'ok.name-1_2', requestId: 'z'.repeat(129) }));
    await writer.flush();
    const [first, second] = await streamEntries(redis, key);
    assert.equal(first?.['model'], '(invalid name)');
    assert.equal(first?.['version'], '(invalid)');
    assert.equal(first?.['request_id'], '(invalid)');
    assert.equal(second?.['model'], 'ok.name-1_2');
    assert.equal(second?.['request_id'], '(invalid)');
  });

  it('writes at once when 1,000 outcomes are buffered, and every 250 ms otherwise', async () => {
    const eager = audit();
    for (let index = 0; index < 999; index++) eager.observe(outcome({ requestId: `r${index}` }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await redis.exists(key), 0, 'below 1,000 nothing is written before the timer');
    eager.observe(outcome({ requestId: 'r999' }));
    await eager.flush();
    assert.equal(await redis.xlen(key), 1000);

    const timed = audit({ flushMs: 250 });
    timed.start();
    timed.observe(outcome({ requestId: 'timed' }));
    const deadline = Date.now() + 2000;
    while (await redis.xlen(key) < 1001 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await redis.xlen(key), 1001);
  });

  it('trims entries older than the retention (XADD MINID ~) and keeps about maxEntries (XTRIM MAXLEN ~)', async () => {
    // 500 entries from 1970 (ids 1-0 .. 500-0): far older than any retention.
    const old = redis.pipeline();
    for (let index = 1; index <= 500; index++) old.xadd(key, `${index}-0`, 'at', 'old');
    await old.exec();
    const writer = audit({ retentionMs: DAY_MS });
    writer.observe(outcome());
    await writer.flush();
    const remaining = await streamEntries(redis, key);
    assert.ok(remaining.filter((entry) => entry['at'] === 'old').length < 100, `old entries trimmed (whole stream nodes): ${remaining.length} left`);
    assert.equal(remaining[remaining.length - 1]?.['model'], 'simple');

    const capped = audit({ maxEntries: 100 });
    for (let index = 0; index < 350; index++) capped.observe(outcome({ requestId: `c${index}` }));
    await capped.flush();
    const length = await redis.xlen(key);
    assert.ok(length >= 100 && length < 300, `about 100 kept, got ${length}`);
    const newest = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
    assert.ok(newest[0]?.[1].includes('c349'), 'the newest entries are the ones kept');
  });

  it('writes what is buffered when stopped', async () => {
    const writer = audit();
    writer.start();
    for (let index = 0; index < 10; index++) writer.observe(outcome({ requestId: `s${index}` }));
    await writer.stop();
    assert.equal(await redis.xlen(key), 10);
  });

  describe('while Redis is down', () => {
    it('keeps up to maxBuffered entries, drops the oldest beyond with one warning a minute, and writes the rest once Redis is back', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'triage-inference-audit-'));
      let server = await startRedisServer({ directory });
      const own = createRedisClient({ url: server.url, name: 'test:inference-audit-down', failFast: true, commandTimeoutMs: 1000 });
      own.on('error', () => undefined);
      const lines: Record<string, unknown>[] = [];
      let now = Date.parse('2026-11-01T08:00:00Z');
      try {
        await waitUntilReady(own, 5000);
        const writer = audit({ maxBuffered: 50, flushAt: 10, nowMs: () => now }, capturingLogger(lines), own);
        await server.stop();
        const deadline = Date.now() + 5000;
        while (own.status === 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        for (let index = 0; index < 200; index++) writer.observe(outcome({ requestId: `d${index}` }));
        await writer.flush();
        assert.ok(writer.buffered() <= 60, `buffer bounded, holds ${writer.buffered()}`);
        const warnings = (): Record<string, unknown>[] => lines.filter((line) => line['level'] === 40);
        assert.equal(warnings().length, 1, JSON.stringify(lines));
        for (let index = 200; index < 300; index++) writer.observe(outcome({ requestId: `d${index}` }));
        await writer.flush();
        assert.equal(warnings().length, 1, 'still one warning within the minute');
        now += 61_000;
        await writer.flush();
        assert.equal(warnings().length, 2, 'a second warning after a minute');
        const dropped = [...warnings()].reduce((sum, line) => sum + Number(line['dropped']), 0);
        assert.ok(dropped >= 300 - 60, `the warnings count what was dropped: ${dropped}`);

        server = await startRedisServer({ directory, port: server.port });
        await waitUntilReady(own, 10_000);
        await writer.flush();
        const written = (await streamEntries(own, key)).map((entry) => entry['request_id']);
        assert.equal(written.length, 50, `the newest 50 were kept: ${written.join(',')}`);
        assert.deepEqual(written, Array.from({ length: 50 }, (_, index) => `d${250 + index}`));
        assert.ok(lines.every((line) => !JSON.stringify(line).includes('"d2')), 'no entry content in the warnings');
      } finally {
        await closeRedisClient(own);
        await server.stop();
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });
});
