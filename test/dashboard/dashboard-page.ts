import type { Page } from 'playwright-core';

/** The tabs of the dashboard, by their id in the URL hash. */
export const TABS = ['overview', 'instances', 'models', 'tenants', 'jobs', 'audit'] as const;
export type Tab = typeof TABS[number];

/** Every button that acts (admin, or jobs for cancel): a `read` key must see none of them. */
export const ACTION_BUTTONS = '[data-action="deploy"], [data-action="undeploy"], [data-action="cancel"]';

/** What shows that a tab has been filled from the API at least once (or has shown why it could not be). */
const LOADED: Readonly<Record<Tab, string>> = {
  overview: '.view-overview [data-chart="traffic"] .uplot',
  instances: '#instance-list > *',
  models: '#models-table tbody tr',
  tenants: '#tenants-table tbody tr',
  jobs: '#jobs-table tbody tr',
  audit: '#audit-table tbody tr, #view-error:not([hidden])',
};

/** Opens the dashboard and signs in with `key`; resolves once the signed-in app is shown. */
export async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('#signin-key', key);
  await page.click('#signin-submit');
  await page.waitForSelector('#app', { timeout: 10_000 });
}

/** Clicks a tab and waits until its view has been filled from the API. */
export async function openTab(page: Page, tab: Tab): Promise<void> {
  await page.click(`[data-tab="${tab}"]`);
  await page.waitForSelector(`[data-tab="${tab}"].tab-active`);
  await page.waitForSelector(LOADED[tab], { timeout: 10_000 });
}

/** The number shown on an Overview card, e.g. quota-rejections. */
export async function overviewFigure(page: Page, metric: string): Promise<number> {
  const text = await page.textContent(`[data-metric="${metric}"] .stat-value`);
  return Number((text ?? '').replace(/[^0-9.]/g, ''));
}

/** Polls `check` (in the test, against the page) until it holds; the message says what was awaited. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
