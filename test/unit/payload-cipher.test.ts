import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'mocha';
import { TriageError } from '../../src/errors/triage-error';
import { parsePayloadKeys, PayloadCipher } from '../../src/jobs/payload-cipher';

describe('job payload encryption (AES-256-GCM)', () => {
  const keyA = { id: 'a', key: randomBytes(32) };
  const keyB = { id: 'b', key: randomBytes(32) };

  it('round-trips, and the blob holds neither the plaintext nor the key', () => {
    const cipher = new PayloadCipher([keyA]);
    const plaintext = Buffer.from('{"custom_id":"patient-0042","inputs":{"x":[1,2,3]}}');
    const blob = cipher.encrypt(plaintext, 'job1:input:0');
    assert.deepEqual(cipher.decrypt(blob, 'job1:input:0'), plaintext);
    assert.ok(!blob.includes(Buffer.from('patient-0042')));
    assert.ok(!blob.includes(keyA.key));
    assert.notDeepEqual(cipher.encrypt(plaintext, 'job1:input:0'), blob, 'a fresh IV for every blob');
  });

  it('refuses a blob moved to another place, or tampered with', () => {
    const cipher = new PayloadCipher([keyA]);
    const blob = cipher.encrypt(Buffer.from('rows'), 'job1:input:0');
    assert.throws(() => cipher.decrypt(blob, 'job2:input:0'), /failed authentication/);
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    assert.throws(() => cipher.decrypt(tampered, 'job1:input:0'), /failed authentication/);
  });

  it('rotates keys: new blobs use the first key, old ones still read with the key they name', () => {
    const old = new PayloadCipher([keyA]).encrypt(Buffer.from('old rows'), 'x');
    const rotated = new PayloadCipher([keyB, keyA]);
    assert.deepEqual(rotated.decrypt(old, 'x'), Buffer.from('old rows'));
    assert.equal(rotated.activeKeyId, 'b');
    assert.throws(() => new PayloadCipher([keyB]).decrypt(old, 'x'), /key 'a', which is not configured/);
  });

  it('reads id:base64 key lists and refuses keys that are not 32 bytes of base64', () => {
    const encoded = keyA.key.toString('base64');
    const keys = parsePayloadKeys(`k1:${encoded}, ${keyB.key.toString('base64')}`, 'TRIAGE_JOBS_KEYS');
    assert.equal(keys[0]?.id, 'k1');
    assert.deepEqual(keys[0]?.key, keyA.key);
    assert.match(keys[1]?.id ?? '', /^[0-9a-f]{8}$/);
    assert.throws(() => parsePayloadKeys('k1:c2hvcnQ=', 'TRIAGE_JOBS_KEYS'), (error: unknown) => error instanceof TriageError && /32 bytes in base64/.test(error.message));
    assert.throws(() => new PayloadCipher([]), /no job encryption key/);
  });
});
