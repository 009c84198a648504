import type { RedisClient } from '../redis/redis-client';
import type { Role, Roles } from '../config/roles';
import type { InstancePool } from '../triton/instance-pool';

/** One condition a role needs before it can do its work. */
export interface ReadinessCheck {
  readonly name: 'accepting' | 'redis' | 'instances';
  readonly ok: boolean;
}

export interface RoleReadiness {
  readonly ready: boolean;
  readonly roles: Readonly<Partial<Record<Role, boolean>>>;
  readonly checks: readonly ReadinessCheck[];
}

/**
 * What each role needs to be ready. A proxy and a worker need an instance to send to.
 * A proxy does not need Redis to be ready: its keys are cached and its quotas follow
 * --quota-redis-down, so taking it out of rotation would refuse what it can still serve.
 */
const NEEDS: Readonly<Record<Role, readonly ReadinessCheck['name'][]>> = {
  proxy: ['accepting', 'instances'],
  api: ['accepting', 'redis'],
  worker: ['accepting', 'redis', 'instances'],
  controller: ['accepting', 'redis'],
};

/**
 * /readyz of one process: ready when every role it runs is; an orchestrator takes a
 * process out of rotation while it is not (shutdown begun, Redis unreachable, no
 * instance ready), and puts it back when it is again.
 */
export function roleReadiness(roles: Roles, accepting: () => boolean, redis: RedisClient, pool: InstancePool): () => RoleReadiness {
  return () => {
    const status: Record<ReadinessCheck['name'], boolean> = { accepting: accepting(), redis: redis.status === 'ready', instances: pool.isReady() };
    const byRole: Partial<Record<Role, boolean>> = {};
    const names = new Set<ReadinessCheck['name']>();
    for (const role of roles) {
      byRole[role] = NEEDS[role].every((name) => status[name]);
      for (const name of NEEDS[role]) names.add(name);
    }
    const checks = [...names].map((name) => ({ name, ok: status[name] }));
    return { ready: Object.values(byRole).every((ready) => ready), roles: byRole, checks };
  };
}
