import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../observability/logger';
import { restAuthentication } from '../../proxy/rest/rest-authentication';
import type { Authenticator } from '../../tenancy/authenticator';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const CHALLENGE = 'Basic realm="triage admin", charset="UTF-8"';
/**
 * The board's scripts, styles and images come from node_modules (@bull-board/ui) through
 * this route; the policy keeps the browser from fetching anything elsewhere (the page
 * names a web font on a CDN: it is not loaded, the system font is used).
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/**
 * bull-board at /admin/queues, for keys with the admin scope only. A browser cannot send
 * a bearer header on navigation, so HTTP Basic is accepted too, with the API key as the
 * password (any user name): a request without a valid key is answered 401 with a Basic
 * challenge and the browser asks for it.
 */
export function queueDashboardRouter(queues: readonly Queue[], authenticator: Authenticator, logger: Logger): express.Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  // Two copies of @bull-board/api are installed (ours, and the one @bull-board/express pins, a
  // patch release apart): the same class declared twice, so the compiler needs the cast.
  const adapter = serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: adapter, options: { uiConfig: { boardTitle: 'triage queues' } } });
  const router = express.Router();
  router.use(QUEUE_DASHBOARD_PATH, basicKeyAsBearer, restAuthentication(authenticator, ['admin'], logger), (_request: Request, response: Response, next: NextFunction) => {
    response.removeHeader('www-authenticate');
    response.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    next();
  }, serverAdapter.getRouter() as express.Router);
  return router;
}

/** `Authorization: Basic base64(user:key)` becomes `Bearer key`; every answer carries the challenge until authenticated. */
function basicKeyAsBearer(request: Request, response: Response, next: NextFunction): void {
  response.setHeader('www-authenticate', CHALLENGE);
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    request.headers.authorization = `Bearer ${separator < 0 ? decoded : decoded.slice(separator + 1)}`;
  }
  next();
}
