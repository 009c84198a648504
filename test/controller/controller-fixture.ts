import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TritonClient } from '../../src/triton/triton-client';
import type { TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { tarGz } from '../support/model-archive';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';
import { TEST_ADMIN_KEY } from '../support/test-redis';

/** The sample `simple` model (INT32 [16] + [16] -> sum, difference) under another name, as archive entries. */
export function simpleModelFiles(name: string, versions: readonly string[] = ['1']): Record<string, Buffer> {
  const config = readFileSync(join(SAMPLE_REPOSITORY, 'simple', 'config.pbtxt'), 'utf8').replace('name: "simple"', `name: "${name}"`);
  const files: Record<string, Buffer> = { [`${name}/config.pbtxt`]: Buffer.from(config) };
  for (const version of versions) files[`${name}/${version}/model.onnx`] = simpleOnnx();
  return files;
}

export function simpleOnnx(): Buffer {
  return readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));
}

/** The admin API of one triage (bootstrap admin key). Answers are `any`: the JSON under test, which the assertions check. */
export class AdminHttp {
  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
    const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    let payload: string | Buffer | undefined;
    if (Buffer.isBuffer(body)) {
      headers['content-type'] = 'application/gzip';
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(`${this.base}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : JSON.parse(text) as Record<string, any> };
  }

  /** POST /v1/models with a .tar.gz of the files; throws unless 201. */
  async register(files: Record<string, Buffer>): Promise<Record<string, any>> {
    return this.expect(201, 'POST', '/v1/models', await tarGz(files));
  }

  async expect(status: number, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
    const answer = await this.call(method, path, body);
    if (answer.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }
}

/** What an instance's RepositoryIndex says of each model: READY versions and every version's state. */
export async function instanceModels(client: TritonClient): Promise<Map<string, { ready: string[]; states: Record<string, string> }>> {
  const index = await client.unary<{ models: { name: string; version: string; state: string }[] }>('RepositoryIndex', { repository_name: '', ready: false }, { timeoutMs: 5000 });
  const models = new Map<string, { ready: string[]; states: Record<string, string> }>();
  for (const entry of index.models) {
    const model = models.get(entry.name) ?? { ready: [], states: {} };
    if (entry.version !== '') model.states[entry.version] = entry.state;
    if (entry.state === 'READY') model.ready.push(entry.version);
    models.set(entry.name, model);
  }
  for (const model of models.values()) model.ready.sort();
  return models;
}

/** READY versions of a model on each client's instance ('' for none), in client order. */
export async function readyVersions(clients: readonly TritonClient[], model: string): Promise<string[]> {
  return Promise.all(clients.map(async (client) => (await instanceModels(client)).get(model)?.ready.join(',') ?? ''));
}

export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await condition()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One inference of a `simple`-shaped model; returns the served version and checks the sum. */
export async function inferSimple(client: TritonTestClient, model: string): Promise<string> {
  const a = Array.from({ length: 16 }, (_, i) => i);
  const b = Array.from({ length: 16 }, () => 1);
  const response = await client.unary<{ model_version: string; raw_output_contents: Buffer[] }>('ModelInfer', inferRequest(model, [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(b) },
  ]), { timeoutMs: 10_000 });
  const sum = readInt32(response.raw_output_contents[0] ?? Buffer.alloc(0));
  if (sum.join(',') !== a.map((value) => value + 1).join(',')) throw new Error(`wrong sum from ${model}: ${sum.join(',')}`);
  return response.model_version;
}
