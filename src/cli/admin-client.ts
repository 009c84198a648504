import { Readable } from 'node:stream';

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

  /** Streams `body` (an archive) as the request body; `onBytes` sees the running count of bytes sent. */
  async upload<T = unknown>(method: string, path: string, contentType: string, body: Readable, onBytes: (sent: number) => void): Promise<T> {
    let sent = 0;
    const counted = body.map((chunk: Buffer) => {
      sent += chunk.length;
      onBytes(sent);
      return chunk;
    });
    const text = await this.call(method, path, 'application/json', { stream: Readable.toWeb(counted) as ReadableStream, contentType }, 0);
    return JSON.parse(text) as T;
  }

  /** A call whose answer is text of the given media type (the usage CSV). */
  text(path: string, accept: string): Promise<string> {
    return this.call('GET', path, accept);
  }

  /** One HTTP call; `body` is JSON, or a stream with its content type. A timeoutMs of 0 waits as long as it takes. */
  private async call(method: string, path: string, accept: string, body?: unknown, timeoutMs = this.options.timeoutMs ?? 30_000): Promise<string> {
    const stream = isStreamBody(body) ? body : null;
    const url = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          accept,
          ...(body === undefined ? {} : { 'content-type': stream?.contentType ?? 'application/json' }),
        },
        ...(body === undefined ? {} : stream === null ? { body: JSON.stringify(body) } : { body: stream.stream, duplex: 'half' }),
        ...(timeoutMs === 0 ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach triage at ${this.base.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`${errorMessage(text) ?? (text.trim().slice(0, 200) || response.statusText)} (HTTP ${response.status})`);
    return text;
  }
}

interface StreamBody {
  readonly stream: ReadableStream;
  readonly contentType: string;
}

function isStreamBody(body: unknown): body is StreamBody {
  return typeof body === 'object' && body !== null && (body as Partial<StreamBody>).stream instanceof ReadableStream;
}

/** The message of triage's `{"error": message}` body, or null when the body is something else. */
function errorMessage(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; problems?: unknown };
    if (typeof parsed.error !== 'string') return null;
    // A model that fails validation: every problem on its own line.
    const problems = Array.isArray(parsed.problems) ? parsed.problems as { path?: unknown; rule?: unknown; message?: unknown }[] : [];
    return [parsed.error, ...problems.map((problem) => `  ${String(problem.path)}: ${String(problem.message)} [${String(problem.rule)}]`)].join('\n');
  } catch {
    return null;
  }
}

/** `/v1/<segment>/<segment>...`, each segment escaped: apiPath('tenants', id, 'keys'). */
export function apiPath(...segments: readonly string[]): string {
  return `/v1/${segments.map(encodeURIComponent).join('/')}`;
}
