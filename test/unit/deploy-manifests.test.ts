import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, it } from 'mocha';
import { parseAllDocuments } from 'yaml';
import { LOCAL_TRITON_SETTINGS } from '../../src/config/local-triton-settings';
import { SERVE_SETTINGS } from '../../src/config/serve-settings';
import { CHUNK_QUEUE } from '../../src/jobs/execution/chunk-queue';
import { projectRoot } from '../../src/protocol/project-paths';
import { RedisKeys } from '../../src/redis/redis-keys';

/*
 * Static checks of deploy/ (no image is built, no cluster or daemon is needed). Each check is a
 * function from parsed files to a list of problems; the real files must give none, and a broken
 * snippet fed to each function must give one (the last describe), so no check is vacuous.
 */

/** The triage image's name in compose and in the Kubernetes base, and the name kustomize `images` maps. */
const TRIAGE_IMAGE = 'triage';
const ROOT = projectRoot();
const DEPLOY = join(ROOT, 'deploy');

// ---------------------------------------------------------------- reading values of unknown shape

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const objs = (value: unknown): Obj[] => (Array.isArray(value) ? value.filter(isObj) : []);
const at = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((node, key) => (isObj(node) ? node[key] : undefined), value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);
/** A list of strings; a string is split on whitespace (compose's `command: serve --flag`). */
const strs = (value: unknown): string[] => {
  if (typeof value === 'string') return value.split(/\s+/).filter((item) => item !== '');
  return Array.isArray(value) ? value.map(str).filter((item): item is string => item !== undefined) : [];
};
const labelsOf = (value: unknown): Map<string, string> => new Map(Object.entries(isObj(value) ? value : {}).flatMap(([key, item]): [string, string][] => {
  const text = str(item);
  return text === undefined ? [] : [[key, text]];
}));
const includesLabels = (labels: Map<string, string>, selector: Map<string, string>): boolean => selector.size > 0 && [...selector].every(([key, value]) => labels.get(key) === value);
/** `registry/name:tag@digest` -> `registry/name`. */
const imageRepository = (image: string): string => image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');

// ---------------------------------------------------------------- settings

const SETTINGS = [...Object.values(LOCAL_TRITON_SETTINGS), ...Object.values(SERVE_SETTINGS)] as readonly { readonly env: string; readonly defaultValue: unknown }[];
const SETTING_NAMES: ReadonlySet<string> = new Set(SETTINGS.map((setting) => setting.env));

function defaultPort(env: string, fallback: number): number {
  const value = SETTINGS.find((setting) => setting.env === env)?.defaultValue;
  return typeof value === 'number' ? value : fallback;
}

/** A port from a settings map, the setting's default when absent; NaN when the value is not a literal port. */
function portSetting(env: ReadonlyMap<string, string | null>, name: string, fallback: number): number {
  const raw = env.get(name);
  if (raw === undefined || raw === null || raw === '') return defaultPort(name, fallback);
  return /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
}

interface FoundVariable {
  readonly source: string;
  readonly name: string;
}

const VARIABLE = /^TRIAGE_[A-Z0-9_]+$/;

/** Every TRIAGE_* variable a YAML document sets: mapping keys (compose environment, ConfigMap data), env entries `{name, value|valueFrom}`, list items `NAME=value`. */
function yamlVariables(source: string, document: unknown): FoundVariable[] {
  const found: FoundVariable[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) {
        const match = typeof item === 'string' ? /^(TRIAGE_[A-Z0-9_]+)=/.exec(item) : null;
        if (match !== null) found.push({ source, name: match[1] as string });
        visit(item);
      }
    } else if (isObj(node)) {
      const name = str(node['name']);
      if (name !== undefined && VARIABLE.test(name) && ('value' in node || 'valueFrom' in node)) found.push({ source, name });
      for (const [key, value] of Object.entries(node)) {
        if (VARIABLE.test(key)) found.push({ source, name: key });
        visit(value);
      }
    }
  };
  visit(document);
  return found;
}

/** `NAME=value` lines of an env file (.env.example, a secretGenerator input). */
function envFileVariables(source: string, text: string): FoundVariable[] {
  return text.split('\n').flatMap((line) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    return match !== null && (match[1] as string).startsWith('TRIAGE_') ? [{ source, name: match[1] as string }] : [];
  });
}

function unknownVariableProblems(found: readonly FoundVariable[], known: ReadonlySet<string>): string[] {
  return found.filter(({ name }) => !known.has(name)).map(({ source, name }) => `${source}: ${name} is not a setting of triage serve or triage local-triton`);
}

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  readonly keyword: string;
  readonly argument: string;
}

function dockerInstructions(text: string): Instruction[] {
  const logical = text.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n').replace(/\\\n/g, ' ');
  return logical.split('\n').map((line) => line.trim()).filter((line) => line !== '').map((line) => {
    const space = line.search(/\s/);
    return space < 0 ? { keyword: line.toUpperCase(), argument: '' } : { keyword: line.slice(0, space).toUpperCase(), argument: line.slice(space + 1).trim() };
  });
}

/** The final stage's EXPOSE, USER, ENTRYPOINT and HEALTHCHECK. */
function dockerfileProblems(text: string, ports: readonly number[]): string[] {
  const instructions = dockerInstructions(text);
  const lastFrom = instructions.map((instruction) => instruction.keyword).lastIndexOf('FROM');
  if (lastFrom < 0) return ['Dockerfile: no FROM'];
  const stage = instructions.slice(lastFrom);
  const last = (keyword: string): Instruction | undefined => stage.filter((instruction) => instruction.keyword === keyword).pop();
  const problems: string[] = [];
  const exposed = stage.filter((instruction) => instruction.keyword === 'EXPOSE').flatMap((instruction) => instruction.argument.split(/\s+/)).map((port) => Number(port.replace(/\/tcp$/, '')));
  if ([...new Set(exposed)].sort().join(',') !== [...new Set(ports)].sort().join(',')) problems.push(`Dockerfile: EXPOSE ${exposed.join(' ')} instead of ${ports.join(' ')}`);
  const user = last('USER')?.argument.split(':')[0];
  if (user === undefined || user === 'root' || user === '0') problems.push(`Dockerfile: the runtime stage runs as ${user ?? 'root (no USER)'}`);
  const entrypoint = last('ENTRYPOINT')?.argument ?? '';
  let argv: unknown = null;
  try {
    argv = JSON.parse(entrypoint);
  } catch {
    // Shell form: refused below.
  }
  if (!Array.isArray(argv) || argv[0] !== 'node' || argv[1] !== 'bin/triage.js') problems.push(`Dockerfile: ENTRYPOINT must be ["node", "bin/triage.js"] (exec form), got ${entrypoint || 'none'}`);
  const healthcheck = last('HEALTHCHECK')?.argument;
  if (healthcheck === undefined || /^NONE$/i.test(healthcheck)) problems.push('Dockerfile: the runtime stage has no HEALTHCHECK');
  return problems;
}

function dockerfileVariables(source: string, text: string): FoundVariable[] {
  return dockerInstructions(text).filter((instruction) => instruction.keyword === 'ENV').flatMap((instruction) => {
    const names = /=/.test(instruction.argument.split(/\s+/)[0] ?? '')
      ? [...instruction.argument.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((match) => match[1] as string)
      : [instruction.argument.split(/\s+/)[0] ?? ''];
    return names.filter((name) => name.startsWith('TRIAGE_')).map((name) => ({ source, name }));
  });
}

// ---------------------------------------------------------------- compose

interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  readonly builtHere: boolean;
  readonly entrypoint: string[];
  readonly command: string[];
  readonly environment: Map<string, string | null>;
  /** Container side of each `ports` entry. */
  readonly ports: number[];
  readonly healthcheck: string[];
}

function composeServices(compose: unknown): ComposeService[] {
  return Object.entries(isObj(at(compose, 'services')) ? (at(compose, 'services') as Obj) : {}).map(([name, service]) => {
    const rawEnvironment = at(service, 'environment');
    const environment = new Map<string, string | null>(Array.isArray(rawEnvironment)
      ? strs(rawEnvironment).map((entry): [string, string | null] => [entry.split('=')[0] as string, entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : null])
      : Object.entries(isObj(rawEnvironment) ? rawEnvironment : {}).map(([key, value]): [string, string | null] => [key, str(value) ?? null]));
    const ports = (Array.isArray(at(service, 'ports')) ? (at(service, 'ports') as unknown[]) : []).map((entry) => {
      const target = isObj(entry) ? str(entry['target']) : str(entry)?.split(':').pop();
      return Number((target ?? '').replace(/\/(tcp|udp)$/, ''));
    });
    const dockerfile = str(at(service, 'build', 'dockerfile')) ?? '';
    return {
      name,
      image: str(at(service, 'image')),
      builtHere: dockerfile.endsWith('deploy/docker/Dockerfile'),
      entrypoint: strs(at(service, 'entrypoint')),
      command: strs(at(service, 'command')),
      environment,
      ports,
      healthcheck: strs(at(service, 'healthcheck', 'test')),
    };
  });
}

const isTriageService = (service: ComposeService): boolean =>
  service.builtHere || (service.image !== undefined && imageRepository(service.image) === TRIAGE_IMAGE) || [...service.environment.keys()].some((key) => key.startsWith('TRIAGE_'));

type Mode = 'serve' | 'local-triton' | 'script';

function triageMode(entrypoint: readonly string[], command: readonly string[]): Mode {
  if (entrypoint.length > 0 && !entrypoint.includes('bin/triage.js')) return 'script';
  return command[0] === 'local-triton' ? 'local-triton' : 'serve';
}

function flagPort(command: readonly string[], flag: string, fallback: number): number {
  const given = command.map((argument) => new RegExp(`^--${flag}=(.*)$`).exec(argument)?.[1]).find((value) => value !== undefined);
  return given === undefined ? fallback : Number(given);
}

/** Published ports against the settings, health checks, and TRIAGE_TRITON_URLS / TRIAGE_TRITON_METRICS_PORT against the instances of the file. */
function composePortProblems(file: string, compose: unknown): string[] {
  const problems: string[] = [];
  const services = composeServices(compose);
  const instances = new Map<string, { grpc: number; metrics: number }>();
  for (const service of services) {
    if (service.command[0] === 'tritonserver') {
      instances.set(service.name, { grpc: flagPort(service.command, 'grpc-port', 8001), metrics: flagPort(service.command, 'metrics-port', 8002) });
      for (const port of service.ports) {
        const listening = [flagPort(service.command, 'http-port', 8000), flagPort(service.command, 'grpc-port', 8001), flagPort(service.command, 'metrics-port', 8002)];
        if (!listening.includes(port)) problems.push(`${file}: ${service.name} publishes ${port}, which tritonserver does not listen on`);
      }
    } else if (isTriageService(service) && triageMode(service.entrypoint, service.command) === 'local-triton') {
      const grpc = portSetting(service.environment, 'TRIAGE_LOCAL_TRITON_GRPC_PORT', 9001);
      const metrics = portSetting(service.environment, 'TRIAGE_LOCAL_TRITON_METRICS_PORT', 9002);
      instances.set(service.name, { grpc, metrics });
      for (const port of service.ports) if (port !== grpc && port !== metrics) problems.push(`${file}: ${service.name} publishes ${port}, but local-triton listens on ${grpc} and ${metrics}`);
      for (const url of service.healthcheck.filter((argument) => /^https?:\/\//.test(argument))) {
        if (new URL(url).port !== String(metrics)) problems.push(`${file}: ${service.name} health check ${url} is not its metrics port ${metrics}`);
      }
    }
  }
  for (const service of services.filter((candidate) => isTriageService(candidate) && triageMode(candidate.entrypoint, candidate.command) === 'serve')) {
    const http = portSetting(service.environment, 'TRIAGE_HTTP_PORT', 8000);
    const grpc = portSetting(service.environment, 'TRIAGE_GRPC_PORT', 8001);
    if (Number.isNaN(http) || Number.isNaN(grpc)) problems.push(`${file}: ${service.name} has a TRIAGE_HTTP_PORT or TRIAGE_GRPC_PORT that is not a port number`);
    for (const port of service.ports) if (port !== http && port !== grpc) problems.push(`${file}: ${service.name} publishes ${port}, but triage serve listens on ${http} (HTTP) and ${grpc} (gRPC)`);
    for (const url of service.healthcheck.filter((argument) => /^https?:\/\//.test(argument))) {
      const { port, pathname } = new URL(url);
      if (port !== String(http) || !['/healthz', '/readyz'].includes(pathname)) problems.push(`${file}: ${service.name} health check ${url} is not /healthz or /readyz on ${http}`);
    }
    const targets = service.environment.get('TRIAGE_TRITON_URLS') ?? '';
    if (targets === '' || targets.startsWith('dns:')) continue;
    const metricsPort = portSetting(service.environment, 'TRIAGE_TRITON_METRICS_PORT', 8002);
    for (const target of targets.split(',').map((item) => item.trim())) {
      const [host = '', port = ''] = target.split(':');
      const instance = instances.get(host);
      if (instance === undefined) problems.push(`${file}: ${service.name} routes to ${target}, but no tritonserver or local-triton service is called ${host}`);
      else {
        if (Number(port) !== instance.grpc) problems.push(`${file}: ${service.name} routes to ${target}, but ${host} serves gRPC on ${instance.grpc}`);
        if (metricsPort !== instance.metrics) problems.push(`${file}: ${service.name} scrapes Triton metrics on ${metricsPort}, but ${host} serves them on ${instance.metrics}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- Kubernetes

interface Probe {
  readonly kind: 'startupProbe' | 'livenessProbe' | 'readinessProbe';
  readonly path: string | undefined;
  readonly port: string | undefined;
}

interface Container {
  readonly workload: string;
  readonly name: string;
  readonly init: boolean;
  readonly image: string;
  readonly command: string[];
  readonly args: string[];
  /** Literal values, ConfigMap values (envFrom), null for values from Secrets. */
  readonly env: Map<string, string | null>;
  readonly ports: { readonly name: string | undefined; readonly number: number }[];
  readonly probes: Probe[];
}

interface Workload {
  readonly name: string;
  readonly podLabels: Map<string, string>;
  readonly containers: Container[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

function workloads(documents: readonly unknown[]): Workload[] {
  const configMaps = new Map(documents.filter((document) => at(document, 'kind') === 'ConfigMap')
    .map((document): [string, Map<string, string>] => [str(at(document, 'metadata', 'name')) ?? '', labelsOf(at(document, 'data'))]));
  return documents.filter((document) => WORKLOAD_KINDS.has(str(at(document, 'kind')) ?? '')).map((document) => {
    const workload = str(at(document, 'metadata', 'name')) ?? '?';
    const pod = at(document, 'spec', 'template', 'spec');
    const container = (raw: Obj, init: boolean): Container => {
      const env = new Map<string, string | null>();
      for (const source of objs(raw['envFrom'])) {
        for (const [key, value] of configMaps.get(str(at(source, 'configMapRef', 'name')) ?? '') ?? []) env.set(key, value);
      }
      for (const entry of objs(raw['env'])) env.set(str(entry['name']) ?? '', str(entry['value']) ?? null);
      const probes = (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).filter((kind) => isObj(raw[kind]))
        .map((kind) => ({ kind, path: str(at(raw[kind], 'httpGet', 'path')), port: str(at(raw[kind], 'httpGet', 'port')) }));
      return {
        workload, init, name: str(raw['name']) ?? '?', image: str(raw['image']) ?? '', command: strs(raw['command']), args: strs(raw['args']), env, probes,
        ports: objs(raw['ports']).map((port) => ({ name: str(port['name']), number: Number(port['containerPort']) })),
      };
    };
    return {
      name: workload,
      podLabels: labelsOf(at(document, 'spec', 'template', 'metadata', 'labels')),
      containers: [...objs(at(pod, 'initContainers')).map((raw) => container(raw, true)), ...objs(at(pod, 'containers')).map((raw) => container(raw, false))],
    };
  });
}

const isTriageContainer = (container: Container): boolean =>
  imageRepository(container.image) === TRIAGE_IMAGE || [...container.env.keys()].some((key) => key.startsWith('TRIAGE_'))
  || container.command.some((argument) => argument === 'bin/triage.js' || argument.startsWith('deploy/docker/'));

/** A probe's or Service's port (name or number) as a container port number; undefined when the container declares none such. */
function resolvePort(containers: readonly Container[], port: string): number | undefined {
  const ports = containers.flatMap((container) => container.ports);
  return /^[0-9]+$/.test(port) ? ports.find((candidate) => candidate.number === Number(port))?.number : ports.find((candidate) => candidate.name === port)?.number;
}

/** Container ports against TRIAGE_HTTP_PORT/TRIAGE_GRPC_PORT, probes against container ports, Services and ServiceMonitors against what they select, and the dns: discovery of Triton. */
function kubernetesPortProblems(documents: readonly unknown[], namespace: string | undefined): string[] {
  const problems: string[] = [];
  const all = workloads(documents);
  const services = documents.filter((document) => at(document, 'kind') === 'Service');
  const selected = (service: unknown): Workload[] => all.filter((workload) => includesLabels(workload.podLabels, labelsOf(at(service, 'spec', 'selector'))));
  for (const container of all.flatMap((workload) => workload.containers)) {
    const where = `${container.workload}/${container.name}`;
    for (const probe of container.probes) {
      if (probe.port !== undefined && resolvePort([container], probe.port) === undefined) problems.push(`${where}: ${probe.kind} port ${probe.port} is not a port of the container`);
    }
    if (!isTriageContainer(container) || container.init || triageMode(container.command, container.args) !== 'serve') continue;
    const http = portSetting(container.env, 'TRIAGE_HTTP_PORT', 8000);
    const grpc = portSetting(container.env, 'TRIAGE_GRPC_PORT', 8001);
    for (const port of container.ports) {
      if (port.number !== http && port.number !== grpc) problems.push(`${where}: container port ${port.number} is neither TRIAGE_HTTP_PORT (${http}) nor TRIAGE_GRPC_PORT (${grpc})`);
      const wanted = port.name === 'http' ? http : port.name === 'grpc' ? grpc : port.number;
      if (port.number !== wanted) problems.push(`${where}: port ${port.name ?? ''} is ${port.number}, the setting says ${wanted}`);
    }
    if (!container.ports.some((port) => port.number === http)) problems.push(`${where}: does not declare the HTTP port ${http} (health and metrics)`);
    for (const probe of container.probes) {
      if (probe.port !== undefined && resolvePort([container], probe.port) !== http) problems.push(`${where}: ${probe.kind} is not on the HTTP port ${http}`);
    }
    for (const kind of ['livenessProbe', 'readinessProbe'] as const) if (!container.probes.some((probe) => probe.kind === kind)) problems.push(`${where}: no ${kind}`);
    const targets = container.env.get('TRIAGE_TRITON_URLS') ?? '';
    const dns = /^dns:([^:]+):([0-9]+)$/.exec(targets);
    if (dns === null) continue;
    const [serviceName = '', serviceNamespace] = (dns[1] as string).split('.');
    if (serviceNamespace !== undefined && namespace !== undefined && serviceNamespace !== namespace) {
      problems.push(`${where}: TRIAGE_TRITON_URLS names namespace ${serviceNamespace}, the manifests are in ${namespace}`);
    }
    const service = services.find((candidate) => at(candidate, 'metadata', 'name') === serviceName);
    if (service === undefined) {
      problems.push(`${where}: TRIAGE_TRITON_URLS names the Service ${serviceName}, which does not exist`);
      continue;
    }
    if (at(service, 'spec', 'clusterIP') !== 'None') {
      problems.push(`${where}: the Service ${serviceName} of TRIAGE_TRITON_URLS is not headless (clusterIP: None): its DNS name would give one virtual IP, not the pods`);
    }
    const instances = selected(service).flatMap((workload) => workload.containers);
    const ports = new Set(instances.flatMap((instance) => instance.ports.map((port) => port.number)));
    if (!ports.has(Number(dns[2]))) problems.push(`${where}: TRIAGE_TRITON_URLS port ${dns[2]} is not a container port of the pods behind ${serviceName}`);
    const metrics = portSetting(container.env, 'TRIAGE_TRITON_METRICS_PORT', 8002);
    if (!ports.has(metrics)) problems.push(`${where}: TRIAGE_TRITON_METRICS_PORT ${metrics} is not a container port of the pods behind ${serviceName}`);
  }
  for (const service of services) {
    const name = str(at(service, 'metadata', 'name')) ?? '?';
    const behind = selected(service);
    if (behind.length === 0) problems.push(`Service ${name}: selects no workload`);
    for (const port of objs(at(service, 'spec', 'ports'))) {
      const target = str(port['targetPort']) ?? str(port['port']) ?? '';
      for (const workload of behind) {
        const containers = workload.containers.filter((container) => !container.init);
        if (resolvePort(containers, target) === undefined) problems.push(`Service ${name}: targetPort ${target} is not a container port of ${workload.name}`);
      }
    }
  }
  for (const monitor of documents.filter((document) => at(document, 'kind') === 'ServiceMonitor')) {
    const name = str(at(monitor, 'metadata', 'name')) ?? '?';
    const matched = services.filter((service) => includesLabels(labelsOf(at(service, 'metadata', 'labels')), labelsOf(at(monitor, 'spec', 'selector', 'matchLabels'))));
    if (matched.length === 0) problems.push(`ServiceMonitor ${name}: selects no Service`);
    for (const endpoint of objs(at(monitor, 'spec', 'endpoints'))) {
      const port = str(endpoint['port']);
      const named = matched.some((service) => objs(at(service, 'spec', 'ports')).some((candidate) => candidate['name'] === port));
      if (!named) problems.push(`ServiceMonitor ${name}: port ${port ?? '(none)'} is not a named port of the Services it selects`);
    }
  }
  return problems;
}

/** Liveness on /healthz, readiness on /readyz, startup on either, for every triage container. */
function probePathProblems(documents: readonly unknown[]): string[] {
  const expected: Readonly<Record<Probe['kind'], readonly string[]>> = { livenessProbe: ['/healthz'], readinessProbe: ['/readyz'], startupProbe: ['/healthz', '/readyz'] };
  return workloads(documents).flatMap((workload) => workload.containers).filter(isTriageContainer).flatMap((container) => container.probes
    .filter((probe) => !expected[probe.kind].includes(probe.path ?? ''))
    .map((probe) => `${container.workload}/${container.name}: ${probe.kind} path ${probe.path ?? '(none)'} should be ${expected[probe.kind].join(' or ')}`));
}

/** One image name for triage: compose, Kubernetes containers, kustomize `images`. */
function imageNameProblems(composeFiles: readonly unknown[], kubernetes: readonly unknown[], kustomizations: readonly unknown[]): string[] {
  const problems: string[] = [];
  for (const service of composeFiles.flatMap(composeServices).filter(isTriageService)) {
    if (service.image === undefined || imageRepository(service.image) !== TRIAGE_IMAGE) problems.push(`compose service ${service.name}: image ${service.image ?? '(none)'} is not ${TRIAGE_IMAGE}`);
  }
  const containers = workloads(kubernetes).flatMap((workload) => workload.containers);
  for (const container of containers.filter(isTriageContainer)) {
    if (imageRepository(container.image) !== TRIAGE_IMAGE) problems.push(`${container.workload}/${container.name}: image ${container.image} is not ${TRIAGE_IMAGE}`);
  }
  const repositories = new Set(containers.map((container) => imageRepository(container.image)));
  const mapped = kustomizations.flatMap((kustomization) => objs(at(kustomization, 'images')).map((image) => str(image['name']) ?? ''));
  for (const name of mapped) if (!repositories.has(name)) problems.push(`kustomize images: ${name} is the image of no container`);
  if (kustomizations.length > 0 && !mapped.includes(TRIAGE_IMAGE)) problems.push(`kustomize images: no kustomization sets the registry and tag of ${TRIAGE_IMAGE}`);
  return problems;
}

/** Files a kustomization names exist: resources, components, configurations, patches; generator inputs exist or have a .example beside them. */
function kustomizationProblems(directory: string, kustomization: unknown, exists: (path: string) => boolean): string[] {
  const problems: string[] = [];
  const local = (path: string): boolean => !/^[a-z]+:\/\//.test(path) && !path.startsWith('github.com/');
  const named = [...strs(at(kustomization, 'resources')), ...strs(at(kustomization, 'components')), ...strs(at(kustomization, 'configurations')),
    ...objs(at(kustomization, 'patches')).map((patch) => str(patch['path'])).filter((path): path is string => path !== undefined), ...strs(at(kustomization, 'patchesStrategicMerge'))];
  for (const path of named.filter(local)) {
    const full = join(directory, path);
    if (!exists(full) && !exists(join(full, 'kustomization.yaml')) && !exists(join(full, 'kustomization.yml'))) problems.push(`${directory}: ${path} does not exist`);
  }
  const generators = [...objs(at(kustomization, 'secretGenerator')), ...objs(at(kustomization, 'configMapGenerator'))];
  for (const input of generators.flatMap((generator) => [...strs(generator['envs']), ...strs(generator['files']).map((file) => file.slice(file.indexOf('=') + 1))])) {
    if (!exists(join(directory, input)) && !exists(join(directory, `${input}.example`))) problems.push(`${directory}: generator input ${input} has neither the file nor ${input}.example`);
  }
  return problems;
}

/** KEDA's Redis list is BullMQ's waiting list of the chunk queue, and the workers never scale to zero (their dispatcher fills that list). */
function scaledObjectProblems(documents: readonly unknown[], expectedList: string): string[] {
  const problems: string[] = [];
  const deployments = new Set(documents.filter((document) => at(document, 'kind') === 'Deployment').map((document) => str(at(document, 'metadata', 'name'))));
  for (const scaled of documents.filter((document) => at(document, 'kind') === 'ScaledObject')) {
    const name = str(at(scaled, 'metadata', 'name')) ?? '?';
    if (!deployments.has(str(at(scaled, 'spec', 'scaleTargetRef', 'name')))) problems.push(`ScaledObject ${name}: scales no Deployment of the manifests`);
    if (Number(at(scaled, 'spec', 'minReplicaCount') ?? 0) < 1) problems.push(`ScaledObject ${name}: minReplicaCount must be at least 1 (the dispatcher that fills the queue runs in the workers)`);
    for (const trigger of objs(at(scaled, 'spec', 'triggers')).filter((candidate) => String(candidate['type']).startsWith('redis'))) {
      const list = str(at(trigger, 'metadata', 'listName'));
      if (list !== expectedList) problems.push(`ScaledObject ${name}: listName ${list ?? '(none)'} is not the chunk queue's waiting list ${expectedList}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- the files of deploy/

function filesUnder(directory: string): string[] {
  return readdirSync(directory).sort().flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

interface YamlFile {
  readonly path: string;
  readonly documents: unknown[];
  readonly problems: string[];
}

function parseYamlFile(path: string, text: string): YamlFile {
  const documents: unknown[] = [];
  const problems: string[] = [];
  for (const document of parseAllDocuments(text, { merge: true })) {
    if (document.errors.length > 0) problems.push(...document.errors.map((error) => `${path}: ${error.message}`));
    else documents.push(document.toJS());
  }
  return { path, documents, problems };
}

const FILES = filesUnder(DEPLOY);
const YAML_FILES = FILES.filter((path) => /\.ya?ml$/.test(path)).map((path) => parseYamlFile(relative(ROOT, path), readFileSync(path, 'utf8')));
const under = (folder: string): YamlFile[] => YAML_FILES.filter((file) => file.path.startsWith(`deploy/${folder}/`));
const COMPOSE = under('compose');
const KUBERNETES = under('kubernetes');
const KUSTOMIZATIONS = KUBERNETES.filter((file) => basename(file.path) === 'kustomization.yaml');
const MANIFESTS = KUBERNETES.flatMap((file) => file.documents).filter((document) => typeof at(document, 'kind') === 'string' && at(document, 'kind') !== 'Kustomization');
const DOCKERFILE = readFileSync(join(DEPLOY, 'docker', 'Dockerfile'), 'utf8');
const SERVE_PORTS = [SERVE_SETTINGS.httpPort.defaultValue, SERVE_SETTINGS.grpcPort.defaultValue];

function redisPrefix(documents: readonly unknown[]): string {
  const configured = documents.filter((document) => at(document, 'kind') === 'ConfigMap').map((document) => str(at(document, 'data', 'TRIAGE_REDIS_PREFIX'))).find((value) => value !== undefined);
  return configured ?? SERVE_SETTINGS.redisPrefix.defaultValue;
}

const chunkWaitList = (prefix: string): string => `${new RedisKeys(prefix).bullPrefix()}:${CHUNK_QUEUE}:wait`;

describe('deploy manifests', () => {
  it('finds the compose files, the Kubernetes base and overlay, and the Dockerfile', () => {
    assert.deepEqual(COMPOSE.map((file) => basename(file.path)).sort(), ['compose.cpu.yaml', 'compose.yaml']);
    assert.deepEqual(KUSTOMIZATIONS.map((file) => dirname(file.path)).sort(), ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/example']);
    for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'ConfigMap', 'PersistentVolumeClaim', 'ServiceMonitor', 'ScaledObject']) {
      assert.ok(MANIFESTS.some((document) => at(document, 'kind') === kind), `no ${kind}`);
    }
  });

  it('parses every YAML file under deploy/, every document of it', () => {
    assert.ok(YAML_FILES.length >= 10);
    assert.deepEqual(YAML_FILES.flatMap((file) => file.problems), []);
  });

  it('sets only TRIAGE_* variables that are settings of triage serve or triage local-triton', () => {
    const found = [
      ...[...COMPOSE, ...KUBERNETES].flatMap((file) => file.documents.flatMap((document) => yamlVariables(file.path, document))),
      ...FILES.filter((path) => path.endsWith('.env.example')).flatMap((path) => envFileVariables(relative(ROOT, path), readFileSync(path, 'utf8'))),
      ...dockerfileVariables('deploy/docker/Dockerfile', DOCKERFILE),
    ];
    for (const name of ['TRIAGE_ROLES', 'TRIAGE_REDIS_URL', 'TRIAGE_ADMIN_KEY', 'TRIAGE_JOBS_KEYS', 'TRIAGE_TRITON_URLS']) {
      assert.ok(found.some((variable) => variable.name === name), `${name} is set nowhere`);
    }
    assert.ok(found.some((variable) => variable.source.endsWith('.env.example')) && found.some((variable) => variable.source.endsWith('Dockerfile')));
    assert.deepEqual(unknownVariableProblems(found, SETTING_NAMES), []);
  });

  it('publishes in compose the ports the settings say, and routes to instances that exist on their ports', () => {
    assert.deepEqual(COMPOSE.flatMap((file) => file.documents.flatMap((document) => composePortProblems(file.path, document))), []);
  });

  it('agrees in Kubernetes: container ports, Service targetPorts, probe ports, ServiceMonitor ports and Triton discovery', () => {
    const namespaces = KUSTOMIZATIONS.map((file) => str(at(file.documents[0], 'namespace')));
    assert.ok(namespaces.includes('triage'));
    for (const namespace of namespaces) assert.deepEqual(kubernetesPortProblems(MANIFESTS, namespace), []);
  });

  it('probes triage on /healthz (liveness) and /readyz (readiness)', () => {
    assert.deepEqual(probePathProblems(MANIFESTS), []);
  });

  it('names the triage image the same everywhere', () => {
    assert.deepEqual(imageNameProblems(COMPOSE.flatMap((file) => file.documents), MANIFESTS, KUSTOMIZATIONS.map((file) => file.documents[0])), []);
  });

  it('names only files that exist in its kustomizations', () => {
    assert.deepEqual(KUSTOMIZATIONS.flatMap((file) => kustomizationProblems(join(ROOT, dirname(file.path)), file.documents[0], existsSync)), []);
  });

  it('scales workers on the chunk queue\'s waiting list, by the key the code uses', () => {
    assert.equal(chunkWaitList('triage:'), 'triage:{bull}:chunks:wait');
    assert.deepEqual(scaledObjectProblems(MANIFESTS, chunkWaitList(redisPrefix(MANIFESTS))), []);
  });

  it('builds an image that exposes the serve ports, runs as non-root and enters through bin/triage.js', () => {
    assert.deepEqual(dockerfileProblems(DOCKERFILE, SERVE_PORTS), []);
  });

  describe('each check catches a broken snippet', () => {
    const yaml = (text: string): unknown[] => parseYamlFile('snippet.yaml', text).documents;
    const match = (problems: readonly string[], pattern: RegExp): void => {
      assert.ok(problems.some((problem) => pattern.test(problem)), `expected a problem matching ${pattern}, got ${JSON.stringify(problems)}`);
    };

    it('YAML syntax', () => {
      match(parseYamlFile('bad.yaml', 'a: 1\n---\nb: [1, 2\n').problems, /^bad\.yaml: /);
    });

    it('unknown TRIAGE_* variables', () => {
      const documents = yaml([
        'services: {x: {environment: {TRIAGE_HTTP_PROT: "8000"}}}',
        '---',
        'spec: {containers: [{env: [{name: TRIAGE_REDIS_ULR, value: "redis://r"}]}]}',
      ].join('\n'));
      const found = [
        ...documents.flatMap((document) => yamlVariables('snippet', document)),
        ...envFileVariables('.env.example', '# c\nTRIAGE_ADMIN_KYE=\n'),
        ...dockerfileVariables('Dockerfile', 'FROM x\nENV TRIAGE_DATADIR=/d\n'),
      ];
      const problems = unknownVariableProblems(found, SETTING_NAMES);
      for (const name of ['TRIAGE_HTTP_PROT', 'TRIAGE_REDIS_ULR', 'TRIAGE_ADMIN_KYE', 'TRIAGE_DATADIR']) match(problems, new RegExp(`${name} is not a setting`));
    });

    it('compose ports and routing', () => {
      const [compose] = yaml([
        'services:',
        '  lt:',
        '    image: triage:1',
        '    command: [local-triton]',
        '    environment: {TRIAGE_LOCAL_TRITON_GRPC_PORT: "8001"}',
        '  serve:',
        '    image: triage:1',
        '    environment: {TRIAGE_HTTP_PORT: "8000", TRIAGE_TRITON_URLS: "lt:9001,gone:8001", TRIAGE_TRITON_METRICS_PORT: "8002"}',
        '    ports: ["8080:8080"]',
      ].join('\n'));
      const problems = composePortProblems('c.yaml', compose);
      match(problems, /serve publishes 8080/);
      match(problems, /routes to lt:9001, but lt serves gRPC on 8001/);
      match(problems, /no tritonserver or local-triton service is called gone/);
      match(problems, /scrapes Triton metrics on 8002, but lt serves them on 9002/);
    });

    it('Kubernetes ports, Services, ServiceMonitors and discovery', () => {
      const documents = yaml([
        'kind: ConfigMap', 'metadata: {name: cfg}', 'data: {TRIAGE_HTTP_PORT: "8000", TRIAGE_TRITON_URLS: "dns:triton.other.svc.cluster.local:9001"}',
        '---',
        'kind: Deployment', 'metadata: {name: proxy}', 'spec:', '  template:', '    metadata: {labels: {app: proxy}}', '    spec:', '      containers:',
        '        - name: triage', '          image: triage', '          envFrom: [{configMapRef: {name: cfg}}]',
        '          ports: [{name: http, containerPort: 9000}]',
        '          livenessProbe: {httpGet: {path: /healthz, port: web}}',
        '---',
        'kind: Deployment', 'metadata: {name: triton}', 'spec:', '  template:', '    metadata: {labels: {app: triton}}', '    spec:', '      containers:',
        '        - {name: triton, image: nvcr.io/nvidia/tritonserver:1, ports: [{name: grpc, containerPort: 8001}]}',
        '---',
        'kind: Service', 'metadata: {name: triton, labels: {app: triton}}', 'spec: {selector: {app: triton}, ports: [{name: grpc, port: 8001, targetPort: grpc}]}',
        '---',
        'kind: Service', 'metadata: {name: proxy}', 'spec: {selector: {app: proxy}, ports: [{name: grpc, port: 8001, targetPort: grpc}]}',
        '---',
        'kind: Service', 'metadata: {name: orphan}', 'spec: {selector: {app: nothing}, ports: [{port: 80}]}',
        '---',
        'kind: ServiceMonitor', 'metadata: {name: triton}', 'spec: {selector: {matchLabels: {app: triton}}, endpoints: [{port: metrics}]}',
      ].join('\n'));
      const problems = kubernetesPortProblems(documents, 'triage');
      match(problems, /proxy\/triage: container port 9000 is neither TRIAGE_HTTP_PORT \(8000\)/);
      match(problems, /proxy\/triage: livenessProbe port web is not a port of the container/);
      match(problems, /proxy\/triage: no readinessProbe/);
      match(problems, /names namespace other/);
      match(problems, /Service triton of TRIAGE_TRITON_URLS is not headless/);
      match(problems, /port 9001 is not a container port of the pods behind triton/);
      match(problems, /TRIAGE_TRITON_METRICS_PORT 8002 is not a container port/);
      match(problems, /Service proxy: targetPort grpc is not a container port of proxy/);
      match(problems, /Service orphan: selects no workload/);
      match(problems, /ServiceMonitor triton: port metrics is not a named port/);
    });

    it('probe paths', () => {
      const documents = yaml([
        'kind: Deployment', 'metadata: {name: api}', 'spec:', '  template:', '    spec:', '      containers:',
        '        - name: triage', '          image: triage',
        '          livenessProbe: {httpGet: {path: /readyz, port: http}}',
        '          readinessProbe: {httpGet: {path: /v2/health/ready, port: http}}',
      ].join('\n'));
      const problems = probePathProblems(documents);
      match(problems, /api\/triage: livenessProbe path \/readyz should be \/healthz/);
      match(problems, /api\/triage: readinessProbe path \/v2\/health\/ready should be \/readyz/);
    });

    it('image names', () => {
      const composeFiles = yaml('services:\n  proxy:\n    image: triage-server:1\n    environment: {TRIAGE_ROLES: proxy}\n');
      const kubernetes = yaml([
        'kind: Deployment', 'metadata: {name: api}', 'spec:', '  template:', '    spec:', '      containers:',
        '        - {name: triage, image: "example.com/triage:1", args: [serve], env: [{name: TRIAGE_ROLES, value: api}]}',
      ].join('\n'));
      const problems = imageNameProblems(composeFiles, kubernetes, yaml('images:\n  - {name: triage-app, newTag: "1"}\n'));
      match(problems, /compose service proxy: image triage-server:1 is not triage/);
      match(problems, /api\/triage: image example\.com\/triage:1 is not triage/);
      match(problems, /kustomize images: triage-app is the image of no container/);
      match(problems, /no kustomization sets the registry and tag of triage/);
    });

    it('kustomization files', () => {
      const [kustomization] = yaml([
        'resources: [present.yaml, missing.yaml, ../base, https://example.com/remote.yaml]',
        'configurations: [gone.yaml]',
        'secretGenerator: [{name: s, envs: [keys.env, other.env]}]',
      ].join('\n'));
      const exists = (path: string): boolean => ['/k/present.yaml', '/base/kustomization.yaml', '/k/keys.env.example'].includes(path);
      const problems = kustomizationProblems('/k', kustomization, exists);
      assert.equal(problems.length, 3, JSON.stringify(problems));
      match(problems, /missing\.yaml does not exist/);
      match(problems, /gone\.yaml does not exist/);
      match(problems, /generator input other\.env has neither/);
    });

    it('the KEDA list name and minimum', () => {
      const documents = yaml([
        'kind: Deployment', 'metadata: {name: triage-worker}',
        '---',
        'kind: ScaledObject', 'metadata: {name: w}', 'spec:', '  scaleTargetRef: {name: triage-workers}', '  minReplicaCount: 0',
        '  triggers: [{type: redis, metadata: {listName: "triage:chunks:wait"}}]',
      ].join('\n'));
      const problems = scaledObjectProblems(documents, chunkWaitList('triage:'));
      match(problems, /scales no Deployment/);
      match(problems, /minReplicaCount must be at least 1/);
      match(problems, /listName triage:chunks:wait is not the chunk queue's waiting list triage:\{bull\}:chunks:wait/);
    });

    it('the Dockerfile', () => {
      const problems = dockerfileProblems('FROM node AS build\nUSER 1000\nFROM node\nEXPOSE 8000\nUSER root\nENTRYPOINT node bin/triage.js\n', SERVE_PORTS);
      match(problems, /EXPOSE 8000 instead of 8000 8001/);
      match(problems, /runs as root/);
      match(problems, /ENTRYPOINT must be \["node", "bin\/triage\.js"\]/);
      match(problems, /no HEALTHCHECK/);
      assert.deepEqual(dockerfileProblems('FROM node\nEXPOSE 8001 \\\n  8000\nUSER 1000:1000\nHEALTHCHECK CMD ["node", "h.js"]\nENTRYPOINT ["node", "bin/triage.js"]\n', SERVE_PORTS), []);
    });
  });
});
