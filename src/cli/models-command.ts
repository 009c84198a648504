import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Command } from 'commander';
import { packDirectory } from '../repository/archive/pack-directory';
import type { ModelRecord, PlacementRecord } from '../registry/model-record';
import { apiPath, type AdminClient } from './admin-client';
import { adminClient, adminCommand, printAnswer, type AdminOptions, type Environment } from './admin-options';
import { byteText, ProgressLine } from './progress-line';
import { parseLabels } from './label-arguments';
import { formatRecord, formatTable } from './text-table';

type ModelView = ModelRecord & { readonly state: readonly PlacementRecord[]; readonly unplaced?: string | null; readonly tenants?: readonly string[] };

interface PushOptions extends AdminOptions {
  readonly name?: string;
}

interface DeployOptions extends AdminOptions {
  readonly replicas: string;
  readonly label: readonly string[];
  readonly wait?: boolean;
  readonly timeout: string;
}

interface WaitOptions extends AdminOptions {
  readonly wait?: boolean;
  readonly timeout: string;
}

/** `triage models push|list|show|versions|deploy|undeploy|delete`: the model registry through the admin API. */
export function modelsCommand(env: Environment): Command {
  const models = new Command('models').description('Register, version, deploy and undeploy models (admin API on the HTTP port).');
  models.addCommand(adminCommand('push', 'Upload a model folder (config.pbtxt + version folders): registers a new model, or adds the folder\'s versions the registry lacks.')
    .argument('<dir>', 'the model folder')
    .option('--name <name>', 'model name (default: the folder\'s name)')
    .action(async (dir: string, options: PushOptions) => {
      const client = adminClient(options, env);
      const folder = resolve(dir);
      const name = options.name ?? basename(folder);
      const existing = await client.json<ModelView>('GET', apiPath('models', name)).catch((error: Error) => {
        if (/\(HTTP 404\)$/.test(error.message)) return null;
        throw error;
      });
      const record = existing === null ? await pushModel(client, folder, name) : await pushNewVersions(client, folder, existing);
      printAnswer(options, record, () => formatModel(record));
    }));
  models.addCommand(adminCommand('list', 'List registered models.')
    .action(async (options: AdminOptions) => {
      const answer = await adminClient(options, env).json<{ models: ModelView[] }>('GET', apiPath('models'));
      printAnswer(options, answer, () => (answer.models.length === 0 ? 'no models' : formatTable(['name', 'backend', 'versions', 'deployment', 'ready'], answer.models.map(modelRow))));
    }));
  models.addCommand(adminCommand('show', 'Show a model: config, versions, deployment and state on each instance.')
    .argument('<name>')
    .action(async (name: string, options: AdminOptions) => {
      const model = await adminClient(options, env).json<ModelView>('GET', apiPath('models', name));
      printAnswer(options, model, () => formatModel(model));
    }));
  models.addCommand(adminCommand('versions', 'List a model\'s versions with size and sha256.')
    .argument('<name>')
    .action(async (name: string, options: AdminOptions) => {
      const answer = await adminClient(options, env).json<{ versions: ModelRecord['versions'] }>('GET', apiPath('models', name, 'versions'));
      printAnswer(options, answer, () => formatTable(['version', 'size', 'sha256', 'files', 'created_at'], answer.versions.map((version) => ({ ...version, size: byteText(version.size_bytes) }))));
    }));
  models.addCommand(adminCommand('deploy', 'Deploy a model on N instances (or all); with --wait, show the load until it is READY.')
    .argument('<name>')
    .requiredOption('--replicas <n>', 'number of instances, or "all"')
    .option('--label <key=value>', 'only instances with this label (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--wait', 'wait until the model is READY on its instances, showing progress')
    .option('--timeout <seconds>', 'longest wait with --wait', '300')
    .action(async (name: string, options: DeployOptions) => {
      const client = adminClient(options, env);
      const replicas = options.replicas === 'all' ? 'all' : Number(options.replicas);
      if (replicas !== 'all' && (!Number.isInteger(replicas) || replicas < 1)) throw new Error(`--replicas must be a positive integer or "all", got '${options.replicas}'`);
      const labels = parseLabels(options.label);
      const deployed = await client.json<ModelView>('POST', apiPath('models', name, 'deploy'), { replicas, ...(Object.keys(labels).length === 0 ? {} : { instance_labels: labels }) });
      const model = options.wait === true ? await waitFor(client, name, seconds(options.timeout), deployedEnough) : deployed;
      printAnswer(options, model, () => formatModel(model));
    }));
  models.addCommand(adminCommand('undeploy', 'Unload a model from every instance.')
    .argument('<name>')
    .option('--wait', 'wait until no instance holds it')
    .option('--timeout <seconds>', 'longest wait with --wait', '300')
    .action(async (name: string, options: WaitOptions) => {
      const client = adminClient(options, env);
      const undeployed = await client.json<ModelView>('POST', apiPath('models', name, 'undeploy'));
      const model = options.wait === true ? await waitFor(client, name, seconds(options.timeout), (view) => view.state.length === 0) : undeployed;
      printAnswer(options, model, () => formatModel(model));
    }));
  models.addCommand(adminCommand('delete', 'Delete a model (undeployed first) with its versions.')
    .argument('<name>')
    .action(async (name: string, options: AdminOptions) => {
      const model = await adminClient(options, env).json<ModelView>('DELETE', apiPath('models', name));
      printAnswer(options, model, () => `deleted ${model.name} (${model.versions.length} version(s))`);
    }));
  return models;
}

async function pushModel(client: AdminClient, folder: string, name: string): Promise<ModelView> {
  return upload(client, `${name}`, apiPath('models') + `?name=${encodeURIComponent(name)}`, folder);
}

/** Uploads each numeric version folder of `folder` that the registry does not have yet. */
async function pushNewVersions(client: AdminClient, folder: string, existing: ModelView): Promise<ModelView> {
  const registered = new Set(existing.versions.map((version) => version.version));
  const local = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory() && /^[1-9][0-9]*$/.test(entry.name)).map((entry) => entry.name);
  const fresh = local.filter((version) => !registered.has(version)).sort((a, b) => Number(a) - Number(b));
  if (fresh.length === 0) throw new Error(`nothing to push: model '${existing.name}' already has version(s) ${[...registered].join(', ')} (the folder has ${local.join(', ') || 'none'})`);
  let model = existing;
  for (const version of fresh) {
    model = await upload(client, `${existing.name} version ${version}`, `${apiPath('models', existing.name, 'versions')}?version=${version}`, join(folder, version));
  }
  return model;
}

async function upload(client: AdminClient, what: string, path: string, folder: string): Promise<ModelView> {
  const progress = new ProgressLine();
  const started = Date.now();
  let total = 0;
  const model = await client.upload<ModelView>('POST', path, 'application/gzip', packDirectory(folder), (sent) => {
    total = sent;
    const rate = sent / Math.max(0.001, (Date.now() - started) / 1000);
    progress.update(`uploading ${what}: ${byteText(sent)} (${byteText(rate)}/s)`);
  });
  progress.done(`uploaded ${what}: ${byteText(total)} compressed in ${((Date.now() - started) / 1000).toFixed(1)} s, validated and registered`);
  return model;
}

/** Polls the model every 500 ms, showing its state per instance, until `done` holds; throws on FAILED or timeout. */
async function waitFor(client: AdminClient, name: string, timeoutMs: number, done: (view: ModelView) => boolean): Promise<ModelView> {
  const progress = new ProgressLine();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await client.json<ModelView>('GET', apiPath('models', name));
    const failed = view.state.filter((each) => each.state === 'FAILED');
    const summary = view.state.map((each) => `${each.instance} ${each.state}`).join(', ') || 'no instance yet';
    if (done(view)) {
      progress.done(`${name}: ${summary}`);
      return view;
    }
    if (failed.length > 0) {
      progress.done(`${name}: ${summary}`);
      throw new Error(failed.map((each) => `${name} failed on ${each.instance}: ${each.reason ?? 'no reason given'}`).join('\n'));
    }
    if (Date.now() >= deadline) {
      progress.done(`${name}: ${summary}`);
      throw new Error(`${name} is not there after ${timeoutMs / 1000} s: ${summary}`);
    }
    progress.update(`${name}: ${summary}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function deployedEnough(view: ModelView): boolean {
  const ready = view.state.filter((each) => each.state === 'READY').length;
  const replicas = view.deployment?.replicas;
  if (replicas === 'all') return ready > 0 && view.state.every((each) => each.state === 'READY');
  return typeof replicas === 'number' && ready >= replicas;
}

function modelRow(model: ModelView): Record<string, unknown> {
  const replicas = model.deployment === null ? 'unmanaged' : model.deployment.replicas === 0 ? 'undeployed' : `${model.deployment.replicas} replica(s)`;
  return {
    name: model.name,
    backend: model.backend || model.platform,
    versions: model.versions.map((version) => version.version).join(','),
    deployment: replicas,
    ready: model.state.filter((each) => each.state === 'READY').map((each) => each.instance).join(', '),
  };
}

function formatModel(model: ModelView): string {
  const head = formatRecord(modelRow(model));
  const versions = formatTable(['version', 'size', 'sha256'], model.versions.map((version) => ({ version: version.version, size: byteText(version.size_bytes), sha256: version.sha256 })));
  const state = model.state.length === 0 ? 'not loaded anywhere' : formatTable(['instance', 'state', 'versions', 'reason'], model.state.map((each) => ({ ...each, versions: each.versions.join(','), reason: each.reason ?? '' })));
  const unplaced = model.unplaced === undefined || model.unplaced === null ? '' : `\n\nfewer replicas than wanted: ${model.unplaced}`;
  return `${head}\n\nversions:\n${versions}\n\ninstances:\n${state}${unplaced}`;
}

function seconds(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--timeout must be a positive number of seconds, got '${text}'`);
  return value * 1000;
}
