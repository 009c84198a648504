import { PROGRESS_TAU_MS } from './execution/dispatch-scripts';
import { TERMINAL_STATUSES, type JobRecord } from './job-record';

/** Throughput figures the workers keep in the job hash (record-progress-1.lua): an EWMA of rows/s and when it was last fed; it decays while no rows finish. */
export interface ProgressFigures {
  readonly rate: number | null;
  readonly atMs: number | null;
}


/** GET /v1/jobs/{id}: the record plus `progress` (rows done, rate, ETA), derived when read. */
export function jobView(record: JobRecord, figures: ProgressFigures, nowMs: number): Record<string, unknown> {
  const { total, completed, failed } = record.request_counts;
  const done = completed + failed;
  const ended = TERMINAL_STATUSES.has(record.status);
  const startedMs = record.in_progress_at === null ? null : Date.parse(record.in_progress_at);
  const endMs = ended ? endedAtMs(record) ?? nowMs : nowMs;
  // The whole run's average when it has ended or no live estimate exists; else the workers' recent rate, decayed to now.
  const average = startedMs === null || endMs <= startedMs ? null : done / ((endMs - startedMs) / 1000);
  const live = !ended && figures.rate !== null && figures.atMs !== null ? figures.rate * Math.exp(-Math.max(0, nowMs - figures.atMs) / PROGRESS_TAU_MS) : null;
  const rate = live ?? average;
  const remaining = Math.max(0, total - done);
  return {
    ...record,
    progress: {
      rows_done: done,
      rows_total: total,
      percent: total === 0 ? 100 : Math.floor((done / total) * 1000) / 10,
      rows_per_second: rate === null ? null : Math.round(rate * 10) / 10,
      eta_seconds: ended ? 0 : rate === null || rate <= 0 ? null : Math.ceil(remaining / rate),
    },
  };
}

function endedAtMs(record: JobRecord): number | null {
  const at = record.completed_at ?? record.failed_at ?? record.cancelled_at ?? record.expired_at;
  return at === null ? null : Date.parse(at);
}
