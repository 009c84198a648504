import type { ApiClient } from './api-client.js';
import type { Whoami } from './api-types.js';

/** The signed-in key: its API client and what it may do. */
export class Session {
  constructor(readonly api: ApiClient, readonly who: Whoami) {}

  has(scope: string): boolean {
    return this.who.scopes.includes(scope);
  }

  /** Deploy, undeploy, every tenant: the platform team's `admin` scope only. */
  get isAdmin(): boolean {
    return this.has('admin');
  }

  /** Cancel a job: `admin` (every job) or `jobs` (its own tenant's). */
  get canCancelJobs(): boolean {
    return this.has('admin') || this.has('jobs');
  }
}

/** The dashboard needs `read` or `admin`; any other key is refused at sign-in. */
export function canUseDashboard(who: Whoami): boolean {
  return who.scopes.includes('read') || who.scopes.includes('admin');
}
