import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

/** Per-stream and per-connection flow-control windows: large enough that big tensors stream without stalls. */
export const STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
export const CONNECTION_WINDOW_BYTES = 64 * 1024 * 1024;
/** Largest HTTP/2 DATA frame we accept: fewer, larger frames cost less per byte than the default 16 KiB. */
export const MAX_FRAME_BYTES = 1024 * 1024;

interface Entry {
  readonly session: ClientHttp2Session;
  readonly connected: Promise<ClientHttp2Session>;
  /** Set once the connection is established: later calls take it without a promise. */
  ready: boolean;
}

/**
 * One HTTP/2 connection per upstream address, opened on first use and replaced after it
 * closes, fails or receives GOAWAY. `get` gives the connection at once when it is
 * established, else a promise that resolves once it is, or rejects when it cannot be (the
 * call then never reached the instance).
 */
export class UpstreamSessions {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly connectTimeoutMs: number, private readonly maxSessionMemoryMb: number) {}

  get(address: string): ClientHttp2Session | Promise<ClientHttp2Session> {
    const existing = this.entries.get(address);
    if (existing !== undefined && !existing.session.closed && !existing.session.destroyed) {
      return existing.ready ? existing.session : existing.connected;
    }
    if (this.closed) return Promise.reject(new Error('the proxy is shutting down'));
    const session = connect(`http://${address}`, {
      // Small gRPC messages must leave at once: no Nagle delay on upstream connections.
      createConnection: () => netConnect({ ...hostAndPort(address), noDelay: true }),
      settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES, enablePush: false },
      maxSessionMemory: this.maxSessionMemoryMb,
    });
    const connected = new Promise<ClientHttp2Session>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`connection to ${address} not established within ${this.connectTimeoutMs} ms`));
        session.destroy();
      }, this.connectTimeoutMs);
      session.once('connect', () => {
        clearTimeout(timer);
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
        resolve(session);
      });
      session.once('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
      session.once('close', () => clearTimeout(timer));
    });
    connected.catch(() => undefined);
    const forget = (): void => {
      if (this.entries.get(address)?.session === session) this.entries.delete(address);
    };
    session.on('close', forget);
    session.on('goaway', forget);
    session.on('error', forget);
    const entry: Entry = { session, connected, ready: false };
    void connected.then(() => { entry.ready = true; }, () => undefined);
    this.entries.set(address, entry);
    return connected;
  }

  /** Closes every connection gracefully (streams in flight finish), then resolves. */
  async close(): Promise<void> {
    this.closed = true;
    const sessions = [...this.entries.values()].map((entry) => entry.session);
    this.entries.clear();
    await Promise.all(sessions.map((session) => new Promise<void>((resolve) => {
      if (session.closed || session.destroyed) { resolve(); return; }
      session.close(() => resolve());
    })));
  }

  /** Cuts every connection now. */
  destroy(): void {
    for (const entry of this.entries.values()) entry.session.destroy(undefined, constants.NGHTTP2_CANCEL);
    this.entries.clear();
  }
}

/** host:port or [v6]:port as net.connect options. */
function hostAndPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(address.slice(colon + 1)) };
}
