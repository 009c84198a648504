import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';

export interface RedisServerOptions {
  /** Folder for its data (append-only file); created if missing. */
  readonly directory: string;
  /** 0 = a free port chosen here. */
  readonly port?: number;
  /** Keep an append-only file (true) or nothing on disk (false). */
  readonly appendOnly?: boolean;
}

/** A redis-server child process that this program started and owns. */
export interface RedisServerProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM (Redis saves and exits), resolved once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, resolved once it has exited. */
  kill(): Promise<void>;
}

/** True when `redis-server` is on the PATH. */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server on 127.0.0.1 with the settings triage needs (noeviction, as BullMQ
 * requires) and resolves once it accepts connections. Throws a clear error when
 * redis-server is not installed.
 */
export async function startRedisServer(options: RedisServerOptions): Promise<RedisServerProcess> {
  if (!redisServerInstalled()) {
    throw new Error('redis-server is not installed: install it (Debian: apt-get install redis-server) or point TRIAGE_REDIS_URL at a running Redis');
  }
  mkdirSync(options.directory, { recursive: true });
  const port = options.port !== undefined && options.port > 0 ? options.port : await freePort();
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', options.directory,
    '--save', '', '--appendonly', options.appendOnly === true ? 'yes' : 'no',
    '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output}`)), 10_000);
    const onExit = (code: number | null): void => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}: ${output}`)); };
    child.once('exit', onExit);
    const poll = (): void => {
      void ping(port).then((answered) => {
        if (answered) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve();
        } else if (child.exitCode === null) {
          setTimeout(poll, 50);
        }
      });
    };
    poll();
  });
  const stopWith = (signal: NodeJS.Signals) => async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { port, url: `redis://127.0.0.1:${port}`, child, stop: stopWith('SIGTERM'), kill: stopWith('SIGKILL') };
}

/** True when a Redis on the port answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (answered: boolean): void => { socket.destroy(); resolve(answered); };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
