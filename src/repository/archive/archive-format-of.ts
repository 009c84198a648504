import { TriageError } from '../../errors/triage-error';

export type ArchiveFormat = 'tar.gz' | 'zip';

/** Media types accepted for an uploaded model folder, and the format each one means. */
const FORMATS: ReadonlyMap<string, ArchiveFormat> = new Map([
  ['application/gzip', 'tar.gz'],
  ['application/x-gzip', 'tar.gz'],
  ['application/zip', 'zip'],
  ['application/x-zip-compressed', 'zip'],
]);

const ACCEPTED = [...FORMATS.keys()].join(', ');

/**
 * The archive format named by a Content-Type header (parameters such as `; charset=` are
 * ignored, case is not significant). The body is never sniffed: a missing or other type is
 * refused with INVALID_ARGUMENT naming the accepted types.
 */
export function archiveFormatOf(contentType: string | undefined): ArchiveFormat {
  const mediaType = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  const format = FORMATS.get(mediaType);
  if (format !== undefined) return format;
  const got = mediaType === '' ? 'no Content-Type' : `Content-Type '${mediaType.slice(0, 100)}'`;
  throw new TriageError(
    'INVALID_ARGUMENT',
    `a model archive must be sent as a .tar.gz or a .zip (Content-Type one of ${ACCEPTED}); got ${got}`,
  );
}
