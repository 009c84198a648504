import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { packDirectory } from '../src/repository/archive/pack-directory';
import { digestFolder } from '../src/repository/folder-digest';
import { validateModelDirectory } from '../src/repository/validation/validate-model-directory';
import { removeTriageModel, sourceFolder, type RegistrySetup } from './registry-rounds';
import { timedPost } from './timed-post';

/** The steps of a push timed one by one, ms; all but the prepacked upload in the bench process, with the code triage runs. */
export interface StepEstimates {
  /** packDirectory (tar + gzip at level 1, as `triage models push` streams it) drained to memory. */
  readonly packMs: number;
  /** zlib gzip of model.onnx alone at level 1, and at level 0 (stored blocks: still gzip), for comparison with the default level. */
  readonly gzipLevel1Ms: number;
  readonly gzipLevel0Ms: number;
  readonly gunzipMs: number;
  readonly validateMs: number;
  readonly digestMs: number;
  /** POST /v1/models of the archive packed beforehand (in memory): start to last body byte written. */
  readonly prepackedBodySentMs: number;
  /** The same POST, start to the 201. */
  readonly prepackedRegisteredMs: number;
}

/**
 * Where a push's time goes, from outside triage: packs a folder like the pushed ones, times
 * gunzip, validation and digest of it in this process, then uploads the packed bytes to
 * triage (registered under `name`, then deleted with its folder), so that the upload is timed without the
 * client's gzip in its way.
 */
export async function pushStepEstimates(setup: RegistrySetup, name: string): Promise<StepEstimates> {
  const folder = await sourceFolder(setup, name);
  const packStarted = performance.now();
  const chunks: Buffer[] = [];
  for await (const chunk of packDirectory(folder)) chunks.push(chunk as Buffer);
  const packMs = performance.now() - packStarted;
  const archive = Buffer.concat(chunks);

  const onnx = await readFile(join(folder, '1', 'model.onnx'));
  const gzipStarted = performance.now();
  gzipSync(onnx, { level: 1 });
  const gzipLevel1Ms = performance.now() - gzipStarted;
  const storeStarted = performance.now();
  gzipSync(onnx, { level: 0 });
  const gzipLevel0Ms = performance.now() - storeStarted;

  const gunzipStarted = performance.now();
  gunzipSync(archive);
  const gunzipMs = performance.now() - gunzipStarted;

  const validateStarted = performance.now();
  const validation = await validateModelDirectory(folder, { expectedName: name });
  const validateMs = performance.now() - validateStarted;
  if (validation.problems.length > 0) throw new Error(`${name} does not validate: ${JSON.stringify(validation.problems)}`);

  const digestStarted = performance.now();
  await digestFolder(join(folder, '1'));
  const digestMs = performance.now() - digestStarted;

  const push = await timedPost(new URL('/v1/models', setup.httpBase),
    { authorization: `Bearer ${setup.adminKey}`, 'content-type': 'application/gzip' }, Readable.from([archive]));
  if (push.status !== 201) throw new Error(`POST /v1/models of ${name} (prepacked): HTTP ${push.status}: ${push.text.slice(0, 2000)}`);
  await removeTriageModel(setup, name);
  return { packMs, gzipLevel1Ms, gzipLevel0Ms, gunzipMs, validateMs, digestMs, prepackedBodySentMs: push.bodySentMs, prepackedRegisteredMs: push.answeredMs };
}
