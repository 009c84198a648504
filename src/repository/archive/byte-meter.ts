import { Transform } from 'node:stream';

/**
 * A pass-through that reports each chunk's size to `onChunk` before forwarding it. If
 * `onChunk` throws, the stream fails with that error and the chunk is not forwarded.
 */
export function byteMeter(onChunk: (byteCount: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        onChunk(chunk.byteLength);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, chunk);
    },
  });
}
