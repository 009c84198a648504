import { Metadata } from '@grpc/grpc-js';

/**
 * Headers that belong to one hop (HTTP/2 and gRPC transport) or that carry the client's
 * credentials for triage: never forwarded to Triton, nor copied back to the client.
 */
const NOT_FORWARDED = new Set([
  'authorization', 'x-api-key',
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host',
  'content-type', 'content-length', 'user-agent', 'date',
  'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'grpc-status', 'grpc-message', 'grpc-status-details-bin',
]);

/** A copy of the metadata without hop-by-hop headers and credentials. */
export function forwardedMetadata(metadata: Metadata): Metadata {
  const copy = new Metadata();
  const map = metadata.toJSON();
  for (const key of Object.keys(map)) {
    if (NOT_FORWARDED.has(key) || key.startsWith(':')) continue;
    for (const value of metadata.get(key)) copy.add(key, value);
  }
  return copy;
}
