import type { RequestHandler, Response } from 'express';
import type { AuditReader } from '../observability/audit-reader';
import { principalOf } from '../proxy/rest/rest-authentication';
import { AUDIT_DEFAULT_LIMIT, parseAuditQuery } from './audit-query';
import { isAdministrator, visibleTenantId } from './tenant-visibility';

/** Entries one JSON page may examine (the answer says `scanned_to` when the bound stopped it). */
export const AUDIT_MAX_SCANNED = 100_000;
/** Entries one JSONL export may examine. */
export const AUDIT_EXPORT_MAX_SCANNED = 1_000_000;
/** The trailer of a JSONL export the scan bound stopped: the id to pass as `before` to go on. */
export const SCANNED_TO_TRAILER = 'x-audit-scanned-to';
/** JSONL lines are sent in writes of about this many characters. */
const WRITE_CHARS = 64 * 1024;

/**
 * GET /v1/audit: admin changes and inference metadata, newest first, as a page of JSON
 * (`{entries, next_before, scanned_to?}`) or as a JSONL export (`format=jsonl`) written as
 * the client reads it. An administrator sees every entry; a tenant's `read` key only its
 * own tenant's (naming another tenant is NOT_FOUND, as for one that does not exist).
 */
export function auditHandler(reader: Pick<AuditReader, 'page' | 'export'>, nowMs: () => number = Date.now): RequestHandler {
  return async (request, response) => {
    const asked = parseAuditQuery(new URL(request.originalUrl, 'http://localhost').searchParams);
    const principal = principalOf(response);
    const tenant = isAdministrator(principal) ? asked.query.tenant : visibleTenantId(principal, asked.query.tenant ?? principal.tenantId);
    const query = { ...asked.query, tenant };
    if (asked.format === 'json') {
      const page = await reader.page(query, asked.limit ?? AUDIT_DEFAULT_LIMIT, AUDIT_MAX_SCANNED);
      response.json({ entries: page.entries, next_before: page.nextBefore, ...(page.scannedTo === null ? {} : { scanned_to: page.scannedTo }) });
      return;
    }
    const exported = reader.export(query, asked.limit, AUDIT_EXPORT_MAX_SCANNED);
    const stamp = new Date(nowMs()).toISOString().replace(/[-:]/g, '').replace(/\.[0-9]+Z$/, 'Z');
    response.status(200).attachment(`triage-audit-${stamp}.jsonl`).type('application/x-ndjson');
    response.setHeader('trailer', SCANNED_TO_TRAILER);
    let chunk = '';
    try {
      for await (const entry of exported.entries) {
        chunk += `${JSON.stringify(entry)}\n`;
        if (chunk.length < WRITE_CHARS) continue;
        if (!(await write(response, chunk))) return;
        chunk = '';
      }
    } catch (error) {
      // The answer has begun: a cut connection is how the client learns the export is incomplete.
      response.destroy();
      throw error;
    }
    if (chunk !== '' && !(await write(response, chunk))) return;
    const scannedTo = exported.scannedTo();
    if (scannedTo !== null) response.addTrailers({ [SCANNED_TO_TRAILER]: scannedTo });
    response.end();
  };
}

/** Writes with backpressure: resolves once the socket takes more, false when the client has gone. */
function write(response: Response, text: string): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false);
  if (response.write(text)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (open: boolean) => (): void => {
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(open);
    };
    const onDrain = done(true);
    const onClose = done(false);
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
}
