import type { JobErrorLine } from '../job-record';

/**
 * The result and error lines of one chunk as they are produced, each custom_id at most
 * once (the first line written for a row wins), serialized as JSONL for commitChunk.
 */
export class ChunkLines {
  private readonly results: string[] = [];
  private readonly errors: string[] = [];
  private readonly written = new Set<string>();

  has(customId: string): boolean {
    return this.written.has(customId);
  }

  /** A result line; `outputsJson` is the JSON text of its outputs object (JobResultLine['outputs']). */
  result(customId: string, outputsJson: string): void {
    if (this.claim(customId)) this.results.push(`{"custom_id":${JSON.stringify(customId)},"outputs":${outputsJson}}`);
  }

  error(customId: string, error: JobErrorLine['error']): void {
    if (this.claim(customId)) this.errors.push(JSON.stringify({ custom_id: customId, error } satisfies JobErrorLine));
  }

  get completed(): number {
    return this.results.length;
  }

  get failed(): number {
    return this.errors.length;
  }

  resultsJsonl(): Buffer {
    return jsonl(this.results);
  }

  errorsJsonl(): Buffer {
    return jsonl(this.errors);
  }

  private claim(customId: string): boolean {
    if (this.written.has(customId)) return false;
    this.written.add(customId);
    return true;
  }
}

function jsonl(lines: readonly string[]): Buffer {
  return Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8');
}
