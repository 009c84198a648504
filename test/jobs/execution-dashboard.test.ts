import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { createTestTenant, type TestTenant } from '../support/tenant-setup';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';
import { TEST_ADMIN_KEY } from '../support/test-redis';

describe('batch job execution: the queue dashboard at /admin/queues (in-process triage)', function () {
  this.timeout(30_000);
  let fixture: TriageFixture;
  let base: string;
  let tenant: TestTenant;

  before(async () => {
    // No Triton instance: the dashboard needs none (and the worker idles).
    fixture = await startTriageFixture([], { jobsConcurrency: 1 });
    base = `http://127.0.0.1:${fixture.triage.httpPort}/admin/queues`;
    tenant = await createTestTenant(fixture.triage.tenancy.service, { scopes: ['jobs', 'read', 'infer'] });
  });
  after(async () => {
    await fixture?.stop();
  });

  const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

  it('asks for credentials (HTTP Basic, for browsers) without a key, and refuses keys without the admin scope', async () => {
    const anonymous = await fetch(base);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const wrong = await fetch(base, { headers: { authorization: `Basic ${Buffer.from('admin:not-a-key').toString('base64')}` } });
    assert.equal(wrong.status, 401);
    const tenantKey = await fetch(base, { headers: bearer(tenant.key) });
    assert.equal(tenantKey.status, 403);
    const api = await fetch(`${base}/api/queues`, { headers: bearer(tenant.key) });
    assert.equal(api.status, 403, 'the board\'s API is behind the same check');
  });

  it('serves the board to the admin key (bearer, or as the Basic password), its assets from node_modules, nothing from elsewhere', async () => {
    const page = await fetch(base, { headers: bearer(TEST_ADMIN_KEY) });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('www-authenticate'), null);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script !== undefined, 'the page loads its script from the board\'s own static path');
    const asset = await fetch(`${base}/${script}`, { headers: bearer(TEST_ADMIN_KEY) });
    assert.equal(asset.status, 200);
    assert.ok((await asset.arrayBuffer()).byteLength > 1000);
    const basic = await fetch(base, { headers: { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_KEY}`).toString('base64')}` } });
    assert.equal(basic.status, 200);
    const queues = await fetch(`${base}/api/queues`, { headers: bearer(TEST_ADMIN_KEY) });
    assert.equal(queues.status, 200);
    const body = await queues.json() as { queues: { name: string }[] };
    assert.deepEqual(body.queues.map((queue) => queue.name), ['chunks']);
  });
});
