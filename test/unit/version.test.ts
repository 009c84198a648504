import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { projectRoot } from '../../src/protocol/project-paths';
import { TRIAGE_VERSION } from '../../src/version';

describe('version', () => {
  it('TRIAGE_VERSION is package.json\'s version', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
    assert.equal(TRIAGE_VERSION, pkg.version);
  });
});
