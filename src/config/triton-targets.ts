import { TriageError } from '../errors/triage-error';

/** Where the Triton instances are: a fixed list, a DNS name re-resolved periodically, or none (embedded local-triton). */
export type TritonTargets =
  | { readonly kind: 'embedded' }
  | { readonly kind: 'static'; readonly addresses: readonly string[] }
  | { readonly kind: 'dns'; readonly name: string; readonly port: number };

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$/;

/**
 * Parses `host:port,host:port` or `dns:NAME:PORT` (a Kubernetes headless service).
 * Empty = the embedded local-triton.
 */
export function parseTritonTargets(raw: string, source: string): TritonTargets {
  const text = raw.trim();
  if (text === '') return { kind: 'embedded' };
  if (text.startsWith('dns:')) {
    const match = /^dns:([A-Za-z0-9_.-]+):([0-9]{1,5})$/.exec(text);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new TriageError('CONFIG_INVALID', `${source} must be dns:NAME:PORT (e.g. dns:triton.default.svc.cluster.local:8001), got '${raw}'`);
    }
    return { kind: 'dns', name: match[1] as string, port };
  }
  const addresses = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  for (const address of addresses) {
    const match = HOST_PORT.exec(address);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new TriageError('CONFIG_INVALID', `${source} must be host:port[,host:port...] or dns:NAME:PORT; '${address}' is not host:port`);
    }
  }
  return { kind: 'static', addresses: [...new Set(addresses)] };
}
