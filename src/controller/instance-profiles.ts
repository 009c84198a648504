import { TriageError } from '../errors/triage-error';

export type DeliveryMode = 'shared' | 'push';

/** `--instance-labels`: address -> labels. */
export type InstanceLabels = ReadonlyMap<string, Readonly<Record<string, string>>>;

/** `--instance-memory`: address (or '*' for every other instance) -> budget in bytes. */
export type InstanceMemory = ReadonlyMap<string, number>;

/**
 * What the controller knows of each instance besides what the pool observes: its labels,
 * its memory budget and how models reach it. An address the settings do not name has no
 * labels and the default delivery. Its memory budget: the one --instance-memory names
 * for it, else the GPU memory the instance itself reports (Triton's
 * nv_gpu_memory_total_bytes, summed over its GPUs), else the '*' budget, else none
 * (unlimited).
 */
export class InstanceProfiles {
  private readonly push: ReadonlySet<string>;

  constructor(
    private readonly options: {
      readonly labels: InstanceLabels;
      readonly memory: InstanceMemory;
      readonly delivery: DeliveryMode;
      readonly pushInstances: readonly string[];
      /** The GPU memory an instance reports (bytes, all its GPUs), or null when it reports none (yet). */
      readonly reportedMemoryBytes?: (address: string) => number | null;
    },
  ) {
    this.push = new Set(options.pushInstances);
  }

  labels(address: string): Readonly<Record<string, string>> {
    return this.options.labels.get(address) ?? {};
  }

  memoryBudgetBytes(address: string): number | null {
    return this.options.memory.get(address) ?? this.options.reportedMemoryBytes?.(address) ?? this.options.memory.get('*') ?? null;
  }

  delivery(address: string): DeliveryMode {
    return this.push.has(address) ? 'push' : this.options.delivery;
  }
}

const LABEL_PART = /^([A-Za-z0-9_./-]{1,63})=([^\s,;=]{0,256})$/;

/**
 * Reads `ADDRESS key=value,key=value; ADDRESS key=value` (entries separated by ';', the
 * address then whitespace then comma-separated labels), e.g.
 * `triton-a:8001 gpu=a100,zone=eu; triton-b:8001 gpu=t4`.
 */
export function parseInstanceLabels(raw: string, source: string): InstanceLabels {
  const labels = new Map<string, Record<string, string>>();
  for (const entry of raw.split(';').map((part) => part.trim()).filter((part) => part !== '')) {
    const match = /^(\S+)\s+(\S.*)$/.exec(entry);
    if (match === null) throw invalid(source, 'entries of ADDRESS key=value,key=value separated by ;', entry);
    const address = match[1] as string;
    const pairs: Record<string, string> = {};
    for (const pair of (match[2] as string).split(',').map((part) => part.trim())) {
      const parsed = LABEL_PART.exec(pair);
      if (parsed === null) throw invalid(source, 'labels of the form key=value (key: letters, digits, _ . / -)', pair);
      pairs[parsed[1] as string] = parsed[2] as string;
    }
    if (labels.has(address)) throw invalid(source, 'each address at most once', address);
    labels.set(address, pairs);
  }
  return labels;
}

/**
 * Reads a size for every instance (`16GiB`), or `ADDRESS=SIZE` entries separated by
 * commas with `*=SIZE` for the instances not named (`triton-a:8001=24GiB,*=16GiB`).
 * Sizes are bytes or a number with a unit (KiB, MiB, GiB, TiB; K, M, G, T alike).
 */
export function parseInstanceMemory(raw: string, source: string): InstanceMemory {
  const memory = new Map<string, number>();
  const text = raw.trim();
  if (text === '') return memory;
  if (!text.includes('=')) {
    memory.set('*', parseSize(text, source));
    return memory;
  }
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const at = entry.lastIndexOf('=');
    if (at <= 0) throw invalid(source, 'a size, or ADDRESS=SIZE entries separated by commas (* = every other instance)', entry);
    const address = entry.slice(0, at).trim();
    if (memory.has(address)) throw invalid(source, 'each address at most once', address);
    memory.set(address, parseSize(entry.slice(at + 1), source));
  }
  return memory;
}

function parseSize(raw: string, source: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*(b|k|kib|m|mib|g|gib|t|tib)?$/i.exec(raw.trim());
  const units: Record<string, number> = { b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tib: 1024 ** 4 };
  const bytes = match === null ? NaN : Math.floor(Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? NaN));
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw invalid(source, 'sizes in bytes or with a unit (e.g. 17179869184, 16GiB)', raw);
  return bytes;
}

function invalid(source: string, rule: string, raw: string): TriageError {
  return new TriageError('CONFIG_INVALID', `${source} must be ${rule}; '${raw}' is not`);
}
