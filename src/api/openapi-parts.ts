import { ADMIN_BODY_LIMIT_BYTES } from './json-body';

/** Building blocks of the OpenAPI document: schema helpers, the error responses, one operation. */

/** A JSON Schema or OpenAPI fragment. */
export type Json = Readonly<Record<string, unknown>>;

export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
export const nullable = (schema: Json): Json => ({ oneOf: [schema, { type: 'null' }] });
export const json = (schema: Json): Json => ({ content: { 'application/json': { schema } } });
export const error = (description: string): Json => ({ description, ...json(ref('Error')) });

export const ERRORS = {
  400: error('Invalid input: malformed JSON, an unknown field, a wrong type or a value breaking its rule. The message names the field and the rule; nothing was changed.'),
  401: error('No valid API key: missing, malformed, unknown, expired or revoked.'),
  403: error('The key lacks the scope this route needs, or its tenant is suspended.'),
  404: error('No such tenant, key or model. To a tenant\'s key, every other tenant (and every model it may not use) is answered so, exactly as if it did not exist.'),
  409: error('The resource already exists (a tenant name, a model, a version), or changed while the request ran.'),
  413: error(`The body is larger than ${ADMIN_BODY_LIMIT_BYTES} bytes.`),
  422: error('The uploaded model fails validation; `problems` lists every problem (path, rule, message). Nothing was written.'),
  503: error('The key store (Redis) is unreachable.'),
} as const;

export type ErrorStatus = keyof typeof ERRORS;

/** What each kind of route can answer besides its success. */
export const READ_ERRORS: readonly ErrorStatus[] = [401, 403, 404, 503];
export const WRITE_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 404, 413, 503];

export function operation(summary: string, access: 'read' | 'admin', success: Record<string, Json>, errors: readonly ErrorStatus[], extra: Json = {}): Json {
  const responses: Record<string, Json> = { ...success };
  for (const status of errors) responses[String(status)] = ERRORS[status];
  const who = access === 'admin' ? 'Needs the `admin` scope.' : 'Needs the `read` scope (a tenant\'s key: its own tenant only) or `admin`.';
  return { summary, description: who, ...extra, responses };
}

export const body = (schema: Json): Json => ({ requestBody: { required: true, ...json(schema) } });
export const ok = (description: string, schema: Json): Record<string, Json> => ({ 200: { description, ...json(schema) } });
export const created = (description: string, schema: Json): Record<string, Json> => ({ 201: { description, ...json(schema) } });

