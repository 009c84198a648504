/**
 * What a job body reader finds, in body order: a top-level member of a JSON body other than
 * `rows` (parsed), or one row's JSON text with its number (JSONL: its line number; JSON:
 * its 1-based position in `rows`). Readers are push parsers: they hold at most one
 * unfinished row, never the body.
 */
export type BodyItem =
  | { readonly kind: 'field'; readonly name: string; readonly value: unknown }
  | { readonly kind: 'row'; readonly row: number; readonly text: Buffer };

export interface BodyReader {
  /** The items completed by this part of the body. */
  push(chunk: Buffer): BodyItem[];
  /** The last items, once the body has ended; throws when the body stops in the middle of something. */
  end(): BodyItem[];
}
