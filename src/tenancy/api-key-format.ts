import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `trg_<key id>_<secret>`. The key id (10 characters) is public: it finds the
 * key's record and is what support sees. The secret (32 characters, about 190 bits) is
 * shown once at creation; only its SHA-256 is stored.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_PATTERN = /^trg_([A-Za-z0-9]{10})_([A-Za-z0-9]{32})$/;
/** Longest credential header value looked at; anything longer is refused unread. */
export const MAX_KEY_LENGTH = 256;

export interface ParsedKey {
  readonly keyId: string;
  readonly secret: string;
}

export function randomText(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every character equally likely.
  for (const byte of bytes) {
    if (byte < 248) out += ALPHABET[byte % 62];
    if (out.length === length) return out;
  }
  return out + randomText(length - out.length);
}

export function generateKey(): { key: string; keyId: string; secretHash: string } {
  const keyId = randomText(10);
  const secret = randomText(32);
  return { key: `trg_${keyId}_${secret}`, keyId, secretHash: hashSecret(secret) };
}

export function parseKey(text: string): ParsedKey | null {
  if (text.length > MAX_KEY_LENGTH) return null;
  const match = KEY_PATTERN.exec(text);
  return match === null ? null : { keyId: match[1] as string, secret: match[2] as string };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** The credential a request carries: `authorization: Bearer <key>` or `x-api-key: <key>`. */
export function credentialFrom(authorization: string | undefined, apiKey: string | undefined): string | null {
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey.trim();
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null) return match[1] as string;
  }
  return null;
}
