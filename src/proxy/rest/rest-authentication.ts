import type { NextFunction, Request, Response } from 'express';
import { TriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import { requireScope, type Authenticator } from '../../tenancy/authenticator';
import { modelAllowed } from '../../tenancy/quota-config';
import type { Principal, Scope } from '../../tenancy/tenancy-records';
import { sendRestError } from './rest-error';

/** The principal of an authenticated REST request. */
export function principalOf(response: Response): Principal {
  const principal = response.locals['principal'] as Principal | undefined;
  if (principal === undefined) throw new TriageError('INTERNAL', 'the route ran without authentication');
  return principal;
}

/**
 * Express middleware: the request's key (`authorization: Bearer <key>` or `x-api-key`)
 * must be valid and hold one of `scopes`; when the route names a model, the tenant must
 * be allowed to use it. Refusals answer 401/403 with the reason.
 */
export function restAuthentication(authenticator: Authenticator, scopes: readonly Scope[], logger: Logger) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const authorization = request.headers['authorization'];
    const apiKey = request.headers['x-api-key'];
    const check = (principal: Principal): void => {
      if (!scopes.some((scope) => principal.scopes.has(scope))) requireScope(principal, scopes[0] as Scope);
      const model = request.params['model'];
      if (typeof model === 'string' && !modelAllowed(principal.quotas, model)) {
        throw new TriageError('PERMISSION_DENIED', `tenant ${principal.tenantId} may not use model '${model}' (allowed_models of its quotas)`);
      }
      response.locals['principal'] = principal;
      next();
    };
    try {
      const principal = authenticator.authenticate(typeof authorization === 'string' ? authorization : undefined, typeof apiKey === 'string' ? apiKey : undefined);
      if (principal instanceof Promise) {
        principal.then(check).catch((error: unknown) => sendRestError(response, error, logger, 'authentication'));
      } else {
        check(principal);
      }
    } catch (error) {
      sendRestError(response, error, logger, 'authentication');
    }
  };
}
