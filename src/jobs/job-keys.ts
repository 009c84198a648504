import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TriageError } from '../errors/triage-error';
import type { Logger } from '../observability/logger';
import { parsePayloadKeys, type PayloadKey } from './payload-cipher';

export interface JobKeySource {
  /** --jobs-keys as parsed (empty: not set). */
  readonly configured: readonly PayloadKey[];
  /** True when triage runs its own redis-server: its data, and the key, stay in dataDir. */
  readonly embeddedRedis: boolean;
  readonly dataDir: string;
}

const KEY_FILE = 'jobs.key';

/**
 * The keys encrypting job rows and results: --jobs-keys when set. Else, with the embedded
 * Redis, the key kept in --data-dir/jobs.key (mode 0600), generated there on first start
 * so a restart still reads the jobs it wrote. With an external Redis there is no default:
 * every process sharing it must hold the same keys, so the start is refused. The log says
 * where a key was generated, never the key.
 */
export function jobPayloadKeys(source: JobKeySource, logger: Logger): readonly PayloadKey[] {
  if (source.configured.length > 0) return source.configured;
  if (!source.embeddedRedis) {
    throw new TriageError('CONFIG_INVALID', '--jobs-keys (TRIAGE_JOBS_KEYS) must be set with an external Redis (--redis-url): every triage process '
      + 'sharing it needs the same keys to read job rows and results. Make one with `openssl rand -base64 32` and pass it as id:key (e.g. k1:<base64>).');
  }
  const directory = resolve(source.dataDir);
  const path = join(directory, KEY_FILE);
  const existing = readKeyFile(path);
  if (existing !== null) {
    if ((statSync(path).mode & 0o077) !== 0) logger.warn({ path }, 'the job encryption key file is readable by other users: chmod 600 it');
    return existing;
  }
  mkdirSync(directory, { recursive: true });
  try {
    writeFileSync(path, `local:${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    logger.info({ path }, 'generated a job encryption key (kept in this file; set --jobs-keys to use your own)');
  } catch (error) {
    // Another process created it first: use that one.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const written = readKeyFile(path);
  if (written === null) throw new TriageError('CONFIG_INVALID', `${path} holds no job encryption key`);
  return written;
}

function readKeyFile(path: string): PayloadKey[] | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const keys = parsePayloadKeys(text.trim(), path);
  return keys.length === 0 ? null : keys;
}
