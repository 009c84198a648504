import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelRecord } from '../registry/model-record';
import type { DeliveryMode } from './instance-profiles';
import { loadConfig } from './served-versions';

interface LoadParameter {
  readonly string_param?: string;
  readonly bytes_param?: Buffer;
}

/** A RepositoryModelLoad request as the Triton client sends it. */
export interface LoadRequest {
  readonly model_name: string;
  readonly parameters: Readonly<Record<string, LoadParameter>>;
}

/**
 * The RepositoryModelLoad request of a model for one instance. Always the `config`
 * parameter (loadConfig: so a new config takes effect at every load). `shared`: nothing
 * else, the instance reads the version folders from its --model-repository. `push`: also
 * one `file:<path>` bytes parameter per file of the model folder (config.pbtxt aside:
 * `config` replaces it), for the versions served only; Triton writes them to a fresh
 * folder that replaces the repository's for this model.
 */
export async function buildLoadRequest(record: ModelRecord, versions: readonly string[], delivery: DeliveryMode, repository: string): Promise<LoadRequest> {
  const parameters: Record<string, LoadParameter> = { config: { string_param: JSON.stringify(loadConfig(record)) } };
  if (delivery === 'push') {
    const modelPath = join(repository, record.name);
    for (const entry of await readdir(modelPath, { withFileTypes: true })) {
      if (entry.isFile() && entry.name !== 'config.pbtxt') parameters[`file:${entry.name}`] = { bytes_param: await readFile(join(modelPath, entry.name)) };
    }
    for (const version of versions) {
      for (const file of await filesUnder(join(modelPath, version))) {
        parameters[`file:${version}/${file}`] = { bytes_param: await readFile(join(modelPath, version, file)) };
      }
    }
  }
  return { model_name: record.name, parameters };
}

/** Relative paths ('/'-separated) of the regular files under a folder, sorted. */
async function filesUnder(folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(folder, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  await walk('');
  return found;
}
