import { body, created, json, nullable, ok, operation, READ_ERRORS, ref, type Json } from './openapi-parts';

const TIME: Json = { type: 'string', format: 'date-time' };
const NAME: Json = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' };
const ARCHIVE_BODY: Json = {
  requestBody: {
    required: true,
    description: 'The raw archive: a .tar.gz (application/gzip) or .zip (application/zip). Links, special files, absolute or escaping paths, '
      + 'too many files and decompression bombs are refused with 400 before anything reaches the repository.',
    content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } }, 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  },
};
const ACCEPTED = (description: string): Record<string, Json> => ({ 202: { description, ...json(ref('Model')) } });

/** Schemas of the model registry, merged into the document's components. */
export const MODEL_SCHEMAS: Record<string, Json> = {
  ModelProblem: {
    type: 'object',
    required: ['path', 'rule', 'message'],
    properties: { path: { type: 'string', description: 'Where: a file, file:line:column, or a config field.' }, rule: { type: 'string' }, message: { type: 'string' } },
  },
  ModelVersion: {
    type: 'object',
    required: ['version', 'size_bytes', 'sha256', 'files', 'created_at'],
    properties: { version: { type: 'string', pattern: '^[1-9][0-9]*$' }, size_bytes: { type: 'integer' }, sha256: { type: 'string' }, files: { type: 'integer' }, created_at: TIME },
  },
  Deployment: {
    type: 'object',
    required: ['replicas'],
    additionalProperties: false,
    properties: {
      replicas: { oneOf: [{ type: 'integer', minimum: 1, maximum: 1000 }, { const: 'all' }] },
      instance_labels: nullable({ type: 'object', additionalProperties: { type: 'string' } }),
      version_policy: nullable({ type: 'object', description: 'Triton\'s ModelVersionPolicy as JSON: {"latest": {"num_versions": n}}, {"all": {}} or {"specific": {"versions": [..]}}.' }),
    },
  },
  Placement: {
    type: 'object',
    required: ['instance', 'state'],
    properties: { instance: { type: 'string' }, state: { enum: ['LOADING', 'READY', 'FAILED', 'UNLOADING'] }, reason: nullable({ type: 'string' }), versions: { type: 'array', items: { type: 'string' } }, updated_at: TIME },
  },
  Model: {
    type: 'object',
    required: ['name', 'platform', 'backend', 'max_batch_size', 'config', 'versions', 'deployment', 'state', 'unplaced', 'measured_footprint_bytes', 'created_at', 'updated_at', 'revision'],
    properties: {
      name: NAME,
      platform: { type: 'string' },
      backend: { type: 'string' },
      max_batch_size: { type: 'integer' },
      config: { type: 'object', description: 'Triton\'s ModelConfig as JSON with .proto field names.' },
      versions: { type: 'array', items: ref('ModelVersion') },
      owner: { type: 'object', description: 'Who registered it (admin keys only).', properties: { tenant_id: { type: 'string' }, key_id: { type: 'string' } } },
      footprint_bytes: nullable({ type: 'integer' }),
      deployment: nullable({ allOf: [ref('Deployment'), { type: 'object', properties: { updated_at: TIME } }], description: 'null: not managed (never deployed); replicas 0: undeployed.' }),
      state: { type: 'array', items: ref('Placement'), description: 'Observed state on each instance (the controller\'s).' },
      measured_footprint_bytes: nullable({ type: 'integer', minimum: 1, description: 'What an instance reported the model took after loading its current config and versions (Triton\'s ModelStatistics memory_usage: GPU bytes, else all); placement uses it when footprint_bytes is not declared. null: not measured (yet).' }),
      unplaced: nullable({ type: 'string', description: 'Why the deployment has fewer replicas than it wants (e.g. evicted for a more recently used model), as the controller last planned; null: fully placed, or not managed.' }),
      tenants: { type: 'array', items: { type: 'string' }, description: 'Tenants whose quotas allow the model (admin keys only).' },
      created_at: TIME,
      updated_at: TIME,
      revision: { type: 'integer', description: 'Grows by one with every change.' },
    },
  },
};

const MODEL = { name: 'name', in: 'path', required: true, schema: NAME };
const VERSION = { name: 'version', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]*$' } };
const MODEL_LIST: Json = { type: 'object', required: ['models'], properties: { models: { type: 'array', items: ref('Model') } } };

/** Paths of the model registry, merged into the document's paths. */
export const MODEL_PATHS: Record<string, Json> = {
  '/v1/models': {
    get: operation('List registered models (a tenant\'s key: those its quotas allow).', 'read', ok('The models.', MODEL_LIST), [401, 403, 503]),
    post: operation('Register a model from an archive of its folder (config.pbtxt and version folders). Validated first: 422 lists every problem.', 'admin',
      created('The registered model.', ref('Model')), [400, 401, 403, 409, 422, 503],
      { ...ARCHIVE_BODY, parameters: [{ name: 'name', in: 'query', schema: NAME, description: 'The model\'s name when the archive has no single top-level folder and config.pbtxt sets no name.' }] }),
  },
  '/v1/models/{name}': {
    parameters: [MODEL],
    get: operation('Get a model: config, versions, deployment, state on each instance.', 'read', ok('The model.', ref('Model')), READ_ERRORS),
    delete: operation('Delete a model: undeployed first (waits until no instance holds it), then its record and folder.', 'admin', ok('The model as it was.', ref('Model')), [401, 403, 404, 409, 503]),
  },
  '/v1/models/{name}/versions': {
    parameters: [MODEL],
    get: operation('List a model\'s versions with size and sha256.', 'read', ok('The versions.', { type: 'object', required: ['versions'], properties: { versions: { type: 'array', items: ref('ModelVersion') } } }), READ_ERRORS),
    post: operation('Add a version from an archive of one version folder (its number: the folder\'s name, ?version=, or the next one).', 'admin',
      created('The model with the new version.', ref('Model')), [400, 401, 403, 404, 409, 422, 503],
      { ...ARCHIVE_BODY, parameters: [{ name: 'version', in: 'query', schema: { type: 'string', pattern: '^[1-9][0-9]*$' } }] }),
  },
  '/v1/models/{name}/versions/{version}': {
    parameters: [MODEL, VERSION],
    delete: operation('Delete one version (not the last one).', 'admin', ok('The model without the version.', ref('Model')), [401, 403, 404, 409, 503]),
  },
  '/v1/models/{name}/config': {
    parameters: [MODEL],
    put: operation('Replace the model\'s config (ModelConfig JSON), validated against every version first.', 'admin', ok('The model with its new config.', ref('Model')),
      [400, 401, 403, 404, 409, 413, 422, 503], body({ type: 'object', description: 'Triton\'s ModelConfig as JSON with .proto field names.' })),
  },
  '/v1/models/{name}/deploy': {
    parameters: [MODEL],
    post: operation('Set where the model runs; the controller loads it there.', 'admin', ACCEPTED('The model with its desired deployment.'), [400, 401, 403, 404, 409, 413, 503], body(ref('Deployment'))),
  },
  '/v1/models/{name}/undeploy': {
    parameters: [MODEL],
    post: operation('Unload the model from every instance.', 'admin', ACCEPTED('The model, undeployed (replicas 0).'), [401, 403, 404, 409, 503]),
  },
};
