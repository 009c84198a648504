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
  /** A configuration file read first (e.g. a Sentinel's, which Sentinel rewrites); the settings here override it. */
  readonly configFile?: string;
  /** More settings, e.g. ['--cluster-enabled', 'yes'] or ['--sentinel']. */
  readonly args?: readonly string[];
}

/** A redis-server child process that this program started and owns. */
export interface RedisServerProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Redis gets SIGTERM (it flushes its append-only file and exits); resolved once it has exited. Idempotent. */
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
  // redis-server runs under a small shell that holds our stdin pipe: when this process
  // ends, however it ends, the pipe closes and the shell stops redis-server, so no Redis
  // is ever left running without its owner. The shell prints redis-server's pid first.
  const child = spawn('sh', ['-c', 'redis-server "$@" & echo "pid $!"; read _; kill $! 2>/dev/null; wait', 'sh',
    ...(options.configFile === undefined ? [] : [options.configFile]),
    '--port', String(port), '--bind', '127.0.0.1', '--dir', options.directory,
    '--save', '', '--appendonly', options.appendOnly === true ? 'yes' : 'no',
    '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes', '--loglevel', 'warning',
    ...(options.args ?? []),
  ], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let redisPid = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    redisPid ||= Number(/^pid (\d+)/m.exec(output)?.[1] ?? 0);
  });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stdin?.on('error', () => undefined);
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
  const stop = async (): Promise<void> => {
    // Closing the pipe makes the shell send redis-server SIGTERM and wait for it.
    child.stdin?.end();
    await exited;
  };
  const kill = async (): Promise<void> => {
    if (redisPid > 0) {
      try { process.kill(redisPid, 'SIGKILL'); } catch { /* already gone */ }
    }
    child.stdin?.end();
    await exited;
  };
  return { port, url: `redis://127.0.0.1:${port}`, child, stop, kill };
}

/** True when a Redis on the port answers PING: with PONG, or with NOAUTH when it requires a password (it is up all the same). */
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
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}
