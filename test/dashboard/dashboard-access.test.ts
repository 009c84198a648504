import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'mocha';
import type { Page } from 'playwright-core';
import { TestBrowser } from '../support/browser';
import { startDashboardStack, simpleRow, type DashboardStack } from './dashboard-stack';
import { ACTION_BUTTONS, openTab, signIn, TABS } from './dashboard-page';

/** Who may use the dashboard, and what a `read` key is shown: everything of its tenant, and no button that acts. */
describe('dashboard: keys and what they may do', function () {
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
    await browser.finishTest(`access-${this.currentTest?.title ?? 'test'}`);
  });

  it('refuses a wrong key with a message and stays on the sign-in screen; a key without read or admin too', async () => {
    await page.goto(`${stack.base}/`);
    await page.fill('#signin-key', 'trg_AAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB');
    await page.click('#signin-submit');
    await page.locator('#signin-error:text-matches("refused")').waitFor();
    assert.match(await page.textContent('#signin-error') ?? '', /This key was refused: unknown API key/);
    assert.equal(await page.locator('#signin-key').isVisible(), true, 'still on the sign-in screen');
    assert.equal(await page.locator('#app').count(), 0);
    assert.equal(await page.evaluate('sessionStorage.length'), 0, 'a refused key is not kept');

    const inferOnly = await stack.tenant(['infer']);
    await page.fill('#signin-key', inferOnly.key);
    await page.click('#signin-submit');
    await page.locator('#signin-error:text-matches("read or admin")').waitFor();
    assert.equal(await page.locator('#app').count(), 0);
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
  });

  it('shows a read key its models, instances and jobs, with no deploy, undeploy or cancel button on any tab; sign out forgets the key', async () => {
    const tenant = await stack.tenant(['read']);
    // A job of the read key's tenant, submitted by another key of that tenant.
    const submitter = await stack.triage.triage.tenancy.service.createKey(tenant.id, { scopes: ['jobs'] });
    const job = await stack.api('POST', '/v1/jobs', submitter.key, { model: 'simple', rows: [simpleRow('a', 1), simpleRow('b', 2)] }, 201);
    await signIn(page, stack.base, tenant.key);
    assert.equal(await page.textContent('#identity .identity-tenant'), tenant.id);
    assert.deepEqual(await page.locator('#identity [data-scope]').allTextContents(), ['read']);
    for (const tab of TABS) {
      await openTab(page, tab);
      assert.equal(await page.locator(ACTION_BUTTONS).count(), 0, `no action button on ${tab}`);
    }
    await openTab(page, 'models');
    assert.equal(await page.locator('#models-table tr[data-model]').count(), 3, 'the models its quotas allow (all)');
    assert.equal(await page.locator('#models-table th:text-is("Actions")').count(), 0, 'no actions column');
    await openTab(page, 'jobs');
    await page.locator(`#jobs-table tr[data-job="${String(job['id'])}"]`).waitFor();
    assert.equal(await page.locator(ACTION_BUTTONS).count(), 0);
    await openTab(page, 'instances');
    await page.locator(`[data-instance="${stack.local.address}"] [data-state="healthy"]`).waitFor();
    assert.equal(await page.locator(ACTION_BUTTONS).count(), 0);

    await page.click('#sign-out');
    await page.locator('#signin-key').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0, 'signing out forgets the key');
  });
});
