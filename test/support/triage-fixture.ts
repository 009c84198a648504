import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVE_SETTINGS } from '../../src/config/serve-settings';
import { parseSettings } from '../../src/config/parse-settings';
import { startTriage, type RunningTriage, type ServeSettings } from '../../src/main';
import type { Controller } from '../../src/controller/controller';
import { silentLogger } from '../../src/observability/logger';
import { TritonTestClient } from './grpc-test-client';
import { sharedRedisUrl, TEST_ADMIN_KEY, TEST_JOBS_KEY, uniquePrefix } from './test-redis';

export interface TriageFixture {
  readonly triage: RunningTriage;
  /** A client of triage's gRPC port. */
  readonly client: TritonTestClient;
  readonly address: string;
  /** Closes the client and stops triage (gracefully). Idempotent. */
  stop(): Promise<void>;
}

/**
 * triage in-process in front of the given Triton instances, on free ports of
 * 127.0.0.1, with a silent logger and fast probing (every 200 ms, 500 ms timeout).
 * Its registry writes to a fresh temporary repository (and staging folder), removed at
 * stop, unless `overrides` names them.
 */
export async function startTriageFixture(instances: readonly string[], overrides: Partial<ServeSettings> = {}): Promise<TriageFixture> {
  const scratch = mkdtempSync(join(tmpdir(), 'triage-fixture-'));
  const settings: ServeSettings = {
    ...parseSettings(SERVE_SETTINGS, new Map(), {}),
    modelRepository: join(scratch, 'models'),
    stagingDir: join(scratch, 'staging'),
    listenAddress: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    tritonUrls: { kind: 'static', addresses: [...instances] },
    probeIntervalMs: 200,
    probeTimeoutMs: 500,
    shutdownGraceMs: 1_000,
    redisUrl: await sharedRedisUrl(),
    redisPrefix: uniquePrefix(),
    adminKey: TEST_ADMIN_KEY,
    jobsKeys: [TEST_JOBS_KEY],
    usageFlushMs: 100,
    ...overrides,
  };
  let triage: RunningTriage;
  try {
    triage = await startTriage(settings, silentLogger());
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  const address = `127.0.0.1:${triage.grpcPort}`;
  const client = new TritonTestClient(address, undefined, TEST_ADMIN_KEY);
  let stopping: Promise<void> | null = null;
  return {
    triage,
    client,
    address,
    stop() {
      stopping ??= (async () => {
        client.close();
        await triage.stop();
        rmSync(scratch, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** The controller of a triage running the controller role (a test error otherwise). */
export function controllerOf(triage: RunningTriage): Controller {
  if (triage.controller === null) throw new Error('this triage runs without the controller role');
  return triage.controller;
}
