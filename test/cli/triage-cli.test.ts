import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'mocha';
import { projectRoot } from '../../src/protocol/project-paths';

const run = promisify(execFile);
const TRIAGE = join(projectRoot(), 'bin', 'triage.js');
const sixteen = (f: (i: number) => number): number[] => Array.from({ length: 16 }, (_, i) => f(i));

/** Starts `triage local-triton` as a user would and waits for its ready line. */
function startCli(args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [TRIAGE, 'local-triton', ...args], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s; stderr: ${stderr}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /local-triton ready: gRPC on [^:]+:(\d+)/.exec(stderr);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), stderr: () => stderr });
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}: ${stderr}`)); });
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('the triage command', () => {
  let server: Awaited<ReturnType<typeof startCli>>;
  before(async () => {
    server = await startCli(['--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '-1', '--log-level', 'warn']);
  });
  after(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await exitCode(server.child);
    }
  });

  it('local-triton announces its port and models, and `triage infer` gets real outputs from it', async () => {
    assert.match(server.stderr(), /models: .*breast_cancer_mlp:1 READY.*simple:1 READY/);
    const data = JSON.stringify({ INPUT0: [sixteen((i) => i)], INPUT1: [sixteen(() => 3)] });
    const { stdout } = await run(process.execPath, [TRIAGE, 'infer', 'simple', '--url', `127.0.0.1:${server.port}`, '--data', data, '--id', 'cli-1']);
    const response = JSON.parse(stdout) as { id: string; outputs: { name: string; shape: number[]; data: number[][] }[] };
    assert.equal(response.id, 'cli-1');
    assert.deepEqual(response.outputs.map((o) => [o.name, o.shape]), [['OUTPUT0', [1, 16]], ['OUTPUT1', [1, 16]]]);
    assert.deepEqual(response.outputs[0]?.data, [sixteen((i) => i + 3)]);
    assert.deepEqual(response.outputs[1]?.data, [sixteen((i) => i - 3)]);
  });

  it('`triage infer` reports a server error with its status and exits 1', async () => {
    await assert.rejects(
      run(process.execPath, [TRIAGE, 'infer', 'no_such_model', '--url', `127.0.0.1:${server.port}`, '--data', '{}']),
      (error: { code: number; stderr: string }) => error.code === 1 && /NOT_FOUND: Request for unknown model: 'no_such_model' is not found/.test(error.stderr),
    );
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    server.child.kill('SIGTERM');
    assert.equal(await exitCode(server.child), 0);
    assert.match(server.stderr(), /ready/);
  });

  it('refuses a bad setting, naming the flag and the rule, before listening', async () => {
    await assert.rejects(
      run(process.execPath, [TRIAGE, 'local-triton', '--grpc-port', '99999']),
      (error: { code: number; stderr: string }) => error.code === 1 && error.stderr.includes("--grpc-port must be a port number from 0 to 65535 (0 = any free port), got '99999'"),
    );
  });
});

describe('triage serve', () => {
  it('starts on the embedded local-triton, serves gRPC and REST, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'triage-cli-data-'));
    const child = spawn(process.execPath, [TRIAGE, 'serve', '--listen-address', '127.0.0.1', '--grpc-port', '0', '--http-port', '0', '--log-level', 'warn', '--data-dir', dataDir], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.resume();
    let stderr = '';
    let adminKey = '';
    try {
      const [grpcPort, httpPort] = await new Promise<[number, number]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line within 30 s; stderr: ${stderr}`)), 30_000);
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /triage ready: gRPC on [^:]+:(\d+), HTTP on [^:]+:(\d+)[\s\S]*admin key [^:]*: (\S+)\n/.exec(stderr);
          if (match !== null) { clearTimeout(timer); adminKey = match[3] as string; resolve([Number(match[1]), Number(match[2])]); }
        });
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}: ${stderr}`)); });
      });
      assert.match(stderr, /instances: embedded local-triton 127\.0\.0\.1:\d+ \(healthy: breast_cancer_mlp, identity_fp32, simple\)/);
      const data = JSON.stringify({ INPUT0: [sixteen((i) => i)], INPUT1: [sixteen(() => 1)] });
      assert.match(stderr, /redis: embedded redis-server on port \d+/);
      await assert.rejects(run(process.execPath, [TRIAGE, 'infer', 'simple', '--url', `127.0.0.1:${grpcPort}`, '--data', data]),
        (error: { stderr: string }) => /UNAUTHENTICATED: no API key/.test(error.stderr), 'without a key, inference is refused');
      const { stdout } = await run(process.execPath, [TRIAGE, 'infer', 'simple', '--url', `127.0.0.1:${grpcPort}`, '--data', data], { env: { ...process.env, TRIAGE_API_KEY: adminKey } });
      assert.deepEqual((JSON.parse(stdout) as { outputs: { data: number[][] }[] }).outputs[0]?.data, [sixteen((i) => i + 1)]);
      const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      assert.equal(ready.status, 200);
      child.kill('SIGTERM');
      assert.equal(await exitCode(child), 0);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exitCode(child);
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
