/**
 * Sums ModelStatistics of the same model version reported by several instances into
 * one, as if one server had served every request: counts and durations add up,
 * batch_stats add per batch size, response_stats per key, last_inference is the latest,
 * memory_usage lists every instance's entries.
 */
type Duration = { count?: string | number; ns?: string | number };
type Stats = Record<string, unknown>;

export function mergeModelStatistics(reports: readonly Stats[][]): Stats[] {
  const merged = new Map<string, Stats>();
  for (const report of reports) {
    for (const stats of report) {
      const key = `${String(stats['name'])}\u0000${String(stats['version'])}`;
      const existing = merged.get(key);
      merged.set(key, existing === undefined ? structuredClone(stats) : add(existing, stats));
    }
  }
  return [...merged.values()].sort((a, b) => `${String(a['name'])}:${String(a['version'])}`.localeCompare(`${String(b['name'])}:${String(b['version'])}`));
}

function add(into: Stats, other: Stats): Stats {
  into['last_inference'] = String(bigMax(into['last_inference'], other['last_inference']));
  into['inference_count'] = String(big(into['inference_count']) + big(other['inference_count']));
  into['execution_count'] = String(big(into['execution_count']) + big(other['execution_count']));
  into['inference_stats'] = addDurations(into['inference_stats'] as Record<string, Duration> | null, other['inference_stats'] as Record<string, Duration> | null);
  into['batch_stats'] = addKeyed(into['batch_stats'] as Stats[] | undefined, other['batch_stats'] as Stats[] | undefined);
  into['memory_usage'] = [...((into['memory_usage'] as unknown[] | undefined) ?? []), ...((other['memory_usage'] as unknown[] | undefined) ?? [])];
  const responses = { ...((into['response_stats'] as Record<string, Record<string, Duration>> | undefined) ?? {}) };
  for (const [key, value] of Object.entries((other['response_stats'] as Record<string, Record<string, Duration>> | undefined) ?? {})) {
    responses[key] = addDurations(responses[key] ?? null, value);
  }
  into['response_stats'] = responses;
  return into;
}

function addKeyed(into: Stats[] | undefined, other: Stats[] | undefined): Stats[] {
  const bySize = new Map<string, Stats>();
  for (const entry of [...(into ?? []), ...(other ?? [])]) {
    const size = String(entry['batch_size']);
    const existing = bySize.get(size);
    if (existing === undefined) {
      bySize.set(size, structuredClone(entry));
      continue;
    }
    for (const field of Object.keys(entry)) {
      if (field === 'batch_size') continue;
      existing[field] = addDuration(existing[field] as Duration | undefined, entry[field] as Duration | undefined);
    }
  }
  return [...bySize.values()].sort((a, b) => Number(a['batch_size']) - Number(b['batch_size']));
}

function addDurations(into: Record<string, Duration> | null, other: Record<string, Duration> | null): Record<string, Duration> {
  const result: Record<string, Duration> = { ...(into ?? {}) };
  for (const [field, value] of Object.entries(other ?? {})) result[field] = addDuration(result[field], value);
  return result;
}

function addDuration(a: Duration | undefined | null, b: Duration | undefined | null): Duration {
  return { count: String(big(a?.count) + big(b?.count)), ns: String(big(a?.ns) + big(b?.ns)) };
}

function big(value: unknown): bigint {
  return typeof value === 'string' || typeof value === 'number' ? BigInt(value) : 0n;
}

function bigMax(a: unknown, b: unknown): bigint {
  const x = big(a);
  const y = big(b);
  return x > y ? x : y;
}
