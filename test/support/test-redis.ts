import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRedisServer, type RedisServerProcess } from '../../src/redis/redis-server-process';

let shared: Promise<{ server: RedisServerProcess; directory: string }> | null = null;

/**
 * The suite's private redis-server on a free port, started on first use and stopped by
 * the root after-all hook. Tests share it and isolate themselves with uniquePrefix().
 * A test that must stop or kill Redis starts its own with startRedisServer instead.
 */
export async function sharedRedisUrl(): Promise<string> {
  shared ??= (async () => {
    const directory = mkdtempSync(join(tmpdir(), 'triage-test-redis-'));
    return { server: await startRedisServer({ directory }), directory };
  })();
  return (await shared).server.url;
}

export async function stopSharedRedis(): Promise<void> {
  if (shared === null) return;
  const { server, directory } = await shared;
  shared = null;
  await server.stop();
  rmSync(directory, { recursive: true, force: true });
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `test-${randomBytes(4).toString('hex')}:`;
}

/** The admin key test fixtures start triage with. */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789-abcdefghijklmnopqrstuvwxyz';

/** The job payload key of every test triage (a fixed test value; never a real secret). */
export const TEST_JOBS_KEY = { id: 'test', key: Buffer.alloc(32, 7) } as const;
/** TEST_JOBS_KEY as --jobs-keys reads it. */
export const TEST_JOBS_KEYS_ARGUMENT = `${TEST_JOBS_KEY.id}:${TEST_JOBS_KEY.key.toString('base64')}`;
