import { archiveRefusal } from './archive-refusal';

/** Counts received archive bytes and throws INVALID_ARGUMENT once they pass `maxArchiveBytes`. */
export function archiveSizeCheck(maxArchiveBytes: number): (byteCount: number) => void {
  let received = 0;
  return (byteCount) => {
    received += byteCount;
    if (received > maxArchiveBytes) throw archiveRefusal(`is larger than ${maxArchiveBytes} bytes (limit maxArchiveBytes)`);
  };
}
