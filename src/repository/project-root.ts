import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The nearest folder at or above `fromDir` that holds a package.json. Compiled code runs from
 * dist/src/..., sources from src/..., so callers walk up rather than count levels.
 */
export function findProjectRoot(fromDir: string): string {
  let dir = fromDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json found at or above ${fromDir}`);
    dir = parent;
  }
}
