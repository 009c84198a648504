/** A chunk's reference in backlogs and the in-flight set: `<job id>:<chunk>`. */
export function chunkRef(jobId: string, chunk: number): string {
  return `${jobId}:${chunk}`;
}

/** The job id and chunk number of a ref, or null when it is not one. */
export function parseChunkRef(ref: string): { jobId: string; chunk: number } | null {
  const separator = ref.lastIndexOf(':');
  const text = ref.slice(separator + 1);
  const chunk = Number(text);
  if (separator <= 0 || !/^[0-9]+$/.test(text) || !Number.isSafeInteger(chunk)) return null;
  return { jobId: ref.slice(0, separator), chunk };
}
