export type PollOutcome = { readonly ok: true; readonly at: Date } | { readonly ok: false; readonly error: unknown };

/**
 * Runs `task` every `intervalMs` (the next run is scheduled when the previous one has
 * ended, so runs never overlap) while the browser tab is visible; a hidden tab polls
 * nothing, and coming back runs the task at once. `report` hears how each run ended.
 */
export class Poller {
  private timer: number | null = null;
  private running = false;
  private stopped = true;
  private again = false;
  private readonly onVisibility = (): void => {
    if (!document.hidden) {
      this.now();
    } else if (!this.stopped) {
      this.clearTimer();
      this.onPause();
    }
  };

  constructor(
    private readonly task: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly report: (outcome: PollOutcome) => void,
    private readonly onPause: () => void = () => undefined,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.now();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /** Runs the task now (or right after the run in progress) and restarts the interval. */
  now(): void {
    if (this.stopped) return;
    this.clearTimer();
    if (document.hidden) {
      this.onPause();
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      await this.task();
      if (!this.stopped) this.report({ ok: true, at: new Date() });
    } catch (error) {
      if (!this.stopped) this.report({ ok: false, error });
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.now();
    } else if (document.hidden) {
      this.onPause();
    } else {
      this.timer = window.setTimeout(() => this.now(), this.intervalMs);
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }
}
