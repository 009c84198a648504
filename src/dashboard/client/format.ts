/** How numbers, sizes, durations and times read on every view: short, with units, '–' for nothing. */

export const NOTHING = '–';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? NOTHING : integer.format(value);
}

/** 0.5 -> '0.5', 1234.56 -> '1,235': one decimal under 100. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return NOTHING;
  return Math.abs(value) < 100 ? oneDecimal.format(value) : integer.format(value);
}

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return NOTHING;
  if (value >= 10_000) return `${oneDecimal.format(value / 1000)} s`;
  return `${value < 10 ? oneDecimal.format(value) : integer.format(value)} ms`;
}

/** A ratio 0..1 as a percentage. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return NOTHING;
  const percent = ratio * 100;
  return `${percent > 0 && percent < 0.1 ? '<0.1' : oneDecimal.format(percent)}%`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return NOTHING;
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < BYTE_UNITS.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? integer.format(scaled) : oneDecimal.format(scaled)} ${BYTE_UNITS[unit] ?? ''}`;
}

export function formatSeconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return NOTHING;
  if (value < 60) return `${Math.round(value)} s`;
  if (value < 3600) return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
  return `${Math.floor(value / 3600)} h ${Math.round((value % 3600) / 60)} min`;
}

/** An ISO time as the local date and time, to the second. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return NOTHING;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatClock(date: Date): string {
  return date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** '3 min ago' style, for recent events. */
export function formatAge(iso: string | null | undefined, nowMs: number = Date.now()): string {
  if (iso === null || iso === undefined) return NOTHING;
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return NOTHING;
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}
