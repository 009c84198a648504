import { TriageError } from '../errors/triage-error';

/**
 * What one `triage serve` process does. proxy: the gRPC port and KServe REST (/v2);
 * api: the admin API (/v1), the dashboard and the queue dashboard; worker: batch job
 * execution; controller: the deployment controller (one active per Redis, by lease).
 * Every role serves /healthz, /readyz and /metrics on the HTTP port.
 */
export const ROLES = ['proxy', 'api', 'worker', 'controller'] as const;
export type Role = (typeof ROLES)[number];

export type Roles = ReadonlySet<Role>;

export const ALL_ROLES: Roles = new Set(ROLES);

/** `proxy,api` -> the set; every name must be a role, at least one, none twice. */
export function parseRoles(raw: string, source: string): Roles {
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) throw new TriageError('CONFIG_INVALID', `${source} must name at least one role of ${ROLES.join(', ')}`);
  const roles = new Set<Role>();
  for (const name of names) {
    if (!(ROLES as readonly string[]).includes(name)) throw new TriageError('CONFIG_INVALID', `${source} must be a comma list of ${ROLES.join(', ')}; '${name}' is not a role`);
    if (roles.has(name as Role)) throw new TriageError('CONFIG_INVALID', `${source} names the role '${name}' twice`);
    roles.add(name as Role);
  }
  return roles;
}
