import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { adminApiRouter } from '../../src/api/admin-api-router';
import { openApiDocument } from '../../src/api/openapi-document';
import { TriageError } from '../../src/errors/triage-error';
import { silentLogger } from '../../src/observability/logger';
import { parseTenantQuotas } from '../../src/tenancy/quota-config';
import { TRIAGE_VERSION } from '../../src/version';
import { startAdminFixture, type AdminFixture, type JsonDocument } from './admin-fixture';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** Every `METHOD /path` the document describes, with {param} written as :param (express's syntax). */
function documentedRoutes(document: JsonDocument): string[] {
  const routes: string[] = [];
  for (const [path, item] of Object.entries(document['paths'] as Record<string, JsonDocument>)) {
    for (const method of Object.keys(item).filter((key) => METHODS.includes(key))) routes.push(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
  }
  return routes.sort();
}

/** Every `METHOD /path` the express router serves (405 catch-alls left out). */
function servedRoutes(router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }): string[] {
  const routes: string[] = [];
  for (const layer of router.stack) {
    if (layer.route === undefined) continue;
    for (const method of Object.keys(layer.route.methods).filter((name) => name !== '_all')) routes.push(`${method.toUpperCase()} ${layer.route.path}`);
  }
  return routes.sort();
}

/** The field names listed in parseTenantQuotas' refusal of an unknown field: `(known: a, b, c)`. */
function knownFields(input: unknown): string[] {
  try {
    parseTenantQuotas(input);
  } catch (error) {
    assert.ok(error instanceof TriageError);
    const list = /\(known: ([^)]*)\)/.exec(error.message)?.[1];
    assert.ok(list !== undefined, error.message);
    return list.split(', ').sort();
  }
  throw new Error('parseTenantQuotas accepted an unknown field');
}

describe('admin API: the OpenAPI document', function () {
  this.timeout(30_000);
  let api: AdminFixture;
  const document = openApiDocument(TRIAGE_VERSION) as JsonDocument;

  before(async () => {
    api = await startAdminFixture();
  });
  after(async () => {
    await api?.stop();
  });

  it('is served at /v1/openapi.json without a key', async () => {
    const answer = await api.call('GET', '/v1/openapi.json', null);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, JSON.parse(JSON.stringify(document)));
    assert.equal(answer.body?.['openapi'], '3.1.0');
  });

  it('describes every route of the router, and no route the router does not serve', () => {
    const router = adminApiRouter({ tenancy: api.triage.triage.tenancy, registry: api.triage.triage.registry, jobs: api.triage.triage.jobs, observability: { redis: api.triage.triage.tenancy.redis, keys: api.triage.triage.tenancy.keys, pool: api.triage.triage.pool, figures: () => null }, version: TRIAGE_VERSION, logger: silentLogger() });
    // The router's layer list is express's own structure: read through a narrow type.
    const served = servedRoutes(router as unknown as Parameters<typeof servedRoutes>[0]);
    assert.ok(served.length >= 12, served.join('\n'));
    assert.deepEqual(documentedRoutes(document), served);
  });

  it('gives every operation its responses, every error response the Error schema, and resolves every $ref', () => {
    const references: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          if (key === '$ref') references.push(item as string);
          else walk(item);
        }
      }
    };
    walk(document);
    const schemas = document['components']['schemas'] as JsonDocument;
    for (const reference of references) assert.ok(schemas[reference.replace('#/components/schemas/', '')] !== undefined, `unresolved ${reference}`);
    for (const [path, item] of Object.entries(document['paths'] as Record<string, JsonDocument>)) {
      for (const method of Object.keys(item).filter((key) => METHODS.includes(key))) {
        const responses = item[method]['responses'] as JsonDocument;
        assert.ok(Object.keys(responses).some((code) => code.startsWith('2')), `${method} ${path} has a success response`);
        if (path !== '/v1/openapi.json') assert.ok(responses['401'] !== undefined && responses['403'] !== undefined, `${method} ${path} documents 401 and 403`);
        for (const [code, response] of Object.entries(responses)) {
          if (Number(code) >= 400) assert.deepEqual(response['content']['application/json']['schema'], { $ref: '#/components/schemas/Error' });
        }
      }
    }
  });

  it('lists exactly the quota fields parseTenantQuotas accepts', () => {
    const quotas = Object.keys(document['components']['schemas']['Quotas']['properties']).sort();
    const limits = Object.keys(document['components']['schemas']['QuotaLimits']['properties']).sort();
    assert.deepEqual(quotas, knownFields({ no_such_field: 1 }));
    assert.deepEqual(limits, knownFields({ models: { simple: { no_such_field: 1 } } }));
    for (const field of quotas) assert.doesNotThrow(() => parseTenantQuotas({ [field]: field === 'models' ? {} : null }), field);
  });
});
