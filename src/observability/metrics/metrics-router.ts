import { createHash, timingSafeEqual } from 'node:crypto';
import { Router as ExpressRouter, type Request } from 'express';
import type { Registry } from 'prom-client';
import { TriageError } from '../../errors/triage-error';
import { sendRestError } from '../../proxy/rest/rest-error';
import type { Logger } from '../logger';

export interface MetricsRouterOptions {
  /** triage's own metrics, then the Node process metrics (processMetricsRegistry). */
  readonly registries: readonly Registry[];
  /** --metrics-key: '' leaves /metrics open to scrapers (as Triton's metrics port); else `authorization: Bearer <key>` is required. */
  readonly key: string;
  readonly logger: Logger;
}

/**
 * GET /metrics on the HTTP port: the Prometheus text of every registry. With a key set,
 * a request without it (or with another) is a 401 and no figure is computed. The key is
 * compared in constant time (as SHA-256 digests, so its length leaks nothing either) and
 * never logged.
 */
export function metricsRouter(options: MetricsRouterOptions): ExpressRouter {
  const router = ExpressRouter();
  const logger = options.logger.child({ component: 'metrics' });
  const expected = options.key === '' ? null : digest(options.key);
  router.get('/metrics', (request, response) => {
    if (expected !== null && !presents(request, expected)) {
      response.setHeader('www-authenticate', 'Bearer realm="metrics"');
      sendRestError(response, new TriageError('UNAUTHENTICATED', 'GET /metrics needs the metrics key (--metrics-key): send authorization: Bearer <key>'), logger, 'metrics');
      return;
    }
    void Promise.all(options.registries.map((registry) => registry.metrics())).then((texts) => {
      response.setHeader('content-type', options.registries[0]?.contentType ?? 'text/plain; version=0.0.4; charset=utf-8');
      response.setHeader('cache-control', 'no-store');
      response.send(texts.join(''));
    }, (error: unknown) => {
      sendRestError(response, new TriageError('INTERNAL', `cannot render the metrics: ${(error as Error).message}`, { cause: error }), logger, 'metrics');
    });
  });
  return router;
}

function presents(request: Request, expected: Buffer): boolean {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer[ \t]+(.+)$/i.exec(header.trim());
  if (match === null) return false;
  return timingSafeEqual(digest(match[1] ?? ''), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
