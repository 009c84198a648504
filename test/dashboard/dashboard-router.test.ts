import assert from 'node:assert/strict';
import express from 'express';
import { describe, it } from 'mocha';
import request from 'supertest';
import { DASHBOARD_CONTENT_SECURITY_POLICY, dashboardRouter } from '../../src/dashboard/dashboard-router';
import { loadDashboardAssets } from '../../src/dashboard/dashboard-assets';
import { silentLogger } from '../../src/observability/logger';

function app(load = loadDashboardAssets): express.Express {
  const served = express();
  served.use(dashboardRouter(silentLogger(), load));
  return served;
}

/** The dashboard's files over HTTP, in-process: exact files only, versioned and cached, under a strict CSP. */
describe('dashboard router', () => {
  const { version } = loadDashboardAssets();

  it('answers the page at / uncached, under the CSP, loading only versioned files of this origin', async () => {
    const page = await request(app()).get('/').expect(200);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers['content-security-policy'], DASHBOARD_CONTENT_SECURITY_POLICY);
    assert.match(DASHBOARD_CONTENT_SECURITY_POLICY, /^default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    assert.deepEqual(sources.filter((source) => !source?.startsWith(`/dashboard/${version}/`)), [], 'every file from the versioned path');
    assert.ok(sources.includes(`/dashboard/${version}/vendor/uPlot.iife.min.js`) && sources.includes(`/dashboard/${version}/app/main.js`));
    assert.doesNotMatch(page.text, /<script>|<style|style=/, 'no inline script or style');
  });

  it('serves each file with its type, cached for a year; HEAD too', async () => {
    const served = app();
    const script = await request(served).get(`/dashboard/${version}/app/main.js`).expect(200);
    assert.match(script.headers['content-type'] ?? '', /^text\/javascript/);
    assert.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(script.text, /from '\.\/dashboard-app\.js'/);
    const uplot = await request(served).get(`/dashboard/${version}/vendor/uPlot.min.css`).expect(200);
    assert.match(uplot.headers['content-type'] ?? '', /^text\/css/);
    const head = await request(served).head(`/dashboard/${version}/dashboard.css`).expect(200);
    assert.ok(Number(head.headers['content-length']) > 1000);
  });

  it('answers 404 to anything else: other versions, folders, traversal, files that exist on disk but are not listed', async () => {
    const served = app();
    for (const path of [
      '/dashboard/000000000000/app/main.js',
      `/dashboard/${version}/`,
      `/dashboard/${version}/app`,
      `/dashboard/${version}/app/`,
      `/dashboard/${version}/../../package.json`,
      `/dashboard/${version}/app/%2e%2e/%2e%2e/%2e%2e/package.json`,
      `/dashboard/${version}/vendor/uPlot.cjs.js`,
      `/dashboard/${version}/app/api-types.d.ts`,
      '/dashboard/',
      '/index.html',
    ]) {
      const answer = await request(served).get(path);
      assert.equal(answer.status, 404, path);
      assert.doesNotMatch(answer.text, /"name"|Index of|<a href/, `${path}: no content, no listing`);
    }
    await request(served).post('/').expect(404);
  });

  it('answers 503 saying how to build when the client is not compiled, and serves once it is', async () => {
    let built = false;
    const served = app(() => {
      if (!built) throw new Error("the dashboard's client is not built: run `npm run build`");
      return loadDashboardAssets();
    });
    const missing = await request(served).get('/').expect(503);
    assert.match(missing.text, /npm run build/);
    built = true;
    await request(served).get('/').expect(200);
  });
});
