import { finished, PassThrough, type Readable } from 'node:stream';

/** The caller's stream, seen through a pipe that extraction may destroy. */
export interface SourceTap {
  /** Carries the source's bytes; destroyed with the source's error if the source fails. */
  readonly input: Readable;
  /** The source's own failure (error or premature close), if it failed. */
  failure(): Error | undefined;
  /** Unpipes the source, leaving it paused and undestroyed. Idempotent. */
  detach(): void;
}

/**
 * Pipes `source` into a stream extraction owns. Extraction may destroy that stream on a
 * refusal; the source itself is never destroyed, so an HTTP handler can still answer on the
 * connection the upload came from.
 */
export function tapSource(source: Readable): SourceTap {
  const input = new PassThrough();
  // The source may fail before extraction consumes `input`; its error is reported by failure().
  input.on('error', () => {});
  let sourceFailure: Error | undefined;
  const stopWatching = finished(source, { writable: false }, (error) => {
    if (error === undefined || error === null) return;
    sourceFailure = error;
    input.destroy(error);
  });
  source.pipe(input);
  let detached = false;
  return {
    input,
    failure: () => sourceFailure,
    detach: () => {
      if (detached) return;
      detached = true;
      stopWatching();
      source.unpipe(input);
    },
  };
}
