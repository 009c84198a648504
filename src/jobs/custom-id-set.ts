const INITIAL_SLOTS = 1024;
/** Grown when more than this share of the slots is taken. */
const MAX_LOAD = 0.7;

/**
 * The custom_ids of one job seen so far, to refuse a repeated one, in 12 bytes per slot
 * whatever the ids' length: an open-addressing table of 64-bit hashes (two independent
 * 32-bit halves) and the row each was first seen on. Two different ids sharing all 64
 * bits would be taken for a repeat: about one chance in 3 * 10^5 for a job of 10 million
 * rows, one in 3 * 10^9 for 100,000.
 */
export class CustomIdSet {
  private hashes = new Uint32Array(INITIAL_SLOTS * 2);
  private rows = new Uint32Array(INITIAL_SLOTS);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `id` first seen on `row` (>= 1). Returns 0 when it is new, else the row it was first seen on. */
  add(id: string, row: number): number {
    const [high, low] = hash64(id);
    const found = this.find(high, low);
    if (this.rows[found] !== 0) return this.rows[found] as number;
    this.hashes[found * 2] = high;
    this.hashes[found * 2 + 1] = low;
    this.rows[found] = row;
    this.count += 1;
    if (this.count > this.rows.length * MAX_LOAD) this.grow();
    return 0;
  }

  /** The slot holding (high, low), or the empty slot where it belongs (linear probing). */
  private find(high: number, low: number): number {
    const mask = this.rows.length - 1;
    let slot = (low ^ Math.imul(high, 0x9e3779b1)) & mask;
    while (this.rows[slot] !== 0 && (this.hashes[slot * 2] !== high || this.hashes[slot * 2 + 1] !== low)) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldRows = this.rows;
    this.hashes = new Uint32Array(oldHashes.length * 2);
    this.rows = new Uint32Array(oldRows.length * 2);
    for (let slot = 0; slot < oldRows.length; slot++) {
      if (oldRows[slot] === 0) continue;
      const high = oldHashes[slot * 2] as number;
      const low = oldHashes[slot * 2 + 1] as number;
      const target = this.find(high, low);
      this.hashes[target * 2] = high;
      this.hashes[target * 2 + 1] = low;
      this.rows[target] = oldRows[slot] as number;
    }
  }
}

/** Two 32-bit FNV-1a hashes of the UTF-16 code units with different offsets, each finished with murmur3's mix. */
function hash64(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995) ^ (b >>> 15);
  }
  return [mix(a) >>> 0, mix(b ^ 0x27d4eb2f) >>> 0];
}

function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
