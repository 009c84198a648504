/**
 * Root hooks: after the whole suite, nothing may be left running. A server, socket,
 * timer, worker or child process left open would keep CI waiting forever, so the
 * suite fails, names what leaked, and exits.
 */
import { stopSharedRedis } from './test-redis';

const ALLOWED = new Set(['TTYWrap', 'PipeWrap', 'FSReqCallback', 'FSReqPromise', 'SignalWrap']);

export const mochaHooks = {
  async afterAll(this: unknown): Promise<void> {
    await stopSharedRedis();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const leaked = process.getActiveResourcesInfo().filter((resource) => !ALLOWED.has(resource));
    // mocha's own timeout timer for this hook is active while it runs.
    const timeouts = leaked.filter((resource) => resource === 'Timeout').length;
    const others = leaked.filter((resource) => resource !== 'Timeout');
    if (others.length > 0 || timeouts > 1) {
      // The leaked handles would keep the process alive for ever: exit once mocha has reported.
      setTimeout(() => process.exit(1), 5_000).unref();
      throw new Error(`the suite left handles open: ${leaked.join(', ')}`);
    }
  },
};
