/** An answer other than 2xx: the HTTP status and the API's `error` message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The API could not be reached at all (network down, server stopped). */
export class ApiUnreachable extends Error {}

const TIMEOUT_MS = 10_000;

/**
 * The /v1 JSON API with one key, sent as `authorization: Bearer`. Every call either
 * resolves with the parsed body or rejects with ApiError (the server answered) or
 * ApiUnreachable (it did not).
 */
export class ApiClient {
  constructor(private readonly key: string) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        cache: 'no-store',
        credentials: 'omit',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiUnreachable('the triage API cannot be reached');
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const message = typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string'
        ? (parsed as { error: string }).error
        : `HTTP ${response.status}`;
      // A proxy in front answering 502/503/504 with no JSON means triage itself is not there.
      if (response.status >= 502 && response.status <= 504 && parsed === null) throw new ApiUnreachable(message);
      throw new ApiError(response.status, message);
    }
    return parsed as T;
  }
}

/** A query string from the non-empty values, e.g. `?kind=admin&limit=50`. */
export function queryString(values: Readonly<Record<string, string | number | null | undefined>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
