import calculateSlot from 'cluster-key-slot';
import type { ChainableCommander, Cluster } from 'ioredis';
import type { RedisClient } from './redis-client';

/** One reply of a batch: the command's error, or null and its result. */
export type BatchReply = [error: Error | null, result: unknown];

/**
 * Commands sent together, in as few round trips as the server allows: one pipeline (or one
 * MULTI) on a single Redis, one per group under Redis Cluster, whose pipelines may only
 * address keys one node serves and whose transactions one slot.
 *
 * Invariant for callers: each `on(key)` queues exactly one command, and that command
 * touches only keys of `key`'s slot. Replies come back in the order of the `on` calls.
 */
export interface SlotBatch<Replies> {
  /** The pipeline to queue one command on, the one that goes where `key` lives. */
  on(key: string): ChainableCommander;
  /** Number of commands queued. */
  readonly length: number;
  exec(): Promise<Replies>;
}

/**
 * Pipelines: on Cluster one per node (sent in parallel). exec never rejects: a pipeline
 * that fails as a whole (connection lost) gives each of its commands that error, so the
 * caller sees which commands may not have run.
 */
export function pipelinesBySlot(client: RedisClient): SlotBatch<BatchReply[]> {
  const batch: SlotBatch<AnyReplies> = client.isCluster ? new ClusterBatch(client as Cluster, 'pipeline') : new SingleBatch(client, 'pipeline');
  return batch as SlotBatch<BatchReply[]>;
}

/**
 * Transactions: on a single Redis one MULTI (run as one, as before); on Cluster one
 * MULTI per slot, run one after another in the order their first command was queued
 * (queue a record before its index, and a failure never leaves an index without its
 * record). exec resolves with each command's result, or rejects with the first error,
 * sending no later group.
 */
export function transactionsBySlot(client: RedisClient): SlotBatch<unknown[]> {
  return client.isCluster ? new ClusterBatch(client as Cluster, 'transaction') : new SingleBatch(client, 'transaction');
}

type Mode = 'pipeline' | 'transaction';
type AnyReplies = BatchReply[] | unknown[];

class SingleBatch implements SlotBatch<AnyReplies> {
  private readonly commander: ChainableCommander;
  private count = 0;

  constructor(client: RedisClient, private readonly mode: Mode) {
    this.commander = mode === 'pipeline' ? client.pipeline() : client.multi();
  }

  on(): ChainableCommander {
    this.count += 1;
    return this.commander;
  }

  get length(): number {
    return this.count;
  }

  async exec(): Promise<AnyReplies> {
    if (this.count === 0) return [];
    if (this.mode === 'transaction') return resultsOf(await this.commander.exec());
    try {
      return (await this.commander.exec()) ?? [];
    } catch (error) {
      return everyReply(this.count, error);
    }
  }
}

interface Group {
  readonly commander: ChainableCommander;
  /** Positions of this group's commands among every `on` call. */
  readonly positions: number[];
}

class ClusterBatch implements SlotBatch<AnyReplies> {
  private readonly groups = new Map<string, Group>();
  private count = 0;

  constructor(private readonly client: Cluster, private readonly mode: Mode) {}

  on(key: string): ChainableCommander {
    const slot = calculateSlot(key);
    // A pipeline may span the slots of one node (ioredis checks the nodes serving each slot); a MULTI may not leave its slot.
    const groupKey = this.mode === 'transaction' ? String(slot) : (this.client.slots[slot]?.join(';') ?? `slot ${slot}`);
    let group = this.groups.get(groupKey);
    if (group === undefined) {
      group = { commander: this.mode === 'pipeline' ? this.client.pipeline() : this.client.multi(), positions: [] };
      this.groups.set(groupKey, group);
    }
    group.positions.push(this.count++);
    return group.commander;
  }

  get length(): number {
    return this.count;
  }

  async exec(): Promise<AnyReplies> {
    const replies = new Array<unknown>(this.count);
    const groups = [...this.groups.values()];
    // A MULTI's queue also holds its MULTI command.
    const extra = this.mode === 'transaction' ? 1 : 0;
    for (const group of groups) {
      if (group.commander.length !== group.positions.length + extra) throw new Error('slot batch: each on(key) must queue exactly one command');
    }
    if (this.mode === 'transaction') {
      for (const group of groups) {
        const results = resultsOf(await group.commander.exec());
        group.positions.forEach((position, index) => { replies[position] = results[index]; });
      }
      return replies;
    }
    await Promise.all(groups.map(async (group) => {
      let results: BatchReply[];
      try {
        results = (await group.commander.exec()) ?? [];
      } catch (error) {
        results = everyReply(group.positions.length, error);
      }
      group.positions.forEach((position, index) => { replies[position] = results[index] ?? [new Error('no reply'), null]; });
    }));
    return replies as BatchReply[];
  }
}

/** The results of a pipeline's replies, or the first error among them thrown. */
export function resultsOrThrow(replies: readonly BatchReply[]): unknown[] {
  return replies.map(([error, result]) => {
    if (error !== null) throw error;
    return result;
  });
}

/** A transaction's results, or its first error thrown (EXEC aborted by WATCH counts as one). */
function resultsOf(replies: BatchReply[] | null): unknown[] {
  if (replies === null) throw new Error('transaction aborted: a watched key changed');
  return resultsOrThrow(replies);
}

function everyReply(count: number, error: unknown): BatchReply[] {
  const failure = error instanceof Error ? error : new Error(String(error));
  return Array.from({ length: count }, (): BatchReply => [failure, null]);
}
