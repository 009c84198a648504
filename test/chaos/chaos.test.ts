import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '../../src/redis/redis-server-process';
import { describeChaos } from './chaos-suite';

/** The chaos test against one private redis-server (the suite's shared one is left alone). */
describeChaos({
  name: 'single',
  async start() {
    const directory = mkdtempSync(join(tmpdir(), 'triage-chaos-redis-'));
    const server = await startRedisServer({ directory }).catch((error: unknown) => {
      rmSync(directory, { recursive: true, force: true });
      throw error;
    });
    return {
      url: server.url,
      async stop() {
        await server.stop();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  },
});
