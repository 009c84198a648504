import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { after, before, describe, it } from 'mocha';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../../src/redis/redis-client';
import type { RedisClient } from '../../src/redis/redis-client';
import { startRedisServer, type RedisServerProcess } from '../../src/redis/redis-server-process';
import { TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, type TestInput } from '../support/infer-request';
import { TempRepository } from '../support/temp-repository';
import { TEST_ADMIN_KEY, uniquePrefix } from '../support/test-redis';
import { spawnTriage, type TriageProcess } from '../support/triage-process';

/**
 * The payload marker: 32 bytes, 8 float32 values (little-endian) whose bytes are a
 * printable text. Every 4th byte is a lowercase letter, so each value is a finite normal
 * float (about 1e35) that JSON carries exactly; read as int32 they are 10-digit numbers.
 */
const MARKER = Buffer.from('PAYzLOAzD-MzARKzER-z7Q2zTRIzAGEz', 'latin1');
const FLOATS = Array.from(new Float32Array(MARKER.buffer.slice(MARKER.byteOffset, MARKER.byteOffset + MARKER.byteLength)));
const INTS = Array.from(new Int32Array(MARKER.buffer.slice(MARKER.byteOffset, MARKER.byteOffset + MARKER.byteLength)));
/** A 10 KB header or name made of the marker: what a client could try to slip into the audit through an id. */
const SMUGGLED = MARKER.toString('latin1').repeat(320);

/** Every form in which the marker's bytes could show up in text: raw, base64 (each alignment, both alphabets), hex, and the numbers as JSON writes them. */
function markerForms(): Map<string, Buffer> {
  const forms = new Map<string, Buffer>([['raw bytes', MARKER]]);
  for (let offset = 0; offset < 3; offset++) {
    const aligned = MARKER.subarray(offset, offset + 3 * Math.floor((MARKER.length - offset) / 3));
    forms.set(`base64 at offset ${offset}`, Buffer.from(aligned.toString('base64')));
    forms.set(`base64url at offset ${offset}`, Buffer.from(aligned.toString('base64url')));
  }
  forms.set('hex', Buffer.from(MARKER.toString('hex')));
  forms.set('HEX', Buffer.from(MARKER.toString('hex').toUpperCase()));
  FLOATS.forEach((value, index) => forms.set(`float #${index} as JSON (${JSON.stringify(value)})`, Buffer.from(JSON.stringify(value))));
  INTS.forEach((value, index) => forms.set(`int32 #${index} as JSON (${value})`, Buffer.from(String(value))));
  return forms;
}

const FORMS = markerForms();

/** The names of the marker forms found in `haystack` (empty: none). */
function markerFormsIn(haystack: Buffer): string[] {
  return [...FORMS].filter(([, form]) => haystack.includes(form)).map(([name]) => name);
}

/** Every value of every key of a Redis (key names too), typed reads only (DUMP could compress a value out of sight). */
async function dumpRedis(redis: RedisClient): Promise<{ keys: number; types: Set<string>; bytes: Buffer }> {
  const parts: Buffer[] = [];
  const types = new Set<string>();
  let keys = 0;
  const flatten = (value: unknown): void => {
    if (Buffer.isBuffer(value)) parts.push(value, Buffer.from('\n'));
    else if (Array.isArray(value)) value.forEach(flatten);
    else if (value !== null && value !== undefined) parts.push(Buffer.from(String(value)), Buffer.from('\n'));
  };
  let cursor = '0';
  do {
    const [next, names] = await redis.scanBuffer(cursor, 'COUNT', 1000);
    cursor = String(next);
    for (const name of names) {
      keys += 1;
      parts.push(name, Buffer.from('\n'));
      const type = await redis.type(name);
      types.add(type);
      const read: Record<string, string[]> = {
        string: ['GET'], hash: ['HGETALL'], list: ['LRANGE', '0', '-1'], set: ['SMEMBERS'], zset: ['ZRANGE', '0', '-1', 'WITHSCORES'], stream: ['XRANGE', '-', '+'],
      };
      const command = read[type];
      assert.ok(command !== undefined, `a key of type ${type} that the test cannot read: ${name.toString()}`);
      const [verb, ...args] = command;
      flatten(await redis.callBuffer(verb as string, name, ...args));
    }
  } while (cursor !== '0');
  return { keys, types, bytes: Buffer.concat(parts) };
}

function floatInput(shape: readonly number[], extra: Partial<TestInput> = {}): TestInput {
  return { name: 'INPUT0', datatype: 'FP32', shape, raw: MARKER, ...extra };
}

/** A REST body with the binary tensor extension: JSON header, then the raw tensor bytes. */
function binaryBody(header: unknown, raw: Buffer): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, raw]), headerLength: json.length };
}

describe('no payload byte of a request appears in the audit streams, anywhere in Redis, or in the logs', function () {
  this.timeout(120_000);
  let repository: TempRepository;
  let dataDir: string;
  let redisServer: RedisServerProcess;
  let redis: RedisClient;
  let triage: TriageProcess | undefined;
  /** Every request body (and raw tensor) the test sent: the marker must be in them. */
  const sent: Buffer[] = [];

  const admin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${triage?.httpBase}${path}`, {
      method, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const tenantKey = async (name: string, quotas: unknown): Promise<string> => {
    const tenant = await admin('POST', '/v1/tenants', { name });
    await admin('PUT', `/v1/tenants/${String(tenant['id'])}/quotas`, quotas);
    return String((await admin('POST', `/v1/tenants/${String(tenant['id'])}/keys`, { scopes: ['infer'] }))['key']);
  };
  const rest = async (path: string, key: string | null, body: Buffer | string, headers: Record<string, string> = {}): Promise<number> => {
    sent.push(Buffer.from(body));
    const response = await fetch(`${triage?.httpBase}${path}`, {
      method: 'POST', body, headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), 'content-type': 'application/json', ...headers },
    });
    await response.arrayBuffer();
    return response.status;
  };
  const grpc = async (key: string | null, request: Record<string, unknown>, metadata = new Metadata()): Promise<number> => {
    for (const raw of request['raw_input_contents'] as Buffer[]) sent.push(raw);
    const client = new TritonTestClient(triage?.address ?? '', undefined, key);
    try {
      await client.unary('ModelInfer', request, metadata);
      return status.OK;
    } catch (error) {
      return (error as ServiceError).code;
    } finally {
      client.close();
    }
  };

  before(async () => {
    repository = new TempRepository().copySample('identity_fp32', 'simple');
    dataDir = mkdtempSync(join(tmpdir(), 'triage-no-payload-'));
    redisServer = await startRedisServer({ directory: join(dataDir, 'redis') });
    redis = createRedisClient({ url: redisServer.url, name: 'test:no-payload', failFast: true });
    await waitUntilReady(redis, 5000);
    // The embedded local-triton runs in the triage process: its logs are captured too.
    triage = await spawnTriage({
      tritonUrls: [], redisUrl: redisServer.url, redisPrefix: uniquePrefix(),
      args: ['--model-repository', repository.path, '--data-dir', dataDir, '--log-level', 'debug', '--usage-flush', '100'],
      readyTimeoutMs: 60_000,
    });
  });
  after(async () => {
    await triage?.stop();
    await closeRedisClient(redis);
    await redisServer?.stop();
    repository?.remove();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds the marker in a buffer that holds it, in every form it searches for (self-check)', () => {
    assert.deepEqual(markerFormsIn(Buffer.from('{"msg":"nothing to see"}')), []);
    for (const [name, form] of FORMS) {
      assert.ok(markerFormsIn(Buffer.concat([Buffer.from('a log line: '), form, Buffer.from(' end')])).includes(name), name);
    }
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.from(Buffer.concat([Buffer.alloc(offset, 1), MARKER, Buffer.from('tail')]).toString('base64'));
      assert.ok(markerFormsIn(encoded).some((name) => name.startsWith('base64 ')), `base64 of the marker after ${offset} bytes`);
    }
    assert.ok(markerFormsIn(Buffer.from(JSON.stringify({ data: FLOATS }))).length >= 8, 'a JSON tensor of the marker');
  });

  it('sends inferences carrying the marker over gRPC and REST, answered and refused, then finds it nowhere', async () => {
    const plain = await tenantKey('no-payload plain', {});
    const limited = await tenantKey('no-payload limited', { requests_per_second: 1, burst: 1 });
    const small = await tenantKey('no-payload small', { max_request_bytes: 16 });

    // gRPC: answered (raw and typed contents, identity and simple), wrong shape, wrong datatype, unknown model, no key, over quota, too large, smuggling ids.
    const codes: Record<string, number> = {};
    codes['grpc ok raw'] = await grpc(plain, inferRequest('identity_fp32', [floatInput([8])]));
    codes['grpc ok typed'] = await grpc(plain, inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [8], contents: { fp32_contents: FLOATS } }]));
    sent.push(Buffer.from(new Float32Array(FLOATS).buffer));
    codes['grpc ok simple'] = await grpc(plain, inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: Buffer.concat([MARKER, MARKER]) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: Buffer.concat([MARKER, MARKER]) },
    ]));
    codes['grpc wrong shape'] = await grpc(plain, inferRequest('identity_fp32', [floatInput([3])]));
    codes['grpc wrong datatype'] = await grpc(plain, inferRequest('identity_fp32', [floatInput([8], { datatype: 'INT32' })]));
    codes['grpc unknown model'] = await grpc(plain, inferRequest('no_such_model', [floatInput([8])]));
    codes['grpc no key'] = await grpc(null, inferRequest('identity_fp32', [floatInput([8])]));
    codes['grpc wrong key'] = await grpc(`trg_AAAAAAAAAA_${MARKER.toString('latin1')}`, inferRequest('identity_fp32', [floatInput([8])]));
    codes['grpc too large'] = await grpc(small, inferRequest('identity_fp32', [floatInput([8])]));
    const quota = [];
    for (let index = 0; index < 3; index++) quota.push(await grpc(limited, inferRequest('identity_fp32', [floatInput([8])])));
    const smuggling = new Metadata();
    smuggling.set('x-request-id', SMUGGLED);
    codes['grpc 10 KB request id'] = await grpc(plain, inferRequest('identity_fp32', [floatInput([8])]), smuggling);
    codes['grpc 10 KB model name'] = await grpc(plain, inferRequest(SMUGGLED, [floatInput([8])]));
    assert.equal(codes['grpc ok raw'], status.OK);
    assert.equal(codes['grpc ok typed'], status.OK);
    assert.equal(codes['grpc ok simple'], status.OK);
    assert.equal(codes['grpc no key'], status.UNAUTHENTICATED);
    for (const name of ['grpc wrong shape', 'grpc wrong datatype', 'grpc unknown model', 'grpc wrong key', 'grpc too large', 'grpc 10 KB model name']) {
      assert.notEqual(codes[name], status.OK, name);
    }
    assert.ok(quota.includes(status.RESOURCE_EXHAUSTED), `over quota: ${quota.join(',')}`);

    // REST: JSON and binary tensors answered, wrong shape, wrong datatype, malformed JSON, unknown model, no key, over quota, too large, smuggling ids.
    const json = (datatype: string, shape: readonly number[], data: readonly number[]): string => JSON.stringify({ inputs: [{ name: 'INPUT0', datatype, shape, data }] });
    const identity = '/v2/models/identity_fp32/infer';
    const binary = binaryBody({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [8], parameters: { binary_data_size: 32 } }], outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }] }, MARKER);
    const restCodes: Record<string, number> = {
      'rest ok json': await rest(identity, plain, json('FP32', [8], FLOATS)),
      'rest ok binary': await rest(identity, plain, binary.body, { 'inference-header-content-length': String(binary.headerLength), 'content-type': 'application/octet-stream' }),
      'rest ok simple': await rest('/v2/models/simple/infer', plain, JSON.stringify({ inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: [...INTS, ...INTS] })) })),
      'rest wrong shape': await rest(identity, plain, json('FP32', [3], FLOATS)),
      'rest wrong datatype': await rest(identity, plain, json('INT32', [8], FLOATS)),
      'rest malformed json': await rest(identity, plain, `{"inputs": [{"name": "INPUT0", "data": [${FLOATS.join(',')}], ${MARKER.toString('latin1')}`),
      'rest unknown model': await rest('/v2/models/no_such_model/infer', plain, json('FP32', [8], FLOATS)),
      'rest no key': await rest(identity, null, json('FP32', [8], FLOATS)),
      'rest too large': await rest(identity, small, json('FP32', [8], FLOATS)),
      'rest 10 KB request id': await rest(identity, plain, json('FP32', [8], FLOATS), { 'x-request-id': SMUGGLED }),
      'rest 10 KB model name': await rest(`/v2/models/${SMUGGLED}/infer`, plain, json('FP32', [8], FLOATS)),
    };
    const restQuota = [];
    for (let index = 0; index < 3; index++) restQuota.push(await rest(identity, limited, json('FP32', [8], FLOATS)));
    assert.equal(restCodes['rest ok json'], 200);
    assert.equal(restCodes['rest ok binary'], 200);
    assert.equal(restCodes['rest ok simple'], 200);
    assert.equal(restCodes['rest no key'], 401);
    for (const name of ['rest wrong shape', 'rest wrong datatype', 'rest malformed json', 'rest unknown model', 'rest too large', 'rest 10 KB model name']) {
      assert.ok((restCodes[name] ?? 0) >= 400, `${name}: ${restCodes[name]}`);
    }
    assert.ok(restQuota.includes(429), `over quota: ${restQuota.join(',')}`);

    // What was sent holds the marker (so finding nothing below means something).
    assert.ok(markerFormsIn(Buffer.concat(sent)).includes('raw bytes'));
    assert.ok(markerFormsIn(Buffer.concat(sent)).filter((name) => name.startsWith('float')).length === 8);

    // The inference audit is written every 250 ms: wait for the entries, then stop triage so every log line is out.
    const prefixStreams = async (): Promise<number> => {
      let length = 0;
      for (const key of await redis.keys('*audit-inference')) length += await redis.xlen(key);
      return length;
    };
    const calls = Object.keys(codes).length + quota.length + Object.keys(restCodes).length + restQuota.length;
    const deadline = Date.now() + 10_000;
    while (await prefixStreams() < calls && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await triage?.stop();
    assert.equal(await prefixStreams(), calls, 'one inference audit entry per call');

    const dump = await dumpRedis(redis);
    assert.ok(dump.keys > 10 && dump.types.has('stream') && dump.types.has('hash'), `Redis was read: ${dump.keys} keys of ${[...dump.types].join(', ')}`);
    const auditText = dump.bytes.toString('latin1');
    assert.ok(auditText.includes('(invalid name)'), 'the 10 KB model name is stored as a placeholder');
    assert.ok(auditText.includes('RESOURCE_EXHAUSTED') && auditText.includes('requests_per_second'), 'quota refusals are in the audit');
    assert.deepEqual(markerFormsIn(dump.bytes), [], 'the marker in Redis');

    const logs = Buffer.from(triage?.output() ?? '', 'utf8');
    assert.ok(logs.includes('"level":20'), 'debug lines were logged');
    assert.ok(logs.includes('triage stopped'), 'the log is complete');
    assert.deepEqual(markerFormsIn(logs), [], 'the marker in the logs');
  });
});
