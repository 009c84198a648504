import { bytesGroupOffsets } from './bytes-tensor';
import { datatypeInfo, elementCount } from './datatypes';
import type { Tensor } from './tensor';

/**
 * Stacks tensors of one name along their leading (batch) dimension. The caller
 * guarantees the parts share datatype and non-batch dims. One part is returned as is.
 */
export function concatBatch(parts: readonly Tensor[]): Tensor {
  const first = parts[0];
  if (first === undefined) throw new RangeError('concatBatch needs at least one tensor');
  if (parts.length === 1) return first;
  let batch = 0;
  for (const part of parts) batch += part.shape[0] ?? 0;
  return {
    name: first.name,
    datatype: first.datatype,
    shape: [batch, ...first.shape.slice(1)],
    data: Buffer.concat(parts.map((part) => part.data)),
  };
}

/**
 * Cuts a batched tensor into consecutive pieces of the given batch sizes, as views of
 * the original data (no copy). Throws when the tensor does not hold exactly that many rows.
 */
export function splitBatch(tensor: Tensor, batchSizes: readonly number[]): Tensor[] {
  if (batchSizes.length === 1) return [tensor];
  const total = batchSizes.reduce((sum, size) => sum + size, 0);
  if (tensor.shape[0] !== total) {
    throw new RangeError(`output '${tensor.name}' has batch dimension ${tensor.shape[0] ?? 'none'}, expected ${total}`);
  }
  const rowShape = tensor.shape.slice(1);
  const rowElements = elementCount(rowShape);
  const info = datatypeInfo(tensor.datatype);
  let offsets: number[];
  if (info === undefined || info.byteSize === 0) {
    const groupOffsets = bytesGroupOffsets(tensor.data, total, rowElements);
    if (groupOffsets === null) throw new RangeError(`output '${tensor.name}' is not a valid BYTES tensor of ${total} rows`);
    offsets = groupOffsets;
  } else {
    offsets = Array.from({ length: total + 1 }, (_, row) => row * rowElements * info.byteSize);
  }
  const pieces: Tensor[] = [];
  let row = 0;
  for (const size of batchSizes) {
    pieces.push({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: [size, ...rowShape],
      data: tensor.data.subarray(offsets[row], offsets[row + size]),
    });
    row += size;
  }
  return pieces;
}
