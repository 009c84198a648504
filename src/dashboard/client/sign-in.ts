import { ApiClient, ApiError, ApiUnreachable } from './api-client.js';
import type { Whoami } from './api-types.js';
import { Session, canUseDashboard } from './session.js';

export type SignInResult = { readonly session: Session } | { readonly refusal: string; readonly unreachable: boolean };

/**
 * Asks the API who a key is (GET /v1/whoami). A wrong, revoked or expired key, a
 * suspended tenant, and a key with neither `read` nor `admin` are refusals with a
 * sentence saying why; nothing is stored for them.
 */
export async function signIn(key: string): Promise<SignInResult> {
  const trimmed = key.trim();
  if (trimmed === '') return { refusal: 'Enter an API key.', unreachable: false };
  const api = new ApiClient(trimmed);
  let who: Whoami;
  try {
    who = await api.get<Whoami>('/v1/whoami');
  } catch (error) {
    if (error instanceof ApiUnreachable) return { refusal: 'The triage API cannot be reached. Check that triage is running, then try again.', unreachable: true };
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return { refusal: `This key was refused: ${error.message}.`, unreachable: false };
    return { refusal: `Signing in failed: ${error instanceof Error ? error.message : String(error)}.`, unreachable: false };
  }
  if (!canUseDashboard(who)) {
    const scopes = who.scopes.length === 0 ? 'no scope' : `only ${who.scopes.join(', ')}`;
    return { refusal: `This key has ${scopes}. The dashboard needs a key with the read or admin scope.`, unreachable: false };
  }
  return { session: new Session(api, who) };
}
