export interface AdminClientOptions {
  /** triage's HTTP address, e.g. http://localhost:8000. */
  readonly url: string;
  readonly apiKey: string;
  readonly timeoutMs?: number;
}

/**
 * A small client of triage's admin API (/v1) for the CLI. A refusal becomes an Error
 * carrying the server's message and HTTP status; a server that cannot be reached, an
 * Error naming the URL.
 */
export class AdminClient {
  private readonly base: URL;

  constructor(private readonly options: AdminClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new Error(`--url must be an http(s) URL such as http://localhost:8000, got '${options.url}'`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`--url must be an http(s) URL such as http://localhost:8000, got '${options.url}'`);
    if (options.apiKey === '') throw new Error('no API key: pass --api-key <key> or set TRIAGE_API_KEY');
    this.base = base;
  }

  /** A JSON call: the parsed answer. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.call(method, path, 'application/json', body);
    return JSON.parse(text) as T;
  }

  /** A call whose answer is text of the given media type (the usage CSV). */
  text(path: string, accept: string): Promise<string> {
    return this.call('GET', path, accept);
  }

  private async call(method: string, path: string, accept: string, body?: unknown): Promise<string> {
    const url = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          accept,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach triage at ${this.base.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`${errorMessage(text) ?? (text.trim().slice(0, 200) || response.statusText)} (HTTP ${response.status})`);
    return text;
  }
}

/** The message of triage's `{"error": message}` body, or null when the body is something else. */
function errorMessage(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : null;
  } catch {
    return null;
  }
}

/** `/v1/<segment>/<segment>...`, each segment escaped: apiPath('tenants', id, 'keys'). */
export function apiPath(...segments: readonly string[]): string {
  return `/v1/${segments.map(encodeURIComponent).join('/')}`;
}
