import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { projectRoot } from '../protocol/project-paths';

export interface DashboardAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * Every file the dashboard's page may load, read once into memory, keyed by the exact
 * path it is served under (below `/dashboard/<version>/`). `version` is a digest of
 * all of them: it changes whenever any file does, so the files can be cached for ever.
 */
export interface DashboardAssets {
  readonly version: string;
  readonly files: ReadonlyMap<string, DashboardAsset>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The compiled client (src/dashboard/client, built by its own tsconfig into this folder's `client`). */
export function clientDirectory(): string {
  return join(__dirname, 'client');
}

/**
 * Reads the client's compiled modules, the stylesheet and icon of src/dashboard/assets,
 * and uPlot's two files from node_modules. Throws, saying how to build it, when the
 * client has not been compiled.
 */
export function loadDashboardAssets(): DashboardAssets {
  const client = clientDirectory();
  if (!existsSync(join(client, 'main.js'))) {
    throw new Error(`the dashboard's client is not built (no ${join(client, 'main.js')}): run \`npm run build\``);
  }
  const files = new Map<string, DashboardAsset>();
  const add = (path: string, file: string): void => {
    const contentType = CONTENT_TYPES[extname(file)];
    if (contentType === undefined) return;
    files.set(path, { body: readFileSync(file), contentType });
  };
  for (const file of javascriptFiles(client)) add(`app/${relative(client, file).split(sep).join('/')}`, file);
  const assets = join(projectRoot(), 'src', 'dashboard', 'assets');
  add('dashboard.css', join(assets, 'dashboard.css'));
  add('favicon.svg', join(assets, 'favicon.svg'));
  add('vendor/uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'));
  add('vendor/uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'));
  const digest = createHash('sha256');
  for (const path of [...files.keys()].sort()) digest.update(path).update('\0').update((files.get(path) as DashboardAsset).body).update('\0');
  return { version: digest.digest('hex').slice(0, 12), files };
}

function javascriptFiles(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...javascriptFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.js')) found.push(path);
  }
  return found.sort();
}
