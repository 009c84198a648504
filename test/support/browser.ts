import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { projectRoot } from '../../src/protocol/project-paths';

/** Debian's chromium, driven by playwright-core (which downloads no browser of its own). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where screenshots go: test-artifacts/dashboard/<test name>.png under the project root (git-ignored). */
export const SCREENSHOT_DIRECTORY = join(projectRoot(), 'test-artifacts', 'dashboard');

/** A laptop screen: what the dashboard must read well on. */
export const LAPTOP_VIEWPORT = { width: 1366, height: 768 } as const;

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/**
 * One headless chromium for a test file, one fresh context (cookies, storage) per test.
 * playwright's launch() gives the browser a new temporary user data dir and removes it
 * at close, so no profile survives between runs.
 */
export class TestBrowser {
  private context: BrowserContext | null = null;
  private page: Page | null = null;

  private constructor(private readonly browser: Browser) {}

  /** Fails (it does not skip) when chromium is missing: the browser tests are part of the suite. */
  static async launch(): Promise<TestBrowser> {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`the dashboard tests need Debian's chromium at ${CHROMIUM_PATH}: install it with \`apt-get install chromium\` (.ci/run does so)`);
    }
    return new TestBrowser(await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS }));
  }

  /** A page in a fresh context at the laptop viewport; the previous test's context is closed first. */
  async newPage(): Promise<Page> {
    await this.closeContext();
    this.context = await this.browser.newContext({ viewport: LAPTOP_VIEWPORT, deviceScaleFactor: 1, serviceWorkers: 'block' });
    this.page = await this.context.newPage();
    return this.page;
  }

  /**
   * Saves the current page as test-artifacts/dashboard/<name>.png (the name made safe
   * for a file), then closes the test's context. Run from afterEach, so a failing test
   * leaves its screenshot too. Returns the file, or null when no page was open.
   */
  async finishTest(name: string): Promise<string | null> {
    let file: string | null = null;
    if (this.page !== null && !this.page.isClosed()) {
      mkdirSync(SCREENSHOT_DIRECTORY, { recursive: true });
      file = join(SCREENSHOT_DIRECTORY, `${fileNameOf(name)}.png`);
      await this.page.screenshot({ path: file, fullPage: false, animations: 'disabled' }).catch(() => {
        file = null;
      });
    }
    await this.closeContext();
    return file;
  }

  async close(): Promise<void> {
    await this.closeContext();
    await this.browser.close();
  }

  private async closeContext(): Promise<void> {
    const context = this.context;
    this.context = null;
    this.page = null;
    await context?.close();
  }
}

function fileNameOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'screenshot';
}
