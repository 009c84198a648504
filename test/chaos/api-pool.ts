import { TEST_ADMIN_KEY } from '../support/test-redis';

export interface ApiAnswer {
  readonly status: number;
  readonly text: string;
  /** Which api process answered. */
  readonly base: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The admin API of several api processes, as a client behind a load balancer sees it:
 * each request goes to the next process in turn, and one that cannot be reached (killed,
 * restarting) is skipped for the next. Every request carries the bootstrap admin key.
 * An HTTP answer, whatever its status, is returned as it is.
 */
export class ApiPool {
  private next = 0;

  constructor(private readonly bases: () => readonly string[]) {}

  /** Tries every process in turn, for up to timeoutMs; rejects with the last connection error. */
  async request(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<ApiAnswer> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      const bases = this.bases();
      const base = bases[this.next++ % bases.length] as string;
      try {
        const answer = await fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(Math.max(1_000, deadline - Date.now())),
        });
        return { status: answer.status, text: await answer.text(), base };
      } catch (error) {
        lastError = `${base}: ${(error as Error).message}`;
        if (Date.now() >= deadline) throw new Error(`${method} ${path}: no api process answered within ${timeoutMs} ms (${lastError})`);
        await sleep(100);
      }
    }
  }

  /** JSON in (when given), JSON out; throws unless the answer has status `expected`. */
  async json<T = Record<string, unknown>>(expected: number, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (answer.status !== expected) throw new Error(`${method} ${path} on ${answer.base}: expected ${expected}, got ${answer.status}: ${answer.text.slice(0, 500)}`);
    return JSON.parse(answer.text) as T;
  }
}
