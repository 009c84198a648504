import type { ModelRecord } from '../registry/model-record';
import { servedVersions } from './served-versions';

/**
 * Bytes a model is expected to take on an instance, for placement: the declared
 * footprint_bytes when set; else what an instance measured after loading this very
 * configuration and versions (`measuredBytes`); else an estimate: the size on disk of the
 * versions it serves (model files are a fair lower bound of the memory their weights take).
 */
export function modelFootprint(record: ModelRecord, measuredBytes: number | null = null): number {
  if (record.footprint_bytes !== null) return record.footprint_bytes;
  if (measuredBytes !== null) return measuredBytes;
  const served = new Set(servedVersions(record));
  return record.versions.filter((version) => served.has(version.version)).reduce((sum, version) => sum + version.size_bytes, 0);
}
