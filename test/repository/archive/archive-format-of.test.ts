import assert from 'node:assert/strict';
import { TriageError } from '../../../src/errors/triage-error';
import { archiveFormatOf } from '../../../src/repository/archive/archive-format-of';

describe('archiveFormatOf', () => {
  it('maps the gzip and zip media types, ignoring case and parameters', () => {
    assert.equal(archiveFormatOf('application/gzip'), 'tar.gz');
    assert.equal(archiveFormatOf('application/x-gzip'), 'tar.gz');
    assert.equal(archiveFormatOf('Application/GZIP; charset=binary'), 'tar.gz');
    assert.equal(archiveFormatOf('application/zip'), 'zip');
    assert.equal(archiveFormatOf(' application/x-zip-compressed '), 'zip');
  });

  it('refuses anything else, naming the accepted types', () => {
    for (const contentType of [undefined, '', 'application/octet-stream', 'application/x-tar', 'application/json', 'text/plain']) {
      assert.throws(
        () => archiveFormatOf(contentType),
        (error: unknown) =>
          error instanceof TriageError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes('application/gzip, application/x-gzip, application/zip, application/x-zip-compressed') &&
          error.message.includes(contentType === undefined || contentType === '' ? 'no Content-Type' : `'${contentType}'`),
      );
    }
  });
});
