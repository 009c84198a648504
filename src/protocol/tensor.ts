import type { Datatype } from './datatypes';

/**
 * A tensor inside triage: its data is always the raw, row-major, little-endian form
 * Triton uses on the wire (BYTES: 4-byte length-prefixed elements), whatever form the
 * client sent it in.
 */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: Buffer;
}
