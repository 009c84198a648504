import { randomUUID } from 'node:crypto';

const MAX_REQUEST_ID_LENGTH = 128;

/**
 * The id a call is known by in the audit stream: the client's `x-request-id` (header or
 * gRPC metadata) when it sent a usable one, else a new UUID. Bounded and printable, so a
 * client cannot put a payload-sized value into the audit stream through it.
 */
export function requestIdOf(sent: string | string[] | undefined): string {
  const value = Array.isArray(sent) ? sent[0] : sent;
  if (value !== undefined && value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH && /^[\x21-\x7e]+$/.test(value)) return value;
  return randomUUID();
}
