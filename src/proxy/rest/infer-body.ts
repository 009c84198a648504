import { TriageError } from '../../errors/triage-error';
import { invalid } from './json-rules';

/** Triton's binary tensor extension: the byte length of the JSON header that opens the body. */
export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

export interface InferBody {
  /** The parsed JSON header. */
  readonly header: unknown;
  /** The bytes after the header: binary inputs back to back (a view, not a copy). */
  readonly binary: Buffer;
}

/**
 * Splits an (already decompressed) inference body into its JSON header and binary part.
 * Without the Inference-Header-Content-Length header the whole body is JSON.
 */
export function splitInferBody(body: Buffer, headerLength: string | string[] | undefined): InferBody {
  let length = body.length;
  if (headerLength !== undefined) {
    const text = Array.isArray(headerLength) ? headerLength.join(',') : headerLength;
    const parsed = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed > body.length) {
      throw invalid(`header Inference-Header-Content-Length is '${text}': it must be the byte length of the JSON that opens the body, at most the body's ${body.length} bytes`);
    }
    if (parsed === 0) {
      throw new TriageError('UNIMPLEMENTED', 'Inference-Header-Content-Length 0 (the whole body as the one input, no JSON) is not supported through triage: send a JSON header that names the input');
    }
    length = parsed;
  }
  if (length === 0) throw invalid('the inference request has no JSON body');
  let header: unknown;
  try {
    header = JSON.parse(body.toString('utf8', 0, length));
  } catch (error) {
    throw invalid(`failed to parse the request JSON buffer: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { header, binary: body.subarray(length) };
}
