import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { runTriageCli, type CliRun } from '../support/cli-run';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startAdminFixture, type AdminFixture, type JsonDocument } from './admin-fixture';

describe('admin API: the triage models command', function () {
  this.timeout(60_000);
  let api: AdminFixture;
  let scratch: string;

  /** `triage <args>` as a user runs it (stdout not a terminal: answers are JSON), with TRIAGE_URL and TRIAGE_API_KEY set. */
  const triage = (args: readonly string[]): Promise<CliRun> => runTriageCli(args, { TRIAGE_URL: api.base, TRIAGE_API_KEY: TEST_ADMIN_KEY }, scratch);
  const json = async (args: readonly string[]): Promise<JsonDocument> => {
    const run = await triage(args);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as JsonDocument;
  };
  /** A copy of the sample `simple` model in the scratch folder, named `name` (folder and config). */
  const modelFolder = (name: string): string => {
    const folder = join(scratch, name);
    cpSync(join(SAMPLE_REPOSITORY, 'simple'), folder, { recursive: true });
    const config = join(folder, 'config.pbtxt');
    writeFileSync(config, readFileSync(config, 'utf8').replace('name: "simple"', `name: "${name}"`));
    return folder;
  };

  before(async () => {
    api = await startAdminFixture();
    scratch = mkdtempSync(join(tmpdir(), 'triage-models-cli-'));
  });
  after(async () => {
    await api?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('pushes a model folder, reporting the upload, then lists, shows and versions it', async () => {
    const folder = modelFolder('cli_model');
    const push = await triage(['models', 'push', folder]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stderr, /uploaded cli_model: [0-9.]+ (B|KiB|MiB) compressed in [0-9.]+ s, validated and registered/);
    const pushed = JSON.parse(push.stdout) as JsonDocument;
    assert.equal(pushed['name'], 'cli_model');
    assert.deepEqual(pushed['versions'].map((version: JsonDocument) => version['version']), ['1']);
    const list = await json(['models', 'list']);
    assert.deepEqual(list['models'].map((model: JsonDocument) => model['name']), ['cli_model']);
    const shown = await json(['models', 'show', 'cli_model']);
    assert.equal(shown['config']['max_batch_size'], 8);
    const versions = await json(['models', 'versions', 'cli_model']);
    assert.equal(versions['versions'][0]['sha256'], pushed['versions'][0]['sha256']);
  });

  it('pushes only the new version folders of a registered model, and says when there is nothing new', async () => {
    const folder = join(scratch, 'cli_model');
    cpSync(join(folder, '1'), join(folder, '2'), { recursive: true });
    const pushed = await json(['models', 'push', folder]);
    assert.deepEqual(pushed['versions'].map((version: JsonDocument) => version['version']), ['1', '2']);
    const again = await triage(['models', 'push', folder]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /nothing to push: model 'cli_model' already has version\(s\) 1, 2/);
  });

  it('prints every validation problem of a refused model and exits 1', async () => {
    const folder = modelFolder('cli_broken');
    writeFileSync(join(folder, 'config.pbtxt'), readFileSync(join(folder, 'config.pbtxt'), 'utf8').replace('TYPE_INT32', 'TYPE_FP32'));
    rmSync(join(folder, '1', 'model.onnx'));
    cpSync(join(SAMPLE_REPOSITORY, 'simple', '1'), join(folder, '2'), { recursive: true });
    const run = await triage(['models', 'push', folder]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /model 'cli_broken' is not valid/);
    assert.match(run.stderr, /\[missing-model-file\]/);
    assert.match(run.stderr, /\[onnx-type-mismatch\]/);
    assert.match(run.stderr, /HTTP 422/);
  });

  it('deploys, undeploys and deletes, and checks --replicas before calling', async () => {
    const bad = await triage(['models', 'deploy', 'cli_model', '--replicas', 'many']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--replicas must be a positive integer or "all"/);
    const deployed = await json(['models', 'deploy', 'cli_model', '--replicas', '1', '--label', 'zone=a']);
    assert.deepEqual(deployed['deployment']['instance_labels'], { zone: 'a' });
    assert.equal(deployed['deployment']['replicas'], 1);
    const undeployed = await json(['models', 'undeploy', 'cli_model']);
    assert.equal(undeployed['deployment']['replicas'], 0);
    const deleted = await json(['models', 'delete', 'cli_model']);
    assert.equal(deleted['name'], 'cli_model');
    const gone = await triage(['models', 'show', 'cli_model']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no model 'cli_model' in the registry \(HTTP 404\)/);
  });
});
