import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/error-codes';
import { toGrpcStatus } from '../../src/errors/grpc-error';
import { asTriageError, TriageError } from '../../src/errors/triage-error';
import { projectRoot } from '../../src/protocol/project-paths';

describe('error codes', () => {
  const documented = readFileSync(join(projectRoot(), 'docs', 'errors.md'), 'utf8');

  it('documents every code in docs/errors.md with its gRPC and HTTP status', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      const row = documented.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      assert.ok(row !== undefined, `docs/errors.md has no row for ${code}`);
      const cells = row.split('|').map((cell) => cell.trim());
      assert.equal(cells[2], status[spec.grpc], `gRPC status of ${code}`);
      assert.equal(cells[3], String(spec.http), `HTTP status of ${code}`);
    }
  });

  it('documents no code that does not exist', () => {
    const rows = documented.split('\n').filter((line) => /^\| `[A-Z_]+` \|/.test(line));
    const codes = rows.map((line) => /^\| `([A-Z_]+)`/.exec(line)?.[1]);
    assert.deepEqual(codes.sort(), Object.keys(ERROR_CODES).sort());
  });

  it('maps a TriageError to its gRPC status, message and error id trailer', () => {
    const error = new TriageError('NOT_FOUND', "Request for unknown model: 'x' is not found");
    const grpc = toGrpcStatus(error);
    assert.equal(grpc.code, status.NOT_FOUND);
    assert.equal(grpc.details, "Request for unknown model: 'x' is not found");
    assert.deepEqual(grpc.metadata?.get('triage-error-id'), [error.id]);
    assert.match(error.id, /^[0-9a-f]{12}$/);
  });

  it('turns anything else into INTERNAL, keeping the cause', () => {
    const cause = new RangeError('boom');
    const wrapped = asTriageError(cause);
    assert.equal(wrapped.code, 'INTERNAL' satisfies ErrorCode);
    assert.equal(wrapped.message, 'boom');
    assert.equal(wrapped.cause, cause);
    assert.equal(asTriageError(wrapped), wrapped);
    assert.equal(toGrpcStatus('text').code, status.INTERNAL);
  });
});
