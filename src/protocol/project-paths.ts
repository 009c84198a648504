import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/**
 * The folder that holds triage's package.json: the same from src/ (ts sources) and
 * dist/src/ (compiled), so proto/ and model-repository/ are found from either.
 */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'proto'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find triage's package root above ${__dirname}`);
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}

export function protoDirectory(): string {
  return join(projectRoot(), 'proto');
}
