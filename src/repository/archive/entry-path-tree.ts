import { entryRefusal, printableEntryName } from './archive-refusal';

export type EntryKind = 'file' | 'directory';

/** One path an archive makes exist, named by an entry or implied by a deeper one. */
export class PathNode {
  named = false;
  /** Set once the path exists on disk. */
  created = false;
  readonly children = new Map<string, PathNode>();

  constructor(public kind: EntryKind) {}
}

/**
 * The paths of an archive's entries as a tree of segments, so that memory stays bounded by
 * the bytes of the entries' names however deep they go (a map of every ancestor path would
 * hold each prefix again). Refuses duplicate paths and a path that is both a file and a
 * directory.
 */
export class EntryPathTree {
  readonly root = new PathNode('directory');

  /** Adds an entry's path; `name` is the entry's name as the archive spells it, for messages. */
  add(name: string, segments: readonly string[], kind: EntryKind): void {
    let node = this.root;
    for (let depth = 0; depth < segments.length - 1; depth += 1) {
      const segment = segments[depth] ?? '';
      let child = node.children.get(segment);
      if (child === undefined) {
        child = new PathNode('directory');
        node.children.set(segment, child);
      } else if (child.kind === 'file') {
        throw entryRefusal(name, `is inside '${printableEntryName(segments.slice(0, depth + 1).join('/'))}', which is a file`);
      }
      node = child;
    }
    const last = segments[segments.length - 1] ?? '';
    const existing = node.children.get(last);
    if (existing === undefined) {
      const added = new PathNode(kind);
      added.named = true;
      node.children.set(last, added);
      return;
    }
    if (existing.named) throw entryRefusal(name, 'appears twice in the archive');
    if (kind === 'file') throw entryRefusal(name, 'is a file, but other entries are inside it');
    existing.named = true;
  }

  /** The nodes from the first segment to the last; every one of them must have been added. */
  nodesAlong(segments: readonly string[]): PathNode[] {
    const nodes: PathNode[] = [];
    let node = this.root;
    for (const segment of segments) {
      const child = node.children.get(segment);
      if (child === undefined) throw new Error(`path ${segments.join('/')} was never added`);
      nodes.push(child);
      node = child;
    }
    return nodes;
  }

  /** The name of the only top-level path when it is a directory, otherwise null. */
  singleTopLevelDirectory(): string | null {
    if (this.root.children.size !== 1) return null;
    const [name, node] = [...this.root.children][0] ?? [];
    return name !== undefined && node?.kind === 'directory' ? name : null;
  }
}
