import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { projectRoot } from '../../src/protocol/project-paths';

/** test/fixtures/text-format, found from the project root (tests run from dist/test/repository). */
export const FIXTURE_DIR = join(projectRoot(), 'test', 'fixtures', 'text-format');

function loadType(file: string, name: string): protobuf.Type {
  const root = new protobuf.Root().loadSync(join(FIXTURE_DIR, file), { keepCase: true });
  root.resolveAll();
  return root.lookupType(name);
}

export const everythingType = (): protobuf.Type => loadType('everything.proto', 'fixture.Everything');
export const legacyType = (): protobuf.Type => loadType('legacy.proto', 'legacy.Legacy');
