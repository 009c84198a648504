import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

/**
 * Request headers that are not forwarded to an instance: HTTP/2 pseudo-headers (rebuilt),
 * hop-by-hop headers, and the client's credentials for triage.
 */
const NOT_FORWARDED = new Set([
  'authorization', 'x-api-key',
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host',
  'content-length', 'user-agent',
]);

/** Response headers and trailers that are not relayed back (transport-level). */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'content-length', 'date']);

/** The headers for the upstream request: the client's gRPC headers and metadata, minus the above. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, path: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': 'POST', ':path': path, ':scheme': 'http', te: 'trailers' };
  for (const key in headers) {
    if (key.charCodeAt(0) === 58 /* ':' */ || NOT_FORWARDED.has(key) || key === 'te') continue;
    out[key] = headers[key];
  }
  return out;
}

/** The instance's response headers or trailers as relayed to the client. */
export function relayedHeaders(headers: IncomingHttpHeaders, keepStatus: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const key in headers) {
    if ((key.charCodeAt(0) === 58 && !(keepStatus && key === ':status')) || NOT_RELAYED.has(key)) continue;
    out[key] = headers[key];
  }
  return out;
}
