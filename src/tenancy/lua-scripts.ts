import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../protocol/project-paths';
import type { RedisClient } from '../redis/redis-client';
import { TRIAGE_VERSION } from '../version';

/** Command names carry triage's version, so two versions sharing one Redis never run each other's scripts. */
const SUFFIX = `_v${TRIAGE_VERSION.replace(/[^0-9A-Za-z]/g, '_')}`;

export const ADMIT_COMMAND = `triageAdmit${SUFFIX}`;
export const CREDIT_COMMAND = `triageCredit${SUFFIX}`;
export const RENEW_LEASES_COMMAND = `triageRenewLeases${SUFFIX}`;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** The tenancy scripts as callable commands (loaded once per connection; EVALSHA after the first call). */
export interface TenancyScripts {
  admit(keys: readonly string[], args: readonly (string | number)[]): Promise<number[]>;
  credit(keys: readonly string[], args: readonly (string | number)[]): Promise<number[]>;
  renewLeases(key: string, ttlMs: number, members: readonly string[]): Promise<number>;
}

const source = (name: string): string => readFileSync(join(projectRoot(), 'src', 'tenancy', 'lua', name), 'utf8');

/** The Lua Redis runs for a tenancy script: admit and credit both open with read-checks.lua (the clock and the checks). */
export function tenancyScriptSource(script: 'admit' | 'credit' | 'renew-leases-1'): string {
  return script === 'renew-leases-1' ? source(`${script}.lua`) : `${source('read-checks.lua')}\n${source(`${script}.lua`)}`;
}

export function defineTenancyScripts(redis: RedisClient): TenancyScripts {
  if (!(ADMIT_COMMAND in redis)) {
    redis.defineCommand(ADMIT_COMMAND, { lua: tenancyScriptSource('admit') });
    redis.defineCommand(CREDIT_COMMAND, { lua: tenancyScriptSource('credit') });
    redis.defineCommand(RENEW_LEASES_COMMAND, { numberOfKeys: 1, lua: tenancyScriptSource('renew-leases-1') });
  }
  const commands = redis as unknown as Record<string, ScriptCall>;
  return {
    admit: (keys, args) => (commands[ADMIT_COMMAND] as ScriptCall)(keys.length, ...keys, ...args) as Promise<number[]>,
    credit: (keys, args) => (commands[CREDIT_COMMAND] as ScriptCall)(keys.length, ...keys, ...args) as Promise<number[]>,
    renewLeases: (key, ttlMs, members) => (commands[RENEW_LEASES_COMMAND] as ScriptCall)(key, ttlMs, ...members) as Promise<number>,
  };
}
