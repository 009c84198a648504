import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../redis/redis-client';
import { projectRoot } from '../protocol/project-paths';
import { TRIAGE_VERSION } from '../version';

/** Command names carry triage's version, so two versions sharing one Redis never run each other's scripts. */
const SUFFIX = `_v${TRIAGE_VERSION.replace(/[^0-9A-Za-z]/g, '_')}`;
const ACQUIRE = `triageAcquireLease${SUFFIX}`;
const RENEW = `triageRenewLease${SUFFIX}`;
const RELEASE = `triageReleaseLease${SUFFIX}`;

type ScriptCall = (...args: (string | number)[]) => Promise<number>;

/** The leader lease's scripts (src/controller/lua/), loaded once per connection. */
export interface LeaseScripts {
  /** -1: `owner` holds the lease now; else the remaining time to live of another owner's lease, ms. */
  acquire(key: string, owner: string, ttlMs: number): Promise<number>;
  /** 1: renewed; 0: the lease is no longer `owner`'s. */
  renew(key: string, owner: string, ttlMs: number): Promise<number>;
  /** 1: released; 0: it was not `owner`'s. */
  release(key: string, owner: string): Promise<number>;
}

export function defineLeaseScripts(redis: RedisClient): LeaseScripts {
  const source = (name: string): string => readFileSync(join(projectRoot(), 'src', 'controller', 'lua', name), 'utf8');
  if (!(ACQUIRE in redis)) {
    redis.defineCommand(ACQUIRE, { numberOfKeys: 1, lua: source('acquire-lease-1.lua') });
    redis.defineCommand(RENEW, { numberOfKeys: 1, lua: source('renew-lease-1.lua') });
    redis.defineCommand(RELEASE, { numberOfKeys: 1, lua: source('release-lease-1.lua') });
  }
  const commands = redis as unknown as Record<string, ScriptCall>;
  const call = (name: string, ...args: (string | number)[]): Promise<number> => (commands[name] as ScriptCall).call(redis, ...args).then(Number);
  return {
    acquire: (key, owner, ttlMs) => call(ACQUIRE, key, owner, ttlMs),
    renew: (key, owner, ttlMs) => call(RENEW, key, owner, ttlMs),
    release: (key, owner) => call(RELEASE, key, owner),
  };
}
