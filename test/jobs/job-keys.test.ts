import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'mocha';
import pino from 'pino';
import { parseSettings } from '../../src/config/parse-settings';
import { SERVE_SETTINGS } from '../../src/config/serve-settings';
import { TriageError } from '../../src/errors/triage-error';
import { jobPayloadKeys } from '../../src/jobs/job-keys';
import { PayloadCipher } from '../../src/jobs/payload-cipher';

/** A logger whose lines are kept, to check what is (and is not) logged. */
function capturingLogger(): { logger: pino.Logger; text: () => string } {
  let text = '';
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { text += chunk.toString(); done(); } });
  return { logger: pino({ level: 'info' }, sink), text: () => text };
}

describe('jobs: the encryption key setting', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'triage-job-keys-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const KEY = Buffer.alloc(32, 5).toString('base64');

  it('--jobs-keys / TRIAGE_JOBS_KEYS: id:key lists, the first encrypting; bad keys refused naming the setting', () => {
    const settings = parseSettings(SERVE_SETTINGS, new Map(), { TRIAGE_JOBS_KEYS: `new:${Buffer.alloc(32, 6).toString('base64')},old:${KEY}` });
    assert.deepEqual(settings.jobsKeys.map((key) => key.id), ['new', 'old']);
    assert.equal(parseSettings(SERVE_SETTINGS, new Map(), {}).jobsKeys.length, 0);
    assert.throws(() => parseSettings(SERVE_SETTINGS, new Map([['jobs-keys', ['k:c2hvcnQ=']]]), {}), /--jobs-keys: each key must be 32 bytes in base64/);
    assert.equal(parseSettings(SERVE_SETTINGS, new Map([['jobs-retention', ['30d']]]), {}).jobsRetentionMs, 30 * 86_400_000);
    assert.throws(() => parseSettings(SERVE_SETTINGS, new Map([['jobs-retention', ['0s']]]), {}), /--jobs-retention must be a duration from 1s to 365d/);
    assert.equal(parseSettings(SERVE_SETTINGS, new Map([['jobs-max-body', ['64GiB']]]), {}).jobsMaxBodyBytes, 64 * 1024 ** 3);
  });

  it('uses the configured keys as they are', () => {
    const configured = [{ id: 'k1', key: Buffer.alloc(32, 1) }];
    assert.equal(jobPayloadKeys({ configured, embeddedRedis: false, dataDir: scratch }, capturingLogger().logger), configured);
  });

  it('refuses to start with an external Redis and no key, saying how to make one', () => {
    assert.throws(() => jobPayloadKeys({ configured: [], embeddedRedis: false, dataDir: scratch }, capturingLogger().logger), (error: unknown) => {
      assert.ok(error instanceof TriageError);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /--jobs-keys \(TRIAGE_JOBS_KEYS\) must be set with an external Redis \(--redis-url\).*openssl rand -base64 32/);
      return true;
    });
  });

  it('with the embedded Redis: generates one key in --data-dir/jobs.key (mode 0600), logs where but never the key, and reads it back next start', () => {
    const dataDir = join(scratch, 'data');
    const first = capturingLogger();
    const keys = jobPayloadKeys({ configured: [], embeddedRedis: true, dataDir }, first.logger);
    const path = join(dataDir, 'jobs.key');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(keys.length, 1);
    const key = keys[0] as { id: string; key: Buffer };
    assert.equal(key.key.length, 32);
    assert.match(first.text(), /generated a job encryption key/);
    assert.ok(first.text().includes(path));
    assert.ok(!first.text().includes(key.key.toString('base64')), 'the key is not logged');
    assert.ok(readFileSync(path, 'utf8').includes(key.key.toString('base64')));
    // The next start reads the same key, so blobs written before still decrypt.
    const again = capturingLogger();
    const reread = jobPayloadKeys({ configured: [], embeddedRedis: true, dataDir }, again.logger);
    assert.deepEqual(reread, keys);
    assert.doesNotMatch(again.text(), /generated/);
    const blob = new PayloadCipher([...keys]).encrypt(Buffer.from('row'), 'job:input:0');
    assert.deepEqual(new PayloadCipher([...reread]).decrypt(blob, 'job:input:0'), Buffer.from('row'));
  });
});
