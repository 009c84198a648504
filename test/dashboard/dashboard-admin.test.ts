import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'mocha';
import type { Page } from 'playwright-core';
import { TestBrowser } from '../support/browser';
import { startDashboardStack, simpleRow, UNLOADED_MODEL, type DashboardStack } from './dashboard-stack';
import { eventually, openTab, overviewFigure, signIn } from './dashboard-page';

const SIMPLE_INFER = {
  inputs: [
    { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: Array.from({ length: 16 }, (_, index) => index) },
    { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: Array.from({ length: 16 }, () => 1) },
  ],
};

/**
 * The dashboard in headless chromium, signed in with the admin key, against a running
 * stack (triage, local-triton, Redis): what an operator sees and does.
 */
describe('dashboard: an admin in the browser', function () {
  this.timeout(30_000);
  let stack: DashboardStack;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    [stack, browser] = await Promise.all([startDashboardStack(), TestBrowser.launch()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });
  beforeEach(async () => {
    page = await browser.newPage();
  });
  afterEach(async function () {
    await browser.finishTest(`admin-${this.currentTest?.title ?? 'test'}`);
  });

  it('signs in, shows the instance (healthy, with its models) and the models; loads nothing from elsewhere, under a CSP', async () => {
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const shell = await page.goto(`${stack.base}/`);
    const headers = shell?.headers() ?? {};
    assert.match(headers['content-security-policy'] ?? '', /default-src 'self'/);
    assert.match(headers['content-security-policy'] ?? '', /script-src 'self'(;|$)/, 'no inline script, no other origin');
    assert.equal(headers['cache-control'], 'no-store');
    await signIn(page, stack.base, stack.adminKey);
    assert.equal(await page.textContent('#identity .identity-tenant'), 'admin');
    assert.ok((await page.locator('#identity [data-scope]').allTextContents()).includes('admin'), 'the scopes are shown');
    assert.deepEqual(await page.context().cookies(), [], 'no cookie: the key lives in sessionStorage only');
    assert.equal(await page.evaluate('sessionStorage.length'), 1);

    await openTab(page, 'models');
    for (const model of ['breast_cancer_mlp', 'identity_fp32', 'simple']) await page.locator(`#models-table tr[data-model="${model}"]`).waitFor();
    assert.equal(await page.locator(`tr[data-model="${UNLOADED_MODEL}"] [data-deployment]`).textContent(), 'unmanaged');
    assert.ok(await page.locator('[data-action="deploy"]').count() >= 3, 'an admin sees the deploy buttons');

    await openTab(page, 'instances');
    const card = page.locator(`[data-instance="${stack.local.address}"]`);
    await card.locator('[data-state="healthy"]').waitFor();
    await card.locator('[data-model="simple"]').waitFor();
    await card.locator('[data-model="breast_cancer_mlp"]').waitFor();
    assert.equal(await card.locator(`[data-model="${UNLOADED_MODEL}"]`).count(), 0, 'a model that is not loaded is not listed');

    const origin = new URL(stack.base).origin;
    const elsewhere = requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
    assert.deepEqual(elsewhere, [], 'every request goes to triage itself');
    assert.ok(requests.some((url) => url.includes('/vendor/uPlot.iife.min.js')), 'uPlot is served by triage');
    assert.deepEqual(problems, [], 'no console error (a CSP violation would be one)');
  });

  it('deploys a registered model with the Deploy button and shows it become READY', async () => {
    await signIn(page, stack.base, stack.adminKey);
    await openTab(page, 'models');
    const row = page.locator(`#models-table tr[data-model="${UNLOADED_MODEL}"]`);
    await row.locator('[data-field="replicas"]').fill('1');
    await row.locator('[data-action="deploy"]').click();
    await row.locator('[data-deployment]:text-is("1 replica")').waitFor({ timeout: 5_000 });
    await row.locator(`.placement[data-instance="${stack.local.address}"] [data-state="READY"]`).waitFor({ timeout: 20_000 });
    const record = await stack.api('GET', `/v1/models/${UNLOADED_MODEL}`, stack.adminKey);
    assert.deepEqual(record['state'].map((placement: { state: string }) => placement.state), ['READY']);
    assert.equal(await row.locator('[data-action="undeploy"]').isVisible(), true, 'a deployed model can be undeployed');
  });

  it('shows a submitted job and its progress bar reaching completed', async () => {
    const rows = Array.from({ length: 400 }, (_, index) => simpleRow(`row-${index}`, index));
    const job = await stack.api('POST', '/v1/jobs', stack.adminKey, { model: 'simple', rows }, 201);
    await signIn(page, stack.base, stack.adminKey);
    await openTab(page, 'jobs');
    const row = page.locator(`#jobs-table tr[data-job="${String(job['id'])}"]`);
    await row.waitFor();
    await row.locator('[data-state="completed"]').waitFor({ timeout: 20_000 });
    assert.equal(await row.locator('.meter').getAttribute('aria-valuenow'), '100');
    assert.match(await row.locator('.meter-label').textContent() ?? '', /^400 \/ 400 rows/);
    assert.equal(await row.locator('[data-action="cancel"]').isVisible(), false, 'an ended job cannot be cancelled');
  });

  it('shows quota rejections on the overview once a tenant goes over its rate', async () => {
    const limited = await stack.tenant(['infer'], { requests_per_second: 1, burst: 1 });
    await signIn(page, stack.base, stack.adminKey);
    await openTab(page, 'overview');
    const before = await overviewFigure(page, 'quota-rejections');
    const statuses: number[] = [];
    for (let call = 0; call < 8; call += 1) {
      const [admin, tenant] = await Promise.all([stack.adminKey, limited.key].map((key) => fetch(`${stack.base}/v2/models/simple/infer`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(SIMPLE_INFER),
      }).then(async (response) => {
        await response.arrayBuffer();
        return response.status;
      })));
      assert.equal(admin, 200);
      statuses.push(tenant ?? 0);
    }
    const refused = statuses.filter((status) => status === 429).length;
    assert.ok(refused > 0, `the tenant over its rate was refused: ${statuses.join(',')}`);
    await eventually(async () => (await overviewFigure(page, 'quota-rejections')) >= before + refused, 10_000, `the overview shows ${refused} more quota rejections`);
    await page.locator('[data-metric="quota-rejections"].stat-warn').waitFor();
    assert.ok(await overviewFigure(page, 'requests-per-second') > 0, 'requests per second are shown');
  });
});
