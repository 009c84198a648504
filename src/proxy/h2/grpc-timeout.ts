/** Milliseconds per unit of the grpc-timeout header (gRPC over HTTP/2: Hours, Minutes, Seconds, milli, micro, nano). */
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The call's deadline (ms since the epoch) from its grpc-timeout header (at most 8
 * digits and a unit, e.g. `1500m`), measured from nowMs; Infinity without a header or
 * with one that cannot be read.
 */
export function grpcDeadlineMs(header: string | string[] | undefined, nowMs: number): number {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined) return Infinity;
  const match = /^([0-9]{1,8})([HMSmun])$/.exec(text);
  if (match === null) return Infinity;
  return nowMs + Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
}
