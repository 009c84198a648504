import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { connect, constants, createServer, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'mocha';
import { failureOf } from '../../src/proxy/h2/call-failure';
import { ProxiedCall, type CallRouting, type CallTarget } from '../../src/proxy/h2/proxied-call';
import { QuotaRefusal } from '../../src/tenancy/quota-refusal';

/** What the upstream server saw of one stream. */
interface UpstreamStream {
  bytes: Buffer;
  /** The whole request arrived and was answered. */
  ran: boolean;
  /** Set when the stream closed. */
  rstCode: number | null;
}

/** A gRPC message frame: uncompressed flag, 4-byte length, body. */
function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => { resolve = yes; reject = no; });
  return { promise, resolve, reject };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(2);
  }
}

/**
 * A call relayed with a gate (CallTarget.gate: the instance is contacted before the call is
 * admitted): real HTTP/2 servers on port 0 on both sides, the front one relaying each
 * stream through a ProxiedCall whose routing the test controls.
 */
describe('gateway: a call relayed before it is admitted holds back the end of its first message', () => {
  let upstream: Http2Server;
  let front: Http2Server;
  let upstreamSession: ClientHttp2Session | null = null;
  const seen: UpstreamStream[] = [];
  /** The target the next call is routed to (set by each test). */
  let nextTarget: (address: string) => CallTarget;
  let upstreamAddress = '';
  let frontPort = 0;
  const clients: ClientHttp2Session[] = [];

  before(async () => {
    upstream = createServer();
    upstream.on('stream', (stream: ServerHttp2Stream) => {
      const record: UpstreamStream = { bytes: Buffer.alloc(0), ran: false, rstCode: null };
      seen.push(record);
      stream.on('data', (chunk: Buffer) => { record.bytes = Buffer.concat([record.bytes, chunk]); });
      stream.on('close', () => { record.rstCode = stream.rstCode; });
      stream.on('end', () => {
        // Runs the call only when the message is whole (a reset also ends the readable side):
        // answers with the number of bytes it got.
        const declared = record.bytes.length >= 5 ? 5 + record.bytes.readUInt32BE(1) : Infinity;
        if (record.bytes.length < declared || stream.closed) return;
        record.ran = true;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(Buffer.from(String(record.bytes.length))));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamAddress = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    front = createServer();
    front.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const routing: CallRouting = {
        needsFirstMessage: true,
        choose: (first) => (first === null || first.header() === null ? 'more' : nextTarget(upstreamAddress)),
        unreachable: () => null,
      };
      const sessions = (address: string): ClientHttp2Session => {
        upstreamSession ??= connect(`http://${address}`);
        return upstreamSession;
      };
      new ProxiedCall(stream, headers, headers[':path'] as string, routing, sessions, { maxMessageBytes: 1 << 20 }, failureOf).start();
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontPort = (front.address() as AddressInfo).port;
  });
  afterEach(() => { seen.length = 0; });
  after(async () => {
    for (const client of clients) client.close();
    upstreamSession?.close();
    await new Promise((resolve) => front.close(resolve));
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** Sends `body` as one write (END_STREAM with it) and collects the answer. */
  const call = (body: Buffer): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; data: Buffer }> => {
    const client = connect(`http://127.0.0.1:${frontPort}`);
    clients.push(client);
    const request = client.request({ ':method': 'POST', ':path': '/inference.GRPCInferenceService/ModelStreamInfer', 'content-type': 'application/grpc', te: 'trailers' });
    const answer = new Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; data: Buffer }>((resolve, reject) => {
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      request.on('response', (received) => { headers = received; });
      request.on('trailers', (received) => { trailers = received; });
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('close', () => resolve({ headers, trailers, data: Buffer.concat(chunks) }));
      request.on('error', reject);
    });
    request.end(body);
    return answer;
  };

  const target = (address: string, gate: Promise<void>, appendToMessages: Buffer | null = null): CallTarget =>
    ({ address, gate, appendToMessages, started: () => undefined, finished: () => undefined });

  it('the instance gets all but the last byte of the first message until the gate opens, then the rest', async () => {
    const gate = deferred();
    nextTarget = (address) => target(address, gate.promise);
    const message = frame(Buffer.alloc(100, 7));
    const answer = call(message);
    await until('the upstream stream to receive the held-back prefix', () => seen[0]?.bytes.length === message.length - 1);
    await sleep(50);
    assert.equal(seen[0]?.bytes.length, message.length - 1, 'nothing more flows while the gate is closed');
    assert.equal(seen[0]?.ran, false, 'the instance has not got the whole request: it cannot run it');
    gate.resolve();
    const { headers, trailers, data } = await answer;
    assert.equal(headers[':status'], 200);
    assert.equal(trailers['grpc-status'], '0');
    assert.deepEqual(seen[0]?.bytes, message, 'the instance got the request byte for byte');
    assert.equal(seen[0]?.ran, true);
    assert.equal(data.subarray(5).toString(), String(message.length));
  });

  it('a refused gate resets the upstream stream, unrun, and answers the client with the refusal', async () => {
    const gate = deferred();
    nextTarget = (address) => target(address, gate.promise);
    const message = frame(Buffer.alloc(100, 7));
    const answer = call(message);
    await until('the upstream stream to open', () => seen[0]?.bytes.length === message.length - 1);
    gate.reject(new QuotaRefusal('requests_per_second', 'requests_per_second of tenant t (5/s) exceeded; retry in 40 ms', 40, { limit: 3, remaining: 0, resetMs: 200 }, false));
    const { headers, data } = await answer;
    assert.equal(headers['grpc-status'], String(status.RESOURCE_EXHAUSTED));
    assert.equal(headers['grpc-message'], 'requests_per_second of tenant t (5/s) exceeded; retry in 40 ms');
    assert.equal(headers['retry-after-ms'], '40');
    assert.equal(data.length, 0);
    await until('the upstream stream to close', () => seen[0]?.rstCode !== null);
    assert.equal(seen[0]?.ran, false, 'the instance never got the whole request');
    assert.equal(seen[0]?.rstCode, constants.NGHTTP2_CANCEL);
    assert.equal(seen[0]?.bytes.length, message.length - 1);
  });

  it('with several messages in the first chunk, only the first message minus its last byte goes before the gate opens', async () => {
    const gate = deferred();
    nextTarget = (address) => target(address, gate.promise);
    const first = frame(Buffer.alloc(40, 1));
    const second = frame(Buffer.alloc(30, 2));
    const answer = call(Buffer.concat([first, second]));
    await until('the upstream stream to receive the held-back prefix', () => seen[0]?.bytes.length === first.length - 1);
    await sleep(50);
    assert.equal(seen[0]?.bytes.length, first.length - 1, 'no byte of the second message is sent');
    gate.resolve();
    await answer;
    assert.deepEqual(seen[0]?.bytes, Buffer.concat([first, second]));
  });

  it('bytes appended to every message (the tenant priority) go after the held-back byte, with the rewritten length', async () => {
    const gate = deferred();
    const extra = Buffer.from('PRIORITY');
    nextTarget = (address) => target(address, gate.promise, extra);
    const body = Buffer.alloc(20, 9);
    const answer = call(frame(body));
    await until('the upstream stream to receive the held-back prefix', () => seen[0]?.bytes.length === 5 + body.length - 1);
    assert.equal(seen[0]?.bytes.readUInt32BE(1), body.length + extra.length, 'the length prefix already counts the appended bytes');
    gate.resolve();
    await answer;
    assert.deepEqual(seen[0]?.bytes, frame(Buffer.concat([body, extra])));
  });
});
