import express, { type Request, type Response } from 'express';
import type { Logger } from '../observability/logger';
import { loadDashboardAssets, type DashboardAssets } from './dashboard-assets';
import { dashboardMissingPage, dashboardPage } from './dashboard-page';

/** Everything the page loads is from this origin; no inline script or style, no plugin, no framing. */
export const DASHBOARD_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const DASHBOARD_ASSET_PREFIX = '/dashboard';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The web dashboard: the HTML shell at `/` (never cached) and its files under
 * `/dashboard/<version>/...` (cached for a year: the version is their digest). Only the
 * exact files of DashboardAssets are served, from memory: a path is looked up in a map,
 * never joined onto a folder, so nothing else on disk can be reached and no folder is
 * listed. No key is needed here: the page signs in against the /v1 API.
 */
export function dashboardRouter(logger: Logger, load: () => DashboardAssets = loadDashboardAssets): express.Router {
  const log = logger.child({ component: 'dashboard' });
  let assets: DashboardAssets | null = null;
  let warned = false;
  // Read on first use, not at start: a process that never serves the page never reads the files.
  const current = (): DashboardAssets | Error => {
    if (assets !== null) return assets;
    try {
      assets = load();
      return assets;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (!warned) log.warn({ reason: failure.message }, 'the dashboard cannot be served');
      warned = true;
      return failure;
    }
  };
  const secure = (response: Response): void => {
    response.setHeader('content-security-policy', DASHBOARD_CONTENT_SECURITY_POLICY);
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('x-frame-options', 'DENY');
    response.setHeader('referrer-policy', 'no-referrer');
    response.setHeader('cross-origin-opener-policy', 'same-origin');
    response.setHeader('cross-origin-resource-policy', 'same-origin');
  };
  const router = express.Router();
  router.get('/', (_request: Request, response: Response) => {
    secure(response);
    response.setHeader('cache-control', 'no-store');
    const loaded = current();
    if (loaded instanceof Error) {
      response.status(503).type('html').send(dashboardMissingPage(loaded.message));
      return;
    }
    response.type('html').send(dashboardPage(`${DASHBOARD_ASSET_PREFIX}/${loaded.version}`));
  });
  router.use(DASHBOARD_ASSET_PREFIX, (request: Request, response: Response, next) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      next();
      return;
    }
    secure(response);
    const loaded = current();
    const match = /^\/([0-9a-f]{12})\/(.+)$/.exec(request.path);
    const asset = loaded instanceof Error || match === null || match[1] !== loaded.version ? undefined : loaded.files.get(match[2] as string);
    if (asset === undefined) {
      response.setHeader('cache-control', 'no-store');
      response.status(404).type('text/plain').send('not found');
      return;
    }
    response.setHeader('cache-control', IMMUTABLE);
    response.setHeader('content-type', asset.contentType);
    response.setHeader('content-length', String(asset.body.length));
    if (request.method === 'HEAD') response.end();
    else response.end(asset.body);
  });
  return router;
}
