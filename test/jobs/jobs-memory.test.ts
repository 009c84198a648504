import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'mocha';
import type { TestTenant } from '../support/tenant-setup';
import { breastRow, startJobsFixture, type JobsFixture } from './jobs-fixture';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const ROWS = 100_000;
const SAMPLE_EVERY = 10_000;

describe('jobs: creating a 100,000-row job holds one chunk, not the job', function () {
  this.timeout(180_000);
  let api: JobsFixture;
  let tenant: TestTenant;

  before(async () => {
    api = await startJobsFixture();
    tenant = await api.tenant();
  });
  after(async () => {
    await api?.stop();
  });

  it('the live heap of this process (client and server) stays flat while a ~20 MB JSONL body streams in', async () => {
    collectGarbage();
    const baseline = process.memoryUsage();
    const live: number[] = [];
    let rssPeak = baseline.rss;
    let bodyBytes = 0;
    const encoder = new TextEncoder();
    let next = 0;
    // The body is made as it is read: the test itself never holds it either.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (next >= ROWS) {
          controller.close();
          return;
        }
        if (next > 0 && next % SAMPLE_EVERY === 0) {
          collectGarbage();
          const usage = process.memoryUsage();
          live.push(usage.heapUsed - baseline.heapUsed);
        }
        let text = '';
        for (const end = Math.min(ROWS, next + 500); next < end; next++) text += `${JSON.stringify(breastRow(`row-${next}`, next))}\n`;
        const bytes = encoder.encode(text);
        bodyBytes += bytes.length;
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        controller.enqueue(bytes);
      },
    }, { highWaterMark: 1 });
    const started = Date.now();
    const answer = await api.call('POST', '/v1/jobs?model=breast_cancer_mlp', tenant.key, body, { 'content-type': 'application/x-ndjson' });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(answer.status, 201, answer.text);
    assert.equal(answer.body?.['request_counts']['total'], ROWS);
    assert.equal(answer.body?.['chunks_total'], Math.ceil(ROWS / 512));
    const maxLive = Math.max(...live);
    const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    // Reported with the test run: what was measured.
    process.stdout.write(`      body ${mib(bodyBytes)} (${ROWS} rows) in ${seconds.toFixed(1)} s; live heap growth every ${SAMPLE_EVERY} rows: ${live.map(mib).join(", ")}; RSS growth peak ${mib(rssPeak - baseline.rss)}\n`);
    assert.ok(bodyBytes > 15 * 1024 * 1024, `the body is ${mib(bodyBytes)}`);
    // Holding the rows, even only as text, would grow the live heap by the bytes read: here about 15 MiB
    // between the first and the last sample (80,000 rows). What grows is the fixed cost of a chunk and buffers.
    const growth = (live[live.length - 1] as number) - (live[0] as number);
    assert.ok(growth < bodyBytes / 10, `live heap grew by ${mib(growth)} over ${ROWS - 2 * SAMPLE_EVERY} rows`);
    assert.ok(maxLive < bodyBytes / 4, `live heap grew by ${mib(maxLive)} for a ${mib(bodyBytes)} body`);
  });
});
