import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startAdminFixture, type AdminFixture, type Answer } from './admin-fixture';

interface Route {
  readonly method: string;
  /** The path for a target tenant (and one of its key ids). */
  readonly path: (tenant: string, keyId: string) => string;
  readonly body?: unknown;
  /** Reads are open to a tenant's read key for its own tenant; writes need `admin`. */
  readonly kind: 'read' | 'write';
}

/** Every route that names a tenant, with a body a write would accept. */
const TENANT_ROUTES: readonly Route[] = [
  { method: 'GET', path: (t) => `/v1/tenants/${t}`, kind: 'read' },
  { method: 'GET', path: (t) => `/v1/tenants/${t}/keys`, kind: 'read' },
  { method: 'GET', path: (t) => `/v1/tenants/${t}/quotas`, kind: 'read' },
  { method: 'GET', path: (t) => `/v1/usage?tenant=${t}`, kind: 'read' },
  { method: 'GET', path: (t) => `/v1/usage?tenant=${t}&format=csv`, kind: 'read' },
  { method: 'PATCH', path: (t) => `/v1/tenants/${t}`, body: { labels: { changed: 'yes' } }, kind: 'write' },
  { method: 'DELETE', path: (t) => `/v1/tenants/${t}`, kind: 'write' },
  { method: 'POST', path: (t) => `/v1/tenants/${t}/keys`, body: { scopes: ['admin'] }, kind: 'write' },
  { method: 'DELETE', path: (t, k) => `/v1/tenants/${t}/keys/${k}`, kind: 'write' },
  { method: 'PUT', path: (t) => `/v1/tenants/${t}/quotas`, body: { max_concurrent: 1000 }, kind: 'write' },
];

/** Routes that name no tenant. */
const GLOBAL_ROUTES: readonly Route[] = [
  { method: 'GET', path: () => '/v1/tenants', kind: 'read' },
  { method: 'GET', path: () => '/v1/usage', kind: 'read' },
  { method: 'POST', path: () => '/v1/tenants', body: { name: 'created by a refused key' }, kind: 'write' },
];

const describeRoute = (route: Route, tenant: string): string => `${route.method} ${route.path(tenant, 'k')}`;

describe('admin API: scopes and tenant isolation', function () {
  this.timeout(30_000);
  let api: AdminFixture;
  /** Tenants A and B, each with a key of its own. */
  let a: string;
  let b: string;
  let keyOfA: string;
  let keyOfB: string;
  let readA: string;
  let inferA: string;
  let adminA: string;

  /** Calls the route and checks that the stored state did not change. */
  const refusedWithoutChange = async (route: Route, tenant: string, keyId: string, key: string | null): Promise<Answer> => {
    const before = await api.snapshot();
    const answer = await api.call(route.method, route.path(tenant, keyId), key, route.body);
    assert.deepEqual(await api.snapshot(), before, `${describeRoute(route, tenant)} changed nothing`);
    return answer;
  };

  before(async () => {
    api = await startAdminFixture();
    a = await api.createTenant('tenant a');
    b = await api.createTenant('tenant b');
    keyOfA = (await api.createKey(a, ['infer'])).keyId;
    keyOfB = (await api.createKey(b, ['infer'])).keyId;
    readA = (await api.createKey(a, ['read'])).key;
    inferA = (await api.createKey(a, ['infer'])).key;
    adminA = (await api.createKey(a, ['admin'])).key;
    assert.equal((await api.call('PUT', `/v1/tenants/${b}/quotas`, TEST_ADMIN_KEY, { max_concurrent: 3 })).status, 200);
  });
  after(async () => {
    await api?.stop();
  });

  it('answers 401 to every route without a key or with a malformed or unknown one (the OpenAPI document is open)', async () => {
    const keys: [string | null, RegExp][] = [
      [null, /^no API key: send `authorization: Bearer <key>` or `x-api-key: <key>`$/],
      ['not-a-key', /^malformed API key/],
      ['trg_AAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', /^unknown API key$/],
    ];
    for (const [key, message] of keys) {
      for (const route of [...TENANT_ROUTES, ...GLOBAL_ROUTES]) {
        const answer = await refusedWithoutChange(route, a, keyOfA, key);
        assert.equal(answer.status, 401, `${describeRoute(route, a)} with ${key}`);
        assert.match(answer.body?.['error'], message);
      }
    }
    assert.equal((await api.call('GET', '/v1/openapi.json', null)).status, 200);
  });

  it('answers 403 naming the missing scope to a key with neither read nor admin', async () => {
    for (const route of [...TENANT_ROUTES, ...GLOBAL_ROUTES]) {
      const answer = await refusedWithoutChange(route, a, keyOfA, inferA);
      assert.equal(answer.status, 403, describeRoute(route, a));
      assert.deepEqual(answer.body, { error: `this API key lacks the '${route.kind === 'read' ? 'read' : 'admin'}' scope (it has: infer)` });
    }
  });

  it('lets a read key read its own tenant, keys, quotas and usage, and change nothing (403)', async () => {
    for (const route of TENANT_ROUTES) {
      if (route.kind === 'read') {
        const answer = await api.call(route.method, route.path(a, keyOfA), readA);
        assert.equal(answer.status, 200, `${describeRoute(route, a)}: ${answer.text}`);
      } else {
        const answer = await refusedWithoutChange(route, a, keyOfA, readA);
        assert.equal(answer.status, 403, describeRoute(route, a));
        assert.deepEqual(answer.body, { error: "this API key lacks the 'admin' scope (it has: read)" });
      }
    }
    const listed = await api.call('GET', '/v1/tenants', readA);
    assert.deepEqual(listed.body?.['tenants'].map((tenant: { id: string }) => tenant.id), [a], 'the list holds its own tenant only');
    assert.equal((await api.call('GET', `/v1/tenants/${a}/keys`, readA)).body?.['keys'].length, 4);
  });

  it('answers a read key 404 for everything of another tenant, exactly as for a tenant that does not exist', async () => {
    for (const route of TENANT_ROUTES.filter((each) => each.kind === 'read')) {
      const other = await api.call(route.method, route.path(b, keyOfB), readA);
      const missing = await api.call(route.method, route.path('t_nobody', keyOfB), readA);
      assert.equal(other.status, 404, describeRoute(route, b));
      assert.deepEqual(other.body, { error: `no tenant '${b}'` });
      assert.equal(other.text, missing.text.replace('t_nobody', b), 'indistinguishable from an unknown id');
      assert.deepEqual([...other.headers.keys()].filter((name) => name !== 'date' && name !== 'triage-error-id'), [...missing.headers.keys()].filter((name) => name !== 'date' && name !== 'triage-error-id'));
    }
    const usage = await api.call('GET', '/v1/usage', readA);
    assert.deepEqual(usage.body?.['rows'].filter((row: { tenant_id: string }) => row.tenant_id !== a), [], 'no row of another tenant');
  });

  it('lets the bootstrap admin key and any key holding the admin scope read and manage every tenant', async () => {
    for (const key of [TEST_ADMIN_KEY, adminA]) {
      for (const route of TENANT_ROUTES.filter((each) => each.kind === 'read')) {
        assert.equal((await api.call(route.method, route.path(b, keyOfB), key)).status, 200, describeRoute(route, b));
      }
      const listed = await api.call('GET', '/v1/tenants', key);
      assert.deepEqual(listed.body?.['tenants'].map((tenant: { id: string }) => tenant.id).sort(), [a, b].sort());
    }
    const patched = await api.call('PATCH', `/v1/tenants/${b}`, adminA, { labels: { managed_by: 'a' } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body?.['labels'], { managed_by: 'a' });
  });

  it('refuses every key of a suspended tenant with 403, and takes it back on resume', async () => {
    assert.equal((await api.call('PATCH', `/v1/tenants/${a}`, TEST_ADMIN_KEY, { status: 'suspended' })).status, 200);
    try {
      const refused = await api.call('GET', `/v1/tenants/${a}`, readA);
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.body, { error: `tenant ${a} is suspended` });
    } finally {
      assert.equal((await api.call('PATCH', `/v1/tenants/${a}`, TEST_ADMIN_KEY, { status: 'active' })).status, 200);
    }
    assert.equal((await api.call('GET', `/v1/tenants/${a}`, readA)).status, 200);
  });
});
