import type { Logger } from '../../observability/logger';
import type { JobErrorLine, JobRecord } from '../job-record';
import type { JobStore } from '../job-store';
import { storedRowIds } from '../packed-rows';
import { ChunkLines } from './chunk-lines';

/** Rows in chunk n of a job: chunk_rows, except the last chunk, which holds the rest. */
export function chunkRowCount(record: JobRecord, chunk: number): number {
  if (chunk < record.chunks_total - 1) return record.chunk_rows;
  return Math.max(0, record.request_counts.total - record.chunk_rows * (record.chunks_total - 1));
}

/**
 * Commits a chunk whose rows did not run (cancelled, expired, or unreadable past its
 * attempts) with one error line per row, through commitChunk: if an execution committed
 * the chunk first, its lines stand and nothing is counted twice. When even the input
 * cannot be read, the chunk is committed with its row count as failed and no lines
 * (logged: those custom_ids cannot be named). Returns the rows this call counted, or null
 * when the chunk had been committed before.
 */
export async function commitChunkAsErrors(store: JobStore, record: JobRecord, chunk: number, error: JobErrorLine['error'], logger: Logger): Promise<number | null> {
  let customIds: string[] | null = null;
  try {
    const input = await store.getInput(record.id, chunk);
    customIds = input === null ? null : storedRowIds(input);
  } catch (readError) {
    logger.error({ job: record.id, chunk, reason: (readError as Error).message }, 'chunk input unreadable; its rows are counted as failed without lines');
  }
  const lines = new ChunkLines();
  for (const customId of customIds ?? []) lines.error(customId, error);
  const failed = customIds === null ? chunkRowCount(record, chunk) : lines.failed;
  const commit = await store.commitChunk(record.id, chunk, Buffer.alloc(0), lines.errorsJsonl(), 0, failed);
  return commit.committed ? failed : null;
}
