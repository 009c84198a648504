import { createHash } from 'node:crypto';
import type { ModelRecord } from '../registry/model-record';
import { loadConfig } from './served-versions';

/**
 * What a load of the record puts on an instance, as one digest: the config sent and the
 * served versions with their contents' sha256. Equal digests, equal loads: an instance
 * that loaded another digest (an older config) is reloaded.
 */
export function loadSignature(record: ModelRecord, versions: readonly string[]): string {
  const digests = versions.map((version) => `${version}:${record.versions.find((each) => each.version === version)?.sha256 ?? ''}`);
  return createHash('sha256').update(JSON.stringify([loadConfig(record), digests])).digest('hex').slice(0, 32);
}
