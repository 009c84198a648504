/** One request of a paced load: when it was due, when it was sent and settled, and its outcome. */
export interface PacedCall<T> {
  readonly index: number;
  readonly dueMs: number;
  readonly sentMs: number;
  readonly settledMs: number;
  readonly outcome: T;
}

export interface PacedLoadResult<T> {
  readonly calls: PacedCall<T>[];
  /** Largest delay between a request's due time and its sending (how far the generator fell behind). */
  readonly maxLagMs: number;
  /** From the first request sent to the last one sent. */
  readonly spanMs: number;
}

/**
 * An open-loop load generator: request i is due at start + i / ratePerSecond and is sent
 * at its time whether or not earlier requests have been answered (no closed loop that
 * slows down when the server does). `send` must not reject: it maps failures to outcomes.
 */
export async function pacedLoad<T>(ratePerSecond: number, durationMs: number, send: (index: number) => Promise<T>): Promise<PacedLoadResult<T>> {
  const total = Math.round((ratePerSecond * durationMs) / 1000);
  const intervalMs = 1000 / ratePerSecond;
  const pending: Promise<PacedCall<T>>[] = [];
  const startMs = performance.now();
  let next = 0;
  let maxLagMs = 0;
  let firstSentMs = 0;
  let lastSentMs = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && startMs + next * intervalMs <= now) {
        const index = next++;
        const dueMs = startMs + index * intervalMs;
        const sentMs = performance.now();
        if (index === 0) firstSentMs = sentMs;
        lastSentMs = sentMs;
        maxLagMs = Math.max(maxLagMs, sentMs - dueMs);
        pending.push(send(index).then((outcome) => ({ index, dueMs: dueMs - startMs, sentMs: sentMs - startMs, settledMs: performance.now() - startMs, outcome })));
      }
      if (next >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, startMs + next * intervalMs - performance.now()));
    };
    tick();
  });
  return { calls: await Promise.all(pending), maxLagMs, spanMs: lastSentMs - firstSentMs };
}
