import { startRedisCluster } from '../support/redis-cluster';
import { describeChaos } from './chaos-suite';

/** The same chaos test against a local Redis Cluster of three masters (redis+cluster://). */
describeChaos({
  name: 'cluster',
  async start() {
    const cluster = await startRedisCluster({ masters: 3 });
    return { url: cluster.url, stop: () => cluster.stop() };
  },
});
