import { ApiError, ApiUnreachable } from './api-client.js';

/** One sentence for a failed action, from the API's own message when it answered. */
export function actionError(what: string, error: unknown): string {
  if (error instanceof ApiError) return `${what} refused: ${error.message}`;
  if (error instanceof ApiUnreachable) return `${what} failed: the triage API cannot be reached`;
  return `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
}
