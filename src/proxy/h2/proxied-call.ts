import { status } from '@grpc/grpc-js';
import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { relayedHeaders, upstreamRequestHeaders } from './forwarded-headers';
import { FirstMessage, GrpcFrameScanner } from './grpc-frame-scanner';
import { encodeGrpcMessage, replyStatus } from './grpc-status-reply';
import { MessageAppender } from './message-appender';

/** How a relayed call ended, for accounting. */
export interface CallResult {
  /** Bytes of the request stream (gRPC frames) sent upstream. */
  readonly bytesIn: number;
  /** Bytes of the response stream relayed to the client. */
  readonly bytesOut: number;
  /** The gRPC status the client got (2, UNKNOWN, when none was seen). */
  readonly status: number;
}

/** Where a call goes, and the hooks that account for it there. */
export interface CallTarget {
  readonly address: string;
  /** Bytes appended to every request message (e.g. an encoded `priority` parameter), or null. */
  readonly appendToMessages: Buffer | null;
  /**
   * When set, the call may go to the instance before it is admitted: the upstream stream
   * opens and the request flows, except its bytes from the last byte of the first message
   * on, which are held back until `gate` resolves (an instance cannot start on a message
   * it has not received whole). A rejection resets the upstream stream and answers the
   * client with that failure: the instance never ran the call.
   */
  readonly gate?: Promise<void>;
  /** Called once when the upstream stream opens, and `finished` once when it closes. */
  started(): void;
  finished(result: CallResult): void;
}

/** How a call ended as the client saw it: reported once, when the client's stream closes. */
export interface CallSummary {
  /** The gRPC status the client got (CANCELLED when the client went away first). */
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Milliseconds from opening the upstream stream to its close, or null when none was opened. */
  readonly upstreamMs: number | null;
  /** The quota that refused the call, or null. */
  readonly refusedBy: string | null;
  /** The call's gate (CallTarget.gate) refused it: an upstream stream may have opened, but the instance never ran it. */
  readonly gateRefused: boolean;
}

export interface CallRouting {
  /**
   * Chooses the target once enough of the first message has arrived (`first` is null for
   * calls routed by method alone): 'more' to wait for more bytes; the target (at once when
   * it is known: the common case costs no promise), or a promise of the target or of null
   * when the routing layer has answered the client itself. Rejects with a
   * CallFailure to answer the client with that status.
   */
  choose(first: FirstMessage | null, clientEnded: boolean): 'more' | CallTarget | null | Promise<CallTarget | null>;
  /** The target could not be reached (nothing was sent to it): another target to try once, or null. */
  unreachable(target: CallTarget, reason: string): CallTarget | null;
  readonly needsFirstMessage: boolean;
  /** Told once how the call ended, when the client's stream closes (for metrics and audit). */
  ended?(summary: CallSummary): void;
}

export interface CallLimits {
  readonly maxMessageBytes: number;
}

/** The connection to an address: at once when it is established, else a promise of it. */
/** Turns anything thrown by the routing layer into the failure to answer with. */
export type FailureOf = (error: unknown) => CallFailure;

export type SessionSource = (address: string) => ClientHttp2Session | Promise<ClientHttp2Session>;

/** gRPC failure as the routing layer reports it. */
export interface CallFailure {
  readonly code: status;
  readonly message: string;
  /** Metadata to send with the status (e.g. retry-after-ms). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The quota that refused the call, when a quota did. */
  readonly refusedBy?: string;
}

const END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;

/**
 * One gRPC call relayed between a client stream and an upstream stream, as bytes: the
 * message is never assembled or decoded (only the first bytes of the first message are
 * read, for routing). Both directions keep HTTP/2 backpressure and the message size
 * limit; headers, trailers and trailers-only answers are relayed; a client reset cancels
 * the upstream stream and an upstream failure ends the client's call with UNAVAILABLE.
 *
 * Invariants: the client gets exactly one answer; the target's started/finished hooks run
 * exactly once each when an upstream stream was opened; nothing is written upstream
 * before the connection to the target is established.
 */
export class ProxiedCall {
  private readonly first = new FirstMessage();
  private readonly requestScanner: GrpcFrameScanner;
  private readonly responseScanner: GrpcFrameScanner;
  private upstream: ClientHttp2Stream | null = null;
  private routing = false;
  private clientEnded = false;
  private finished = false;
  private trailers: IncomingHttpHeaders | null = null;
  private upstreamFailure: CallFailure | null = null;
  private appender: MessageAppender | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  private finalStatus: number = status.UNKNOWN;
  private refusedBy: string | null = null;
  private upstreamOpenedAt = -1;
  private upstreamMs: number | null = null;
  /** A gate (CallTarget.gate) is still closed: request bytes from `heldFrom` on wait in `held`. */
  private gated = false;
  /** The gate refused the call: the instance never ran it. */
  private gateRefused = false;
  private held: Buffer[] = [];
  /** Bytes received from the client so far. */
  private clientBytes = 0;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly path: string,
    private readonly routingPolicy: CallRouting,
    private readonly sessions: SessionSource,
    private readonly limits: CallLimits,
    private readonly failureOf: FailureOf,
  ) {
    this.requestScanner = new GrpcFrameScanner(limits.maxMessageBytes);
    this.responseScanner = new GrpcFrameScanner(limits.maxMessageBytes);
  }

  start(): void {
    this.stream.on('data', (chunk: Buffer) => this.onClientData(chunk));
    this.stream.on('end', () => this.onClientEnd());
    this.stream.on('close', () => this.onClientClose());
    this.stream.on('error', () => { /* 'close' follows */ });
    if (!this.routingPolicy.needsFirstMessage) this.route();
  }

  private onClientData(chunk: Buffer): void {
    if (this.finished) return;
    this.clientBytes += chunk.length;
    const oversized = this.requestScanner.scan(chunk);
    if (oversized >= 0) {
      this.fail({ code: status.RESOURCE_EXHAUSTED, message: `request message of ${oversized} bytes exceeds triage's limit of ${this.limits.maxMessageBytes} bytes (--max-message-bytes / TRIAGE_MAX_MESSAGE_BYTES)` });
      return;
    }
    const upstream = this.upstream;
    if (upstream !== null && this.gated) {
      // Held until the gate opens; the client waits meanwhile (memory stays bounded).
      this.held.push(chunk);
      this.stream.pause();
      return;
    }
    if (upstream !== null) {
      if (!this.writeUpstream(upstream, chunk)) {
        this.stream.pause();
        upstream.once('drain', () => this.stream.resume());
      }
      return;
    }
    this.first.add(chunk);
    if (!this.routing && this.routingPolicy.needsFirstMessage) this.route();
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.upstream !== null && !this.gated) this.upstream.end();
    else if (this.routingPolicy.needsFirstMessage && !this.routing) this.route();
  }

  private onClientClose(): void {
    if (!this.finished) {
      this.finished = true;
      // The client went away before its answer (a routing layer that answered itself set its own status).
      if (this.finalStatus === status.UNKNOWN && this.upstream !== null) this.finalStatus = status.CANCELLED;
    }
    const upstream = this.upstream;
    if (upstream !== null && !upstream.closed) upstream.close(constants.NGHTTP2_CANCEL);
    if (this.upstreamOpenedAt >= 0 && this.upstreamMs === null) this.upstreamMs = performance.now() - this.upstreamOpenedAt;
    this.routingPolicy.ended?.({
      status: this.finalStatus,
      bytesIn: this.upstream === null || this.gateRefused ? this.clientBytes : this.bytesIn,
      bytesOut: this.bytesOut,
      upstreamMs: this.gateRefused ? null : this.upstreamMs,
      refusedBy: this.refusedBy,
      gateRefused: this.gateRefused,
    });
  }

  private route(): void {
    let decision: ReturnType<CallRouting['choose']>;
    try {
      decision = this.routingPolicy.choose(this.routingPolicy.needsFirstMessage ? this.first : null, this.clientEnded);
    } catch (error) {
      this.routing = true;
      this.fail(this.failureOf(error));
      return;
    }
    if (decision === 'more') return;
    this.routing = true;
    if (decision === null) {
      this.finished = true;
      return;
    }
    if (!(decision instanceof Promise)) {
      this.connectGated(decision);
      return;
    }
    decision.then(
      (target) => {
        if (target === null) this.finished = true;
        else this.connectGated(target);
      },
      (error: unknown) => this.fail(this.failureOf(error)),
    );
  }

  /** Connects to the first target, watching its gate (if any) from now on. */
  private connectGated(target: CallTarget): void {
    if (target.gate !== undefined) {
      this.gated = true;
      target.gate.then(() => this.openGate(), (error: unknown) => {
        this.gateRefused = !this.finished;
        this.fail(this.failureOf(error));
      });
    }
    this.connect(target, true);
  }

  /** The call is admitted: what was held goes upstream (or, not yet connected, all goes when it is). */
  private openGate(): void {
    this.gated = false;
    const upstream = this.upstream;
    if (this.finished || upstream === null) return;
    const held = this.held;
    this.held = [];
    let room = true;
    for (const chunk of held) room = this.writeUpstream(upstream, chunk);
    if (this.clientEnded) upstream.end();
    else if (room) this.stream.resume();
    else upstream.once('drain', () => this.stream.resume());
  }

  private connect(target: CallTarget, mayRetry: boolean): void {
    if (this.finished) return;
    const session = this.sessions(target.address);
    if (!(session instanceof Promise)) {
      this.open(target, session);
      return;
    }
    session.then(
      (connected) => this.open(target, connected),
      (error: Error) => {
        const next = mayRetry && !this.finished ? this.routingPolicy.unreachable(target, error.message) : null;
        if (next !== null) this.connect(next, false);
        else this.fail({ code: status.UNAVAILABLE, message: `instance ${target.address} cannot be reached: ${error.message}` });
      },
    );
  }

  private open(target: CallTarget, session: ClientHttp2Session): void {
    if (this.finished) return;
    let upstream: ClientHttp2Stream;
    try {
      upstream = session.request(upstreamRequestHeaders(this.headers, this.path), { endStream: false });
    } catch (error) {
      this.fail({ code: status.UNAVAILABLE, message: `instance ${target.address} cannot take the call: ${(error as Error).message}` });
      return;
    }
    target.started();
    this.upstreamOpenedAt = performance.now();
    this.upstream = upstream;
    if (target.appendToMessages !== null) this.appender = new MessageAppender(target.appendToMessages);
    upstream.on('response', (headers: IncomingHttpHeaders, flags: number) => this.onUpstreamResponse(headers, flags));
    upstream.on('trailers', (trailers: IncomingHttpHeaders) => {
      this.trailers = trailers;
      this.finalStatus = Number(trailers['grpc-status'] ?? status.UNKNOWN);
    });
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    upstream.on('end', () => this.onUpstreamEnd());
    upstream.on('error', () => { /* 'close' follows */ });
    upstream.on('close', () => {
      this.upstreamMs = performance.now() - this.upstreamOpenedAt;
      this.onUpstreamClose(target);
      target.finished({ bytesIn: this.bytesIn, bytesOut: this.bytesOut, status: this.finalStatus });
    });
    if (!this.gated) {
      for (const chunk of this.first.received()) this.writeUpstream(upstream, chunk);
      if (this.clientEnded) upstream.end();
      return;
    }
    // The first message's last byte and all after it wait for the gate.
    const heldFrom = 5 + (this.first.header()?.length ?? 0) - 1;
    let offset = 0;
    for (const chunk of this.first.received()) {
      const cut = Math.min(chunk.length, Math.max(0, heldFrom - offset));
      if (cut > 0) this.writeUpstream(upstream, cut === chunk.length ? chunk : chunk.subarray(0, cut));
      if (cut < chunk.length) this.held.push(cut === 0 ? chunk : chunk.subarray(cut));
      offset += chunk.length;
    }
  }

  private onUpstreamResponse(headers: IncomingHttpHeaders, flags: number): void {
    if (this.finished || this.stream.headersSent) return;
    if ((flags & END_STREAM) !== 0 || headers['grpc-status'] !== undefined) {
      this.finished = true;
      this.finalStatus = Number(headers['grpc-status'] ?? status.UNKNOWN);
      this.stream.respond(relayedHeaders(headers, true), { endStream: true });
      return;
    }
    this.stream.once('wantTrailers', () => this.sendTrailers());
    this.stream.respond(relayedHeaders(headers, true), { waitForTrailers: true });
  }

  private onUpstreamData(chunk: Buffer): void {
    if (this.finished) return;
    const oversized = this.responseScanner.scan(chunk);
    if (oversized >= 0) {
      this.upstreamFailure = { code: status.RESOURCE_EXHAUSTED, message: `response message of ${oversized} bytes exceeds triage's limit of ${this.limits.maxMessageBytes} bytes (--max-message-bytes / TRIAGE_MAX_MESSAGE_BYTES)` };
      this.upstream?.close(constants.NGHTTP2_CANCEL);
      return;
    }
    this.bytesOut += chunk.length;
    if (!this.stream.write(chunk)) {
      const upstream = this.upstream;
      upstream?.pause();
      this.stream.once('drain', () => upstream?.resume());
    }
  }

  private onUpstreamEnd(): void {
    if (this.finished || !this.stream.headersSent) return;
    this.finished = true;
    this.stream.end();
  }

  private onUpstreamClose(target: CallTarget): void {
    if (this.finished) return;
    const failure = this.upstreamFailure
      ?? { code: status.UNAVAILABLE, message: `the call to instance ${target.address} failed before it completed (HTTP/2 code ${this.upstream?.rstCode ?? 'unknown'})` };
    this.fail(failure);
  }

  /** Answers the client with a status: trailers-only before headers, as trailers after. */
  private fail(failure: CallFailure): void {
    if (this.finished && this.stream.headersSent) return;
    this.finished = true;
    this.finalStatus = failure.code;
    this.refusedBy = failure.refusedBy ?? null;
    const upstream = this.upstream;
    if (upstream !== null && !upstream.closed) upstream.close(constants.NGHTTP2_CANCEL);
    if (!this.stream.headersSent) {
      replyStatus(this.stream, failure.code, failure.message, failure.headers ?? {});
      return;
    }
    this.trailers = { 'grpc-status': String(failure.code), 'grpc-message': encodeGrpcMessage(failure.message) };
    if (!this.stream.writableEnded) this.stream.end();
  }

  /** Writes one request chunk upstream (with bytes appended to each message when asked); false when the upstream buffer is full. */
  private writeUpstream(upstream: ClientHttp2Stream, chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    if (this.appender === null) return upstream.write(chunk);
    let room = true;
    for (const piece of this.appender.push(chunk)) room = upstream.write(piece);
    return room;
  }

  private sendTrailers(): void {
    // A gRPC server always ends with a status: a stream that ended without one lost its connection
    // (the instance died mid-answer), which is UNAVAILABLE like every other upstream failure: retryable.
    if (this.trailers === null) this.finalStatus = status.UNAVAILABLE;
    const trailers = this.trailers ?? { 'grpc-status': String(status.UNAVAILABLE), 'grpc-message': encodeGrpcMessage('the instance ended the call without a status: its connection was lost') };
    this.stream.sendTrailers(relayedHeaders(trailers, false));
  }
}
