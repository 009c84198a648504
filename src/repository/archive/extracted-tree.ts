/** One regular file written by an extraction. */
export interface ExtractedFile {
  /** Relative to the tree's root, '/'-separated. */
  readonly path: string;
  readonly sizeBytes: number;
  /** Hex SHA-256 of the bytes written, computed while writing them. */
  readonly sha256: string;
}

/** What an extraction wrote, ready to be validated and moved into the model repository. */
export interface ExtractedTree {
  /**
   * The model folder: the archive's single top-level directory when every entry is under
   * one, otherwise the extraction destination itself.
   */
  readonly root: string;
  /** The name of that single top-level directory, or null when there is none. */
  readonly topLevelName: string | null;
  /** Sorted by path. */
  readonly files: readonly ExtractedFile[];
  readonly totalBytes: number;
}
