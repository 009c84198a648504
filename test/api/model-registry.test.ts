import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { digestFolder } from '../../src/repository/folder-digest';
import { buildTarGz, buildYazlZip, type TarEntrySpec } from '../support/archive-builders';
import { folderFiles, folderSnapshot, tarGz } from '../support/model-archive';
import { buildZip } from '../support/zip-writer';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startAdminFixture, type AdminFixture, type JsonDocument } from './admin-fixture';

const GZIP = { 'content-type': 'application/gzip' };

/** The sample `simple` model's files under a top-level folder `name`, with config.pbtxt's name changed to match. */
function simpleFiles(name: string, edit: (config: string) => string = (config) => config): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = {};
  for (const [path, bytes] of Object.entries(folderFiles(join(SAMPLE_REPOSITORY, 'simple')))) {
    files[`${name}/${path}`] = path === 'config.pbtxt' ? edit(bytes.toString('utf8').replace('name: "simple"', `name: "${name}"`)) : bytes;
  }
  return files;
}

describe('admin API: the model registry', function () {
  this.timeout(60_000);
  let api: AdminFixture;
  let repository: string;

  const push = async (files: Record<string, Buffer | string>, query = '', key: string = TEST_ADMIN_KEY) =>
    api.call('POST', `/v1/models${query}`, key, await tarGz(files), GZIP);
  const auditActions = async (target: string): Promise<string[]> =>
    (await api.triage.triage.registry.audit.recent(100, target)).map((entry) => entry.action).reverse();

  before(async () => {
    api = await startAdminFixture();
    repository = api.triage.triage.registry.writer.root;
  });
  after(async () => {
    await api?.stop();
  });

  it('registers a model from a .tar.gz: record, files in the repository, sha256 per version, audit event', async () => {
    const answer = await push(simpleFiles('adder'));
    assert.equal(answer.status, 201, answer.text);
    const model = answer.body as JsonDocument;
    assert.equal(model['name'], 'adder');
    assert.equal(model['platform'], 'onnxruntime_onnx');
    assert.equal(model['backend'], 'onnxruntime');
    assert.equal(model['max_batch_size'], 8);
    assert.equal(model['deployment'], null);
    assert.deepEqual(model['state'], []);
    assert.equal(answer.headers.get('location'), '/v1/models/adder');
    const digest = await digestFolder(join(SAMPLE_REPOSITORY, 'simple', '1'));
    assert.deepEqual(model['versions'].map((version: JsonDocument) => [version['version'], version['sha256'], version['size_bytes']]), [['1', digest.sha256, digest.sizeBytes]]);
    assert.deepEqual(readFileSync(join(repository, 'adder', '1', 'model.onnx')), readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx')));
    assert.deepEqual(await auditActions('model/adder'), ['model.create']);
    const [event] = await api.triage.triage.registry.audit.recent(1, 'model/adder');
    assert.deepEqual(event?.actor, { tenant_id: 'admin', key_id: 'bootstrap' });
    assert.equal(event?.before, null);
  });

  it('lists and shows registered models, with the tenants allowed to use them', async () => {
    const tenant = await api.createTenant('registry-reader');
    const list = await api.call('GET', '/v1/models');
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body?.['models'].some((model: JsonDocument) => model['name'] === 'adder'));
    const shown = await api.call('GET', '/v1/models/adder');
    assert.equal(shown.status, 200, shown.text);
    assert.ok(shown.body?.['tenants'].includes(tenant), shown.text);
    assert.equal(shown.body?.['config']['name'], 'adder');
    assert.equal((await api.call('GET', '/v1/models/nothing-here')).status, 404);
  });

  it('refuses a second model of the same name with 409 and leaves the repository as it was', async () => {
    const before = folderSnapshot(repository);
    const answer = await push(simpleFiles('adder'));
    assert.equal(answer.status, 409, answer.text);
    assert.match(answer.body?.['error'], /already registered/);
    assert.deepEqual(folderSnapshot(repository), before);
  });

  it('refuses an invalid model with 422 listing every problem, writing nothing', async () => {
    const before = folderSnapshot(repository);
    const snapshot = await api.snapshot();
    const files = simpleFiles('broken', (config) => config.replace('name: "INPUT1"', 'name: "INPUT9"'));
    files['broken/2/notes.txt'] = 'no model file in this version';
    const answer = await push(files);
    assert.equal(answer.status, 422, answer.text);
    const rules = (answer.body?.['problems'] as JsonDocument[]).map((problem) => problem['rule']);
    assert.ok(rules.includes('missing-model-file'), answer.text);
    assert.ok(rules.some((rule) => rule.startsWith('onnx-')), answer.text);
    assert.match(answer.body?.['error'], /model 'broken' is not valid/);
    assert.deepEqual(folderSnapshot(repository), before);
    assert.deepEqual(await api.snapshot(), snapshot);
  });

  it('refuses a hostile archive with 400 naming the entry, writing nothing', async () => {
    const before = folderSnapshot(repository);
    const files = simpleFiles('escape');
    files['escape/../../outside.txt'] = 'x';
    const answer = await push(files);
    assert.equal(answer.status, 400, answer.text);
    assert.match(answer.body?.['error'], /outside\.txt/);
    assert.deepEqual(folderSnapshot(repository), before);
    assert.equal((await api.call('GET', '/v1/models/escape')).status, 404);
  });

  it('refuses every kind of hostile archive with 400, leaving the repository byte for byte as it was', async () => {
    const before = folderSnapshot(repository);
    const sample = Object.entries(simpleFiles('hostile')).map(([name, data]): TarEntrySpec => ({ name, data: Buffer.from(data) }));
    const tarCases: [string, TarEntrySpec][] = [
      ['absolute path', { name: '/etc/hostile', data: Buffer.from('x') }],
      ['symbolic link', { name: 'hostile/1/link.onnx', type: 'symlink', linkname: '/etc/passwd' }],
      ['hard link', { name: 'hostile/1/hard.onnx', type: 'link', linkname: 'hostile/config.pbtxt' }],
      ['device file', { name: 'hostile/1/device', type: 'character-device' }],
    ];
    for (const [label, entry] of tarCases) {
      const answer = await api.call('POST', '/v1/models', TEST_ADMIN_KEY, await buildTarGz([...sample, entry]), GZIP);
      assert.equal(answer.status, 400, `${label}: ${answer.text}`);
    }
    const zipBomb = await buildYazlZip({ 'hostile/config.pbtxt': Buffer.from(String(simpleFiles('hostile')['hostile/config.pbtxt'])), 'hostile/1/model.onnx': Buffer.alloc(64 * 1024 * 1024) });
    const bomb = await api.call('POST', '/v1/models', TEST_ADMIN_KEY, zipBomb, { 'content-type': 'application/zip' });
    assert.equal(bomb.status, 400, `zip bomb: ${bomb.text}`);
    const manyFiles = buildZip(Array.from({ length: 100_000 }, (_, index) => ({ name: `hostile/${index}`, method: 0 })));
    const many = await api.call('POST', '/v1/models', TEST_ADMIN_KEY, manyFiles, { 'content-type': 'application/zip' });
    assert.equal(many.status, 400, `100,000 files: ${many.text}`);
    assert.match(many.body?.['error'], /100000 entries/);
    assert.deepEqual(folderSnapshot(repository), before);
    assert.equal((await api.call('GET', '/v1/models/hostile')).status, 404);
  });

  it('refuses a decompression bomb early, closing the connection, writing nothing', async () => {
    const before = folderSnapshot(repository);
    const files = simpleFiles('bomb');
    files['bomb/1/padding.bin'] = Buffer.alloc(64 * 1024 * 1024);
    const body = await tarGz(files);
    assert.ok(body.length < 1024 * 1024, `the bomb is ${body.length} bytes compressed`);
    const answer = await api.call('POST', '/v1/models', TEST_ADMIN_KEY, body, GZIP);
    assert.equal(answer.status, 400, answer.text);
    assert.match(answer.body?.['error'], /ratio|compress/i);
    assert.deepEqual(folderSnapshot(repository), before);
  });

  it('refuses a body that is not a gzip or zip archive, naming the accepted types', async () => {
    const answer = await api.call('POST', '/v1/models', TEST_ADMIN_KEY, 'plain text', { 'content-type': 'text/plain' });
    assert.equal(answer.status, 400, answer.text);
    assert.match(answer.body?.['error'], /application\/gzip/);
    const corrupt = await api.call('POST', '/v1/models', TEST_ADMIN_KEY, Buffer.from('not gzip at all'), GZIP);
    assert.equal(corrupt.status, 400, corrupt.text);
  });

  it('adds a version from an archive of one version folder, and refuses it twice', async () => {
    const onnx = readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));
    const answer = await api.call('POST', '/v1/models/adder/versions', TEST_ADMIN_KEY, await tarGz({ '2/model.onnx': onnx }), GZIP);
    assert.equal(answer.status, 201, answer.text);
    assert.deepEqual(answer.body?.['versions'].map((version: JsonDocument) => version['version']), ['1', '2']);
    assert.ok(existsSync(join(repository, 'adder', '2', 'model.onnx')));
    const again = await api.call('POST', '/v1/models/adder/versions', TEST_ADMIN_KEY, await tarGz({ '2/model.onnx': onnx }), GZIP);
    assert.equal(again.status, 409, again.text);
    const bad = await api.call('POST', '/v1/models/adder/versions?version=3', TEST_ADMIN_KEY, await tarGz({ 'readme.txt': 'no model' }), GZIP);
    assert.equal(bad.status, 422, bad.text);
    assert.ok(!existsSync(join(repository, 'adder', '3')));
    const versions = await api.call('GET', '/v1/models/adder/versions');
    assert.deepEqual(versions.body?.['versions'].map((version: JsonDocument) => version['version']), ['1', '2']);
  });

  it('deletes a version, but not the last one', async () => {
    const answer = await api.call('DELETE', '/v1/models/adder/versions/2');
    assert.equal(answer.status, 200, answer.text);
    assert.ok(!existsSync(join(repository, 'adder', '2')));
    const last = await api.call('DELETE', '/v1/models/adder/versions/1');
    assert.equal(last.status, 409, last.text);
    assert.match(last.body?.['error'], /only version/);
    assert.equal((await api.call('DELETE', '/v1/models/adder/versions/7')).status, 404);
  });

  it('replaces the config after validating it against every version', async () => {
    const current = (await api.call('GET', '/v1/models/adder')).body?.['config'] as JsonDocument;
    const changed = await api.call('PUT', '/v1/models/adder/config', TEST_ADMIN_KEY, { ...current, max_batch_size: 4 });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body?.['max_batch_size'], 4);
    assert.match(readFileSync(join(repository, 'adder', 'config.pbtxt'), 'utf8'), /max_batch_size: 4/);
    const before = folderSnapshot(repository);
    const unknown = await api.call('PUT', '/v1/models/adder/config', TEST_ADMIN_KEY, { ...current, max_batch_sizes: 4 });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.body?.['error'], /max_batch_sizes/);
    const wrongType = structuredClone(current);
    (wrongType['input'] as JsonDocument[])[0]!['data_type'] = 'TYPE_FP32';
    const mismatch = await api.call('PUT', '/v1/models/adder/config', TEST_ADMIN_KEY, wrongType);
    assert.equal(mismatch.status, 422, mismatch.text);
    assert.deepEqual(folderSnapshot(repository), before);
    assert.deepEqual(await auditActions('model/adder'), ['model.create', 'model.version.create', 'model.version.delete', 'model.config.update']);
  });

  it('checks deploy requests field by field and records the desired deployment', async () => {
    const cases: [unknown, RegExp][] = [
      [{ replicas: 0 }, /replicas must be an integer from 1/],
      [{ replicas: 'some' }, /replicas/],
      [{ replicas: 1, color: 'red' }, /color is not a field here/],
      [{ replicas: 1, instance_labels: { gpu: 7 } }, /instance_labels\.gpu/],
      [{ replicas: 1, version_policy: { newest: {} } }, /version_policy/],
    ];
    for (const [body, message] of cases) {
      const answer = await api.call('POST', '/v1/models/adder/deploy', TEST_ADMIN_KEY, body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.match(answer.body?.['error'], message);
    }
    const deployed = await api.call('POST', '/v1/models/adder/deploy', TEST_ADMIN_KEY, { replicas: 2, version_policy: { latest: { num_versions: 1 } } });
    assert.equal(deployed.status, 202, deployed.text);
    assert.equal(deployed.body?.['deployment']['replicas'], 2);
    assert.deepEqual(deployed.body?.['deployment']['version_policy'], { latest: { num_versions: 1 } });
    const undeployed = await api.call('POST', '/v1/models/adder/undeploy');
    assert.equal(undeployed.status, 202, undeployed.text);
    assert.equal(undeployed.body?.['deployment']['replicas'], 0);
  });

  it('shows a tenant\'s read key only the models its quotas allow, without owner or tenants, and refuses its writes', async () => {
    const tenant = await api.createTenant('registry-tenant');
    const quotas = await api.call('PUT', `/v1/tenants/${tenant}/quotas`, TEST_ADMIN_KEY, { allowed_models: ['identity_fp32'] });
    assert.equal(quotas.status, 200, quotas.text);
    const { key } = await api.createKey(tenant, ['read']);
    const identity: Record<string, Buffer> = {};
    for (const [path, bytes] of Object.entries(folderFiles(join(SAMPLE_REPOSITORY, 'identity_fp32')))) identity[`identity_fp32/${path}`] = bytes;
    assert.equal((await push(identity)).status, 201);
    const list = await api.call('GET', '/v1/models', key);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body?.['models'].map((model: JsonDocument) => model['name']), ['identity_fp32'], list.text);
    const visible = list.body?.['models'][0] as JsonDocument;
    assert.equal(visible['owner'], undefined);
    assert.equal(visible['tenants'], undefined);
    assert.equal((await api.call('GET', '/v1/models/adder', key)).status, 404);
    const write = await push(simpleFiles('tenant-model'), '', key);
    assert.equal(write.status, 403, write.text);
    assert.equal((await api.call('POST', '/v1/models/adder/deploy', key, { replicas: 1 })).status, 403);
  });

  it('deletes an undeployed model: record, folder and audit', async () => {
    const answer = await api.call('DELETE', '/v1/models/adder');
    assert.equal(answer.status, 200, answer.text);
    assert.ok(!existsSync(join(repository, 'adder')));
    assert.equal((await api.call('GET', '/v1/models/adder')).status, 404);
    const actions = await auditActions('model/adder');
    assert.equal(actions[actions.length - 1], 'model.delete');
  });

  it('names the model from ?name= or config.pbtxt when the archive has no top-level folder', async () => {
    const files: Record<string, Buffer | string> = {};
    for (const [path, bytes] of Object.entries(simpleFiles('flat'))) files[path.slice('flat/'.length)] = bytes;
    const named = await push(files);
    assert.equal(named.status, 201, named.text);
    assert.equal(named.body?.['name'], 'flat');
    const digest = createHash('sha256').update(readFileSync(join(repository, 'flat', 'config.pbtxt'))).digest('hex');
    assert.equal(digest, createHash('sha256').update(files['config.pbtxt'] as string).digest('hex'));
  });
});
