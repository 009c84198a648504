import type { Request, Response } from 'express';
import { stringifyExact } from './exact-json';

/** Answers a JSON document that may hold JsonIntegers (metadata, config, statistics). */
export function sendExactJson(response: Response, document: unknown): void {
  response.type('application/json').send(stringifyExact(document));
}

/** A signal that aborts when the client goes away before its answer is complete. */
export function abortWhenClientLeaves(response: Response): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The model name and version (empty: the version policy's choice) of a /v2/models/{m}[/versions/{v}] route. */
export function modelOf(request: Request): { name: string; version: string } {
  const params = request.params as Record<string, string | undefined>;
  return { name: params['model'] ?? '', version: params['version'] ?? '' };
}
