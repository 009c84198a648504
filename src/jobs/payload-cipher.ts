import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { TriageError } from '../errors/triage-error';

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** One AES-256 key and the id stored beside every blob it encrypts. */
export interface PayloadKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * AES-256-GCM for job payloads and results at rest. A blob is
 * [version 1][id length 1][key id][iv 12][tag 16][ciphertext]; the key id lets keys rotate
 * (new blobs use the first key, old ones are read with the key they name). The additional
 * authenticated data binds a blob to its place (e.g. `<job id>:input:<chunk>`), so a blob
 * moved to another job or chunk does not decrypt.
 */
export class PayloadCipher {
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(private readonly keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new TriageError('CONFIG_INVALID', 'no job encryption key: set --jobs-keys (TRIAGE_JOBS_KEYS)');
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES) throw new TriageError('CONFIG_INVALID', `job encryption key '${id}' must be ${KEY_BYTES} bytes (got ${key.length})`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new TriageError('CONFIG_INVALID', `job encryption key id '${id}' must be 1-32 letters, digits, _ or -`);
    }
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  /** The id new blobs are written with. */
  get activeKeyId(): string {
    return (this.keys[0] as PayloadKey).id;
  }

  encrypt(plaintext: Buffer, aad: string): Buffer {
    const { id, key } = this.keys[0] as PayloadKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const idBytes = Buffer.from(id, 'utf8');
    return Buffer.concat([Buffer.from([FORMAT_VERSION, idBytes.length]), idBytes, iv, cipher.getAuthTag(), ciphertext]);
  }

  decrypt(blob: Buffer, aad: string): Buffer {
    if (blob.length < 2 || blob[0] !== FORMAT_VERSION) throw new TriageError('INTERNAL', `stored blob ${aad} is not in a known format`);
    const idLength = blob[1] as number;
    const id = blob.subarray(2, 2 + idLength).toString('utf8');
    const key = this.byId.get(id);
    if (key === undefined) throw new TriageError('INTERNAL', `stored blob ${aad} was encrypted with key '${id}', which is not configured (--jobs-keys)`);
    const ivStart = 2 + idLength;
    const iv = blob.subarray(ivStart, ivStart + IV_BYTES);
    const tag = blob.subarray(ivStart + IV_BYTES, ivStart + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(blob.subarray(ivStart + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new TriageError('INTERNAL', `stored blob ${aad} failed authentication (tampered, or moved from elsewhere)`, { cause: error });
    }
  }
}

/**
 * Reads `id:base64key,id:base64key` (the first encrypts, all decrypt). A key without an
 * id gets one from its hash, so a single bare base64 key works too.
 */
export function parsePayloadKeys(raw: string, source: string): PayloadKey[] {
  const keys = raw.split(',').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const separator = part.indexOf(':');
    const encoded = separator < 0 ? part : part.slice(separator + 1);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
      throw new TriageError('CONFIG_INVALID', `${source}: each key must be ${KEY_BYTES} bytes in base64 (e.g. from \`openssl rand -base64 32\`), as id:key or key`);
    }
    return { id: separator < 0 ? createHash('sha256').update(key).digest('hex').slice(0, 8) : part.slice(0, separator), key };
  });
  return keys;
}
