import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { parsePrometheusText, parseSampleLine } from '../../src/triton/prometheus-text';
import { tritonFigures } from '../../src/triton/triton-figures';

const labelsOf = (line: string): Record<string, string> | null => {
  const sample = parseSampleLine(line);
  return sample === null ? null : Object.fromEntries(sample.labels);
};

describe('Prometheus text parser', () => {
  it('reads samples with and without labels, skipping comments and blank lines', () => {
    const text = [
      '# HELP nv_inference_count Number of inferences performed',
      '# TYPE nv_inference_count counter',
      'nv_inference_count{model="simple",version="1"} 42',
      '',
      '   ',
      'nv_cpu_memory_used_bytes 1.5e9',
      'nv_gpu_utilization{gpu_uuid="GPU-1"} 0.25 1712345678901',
      'up NaN',
      'big +Inf',
      'small -Inf',
      'lag_mean Nan',
      'huge +infinity',
    ].join('\n');
    const parsed = parsePrometheusText(text);
    assert.equal(parsed.skippedLines, 0);
    assert.deepEqual(parsed.samples.map((sample) => [sample.name, Object.fromEntries(sample.labels), sample.value]), [
      ['nv_inference_count', { model: 'simple', version: '1' }, 42],
      ['nv_cpu_memory_used_bytes', {}, 1.5e9],
      ['nv_gpu_utilization', { gpu_uuid: 'GPU-1' }, 0.25],
      ['up', {}, Number.NaN],
      ['big', {}, Number.POSITIVE_INFINITY],
      ['small', {}, Number.NEGATIVE_INFINITY],
      ['lag_mean', {}, Number.NaN],
      ['huge', {}, Number.POSITIVE_INFINITY],
    ]);
  });

  it('unescapes quotes, backslashes and newlines in label values, and allows a trailing comma and spaces', () => {
    assert.deepEqual(labelsOf(String.raw`m{a="say \"hi\"",b="C:\\models\\x",c="two\nlines",} 1`), { a: 'say "hi"', b: 'C:\\models\\x', c: 'two\nlines' });
    assert.deepEqual(labelsOf('m{ a = "1" , b="}{,=" } 2'), { a: '1', b: '}{,=' });
    assert.deepEqual(labelsOf('m{} 3'), {});
    assert.deepEqual(labelsOf('m{a=""} 3\r'.trim()), { a: '' });
  });

  it('skips bad lines and counts them, keeping the good ones around them', () => {
    const bad = [
      '9starts_with_digit 1',
      'm{a="unclosed} 1',
      'm{a="1"',
      'm{a=1} 1',
      'm{a="1",a="2"} 1',
      'm{a="bad \\x escape"} 1',
      'm{a="1"}1',
      'm{a="1"} one',
      'm',
      'm 1 2 3',
      'm 1 12.5',
      'm{-a="1"} 1',
      '{a="1"} 1',
    ];
    const parsed = parsePrometheusText(['good_before 1', ...bad, 'good_after{x="y"} 2'].join('\n'));
    assert.equal(parsed.skippedLines, bad.length);
    assert.deepEqual(parsed.samples.map((sample) => sample.name), ['good_before', 'good_after']);
    for (const line of bad) assert.equal(parseSampleLine(line), null, line);
  });

  it('sums Triton\'s samples into per-instance figures: GPUs in order, models over versions, queue time in seconds', () => {
    const { samples } = parsePrometheusText([
      'nv_gpu_utilization{gpu_uuid="GPU-a"} 0.5',
      'nv_gpu_memory_used_bytes{gpu_uuid="GPU-a"} 1000',
      'nv_gpu_memory_total_bytes{gpu_uuid="GPU-a"} 4000',
      'nv_gpu_utilization{gpu_uuid="GPU-b"} 0',
      'nv_cpu_memory_used_bytes 123',
      'nv_cpu_memory_total_bytes 456',
      'nv_inference_count{model="simple",version="1"} 3',
      'nv_inference_count{model="simple",version="2"} 4',
      'nv_inference_queue_duration_us{model="simple",version="1"} 1500000',
      'nv_inference_count{model="densenet",version="1"} 1',
      'nv_inference_request_success{model="simple",version="1"} 99',
    ].join('\n'));
    const figures = tritonFigures(samples, 1234);
    assert.deepEqual(figures, {
      scraped_at_ms: 1234,
      gpu: [
        { index: '0', uuid: 'GPU-a', utilization: 0.5, memory_used_bytes: 1000, memory_total_bytes: 4000 },
        { index: '1', uuid: 'GPU-b', utilization: 0, memory_used_bytes: null, memory_total_bytes: null },
      ],
      cpu_memory_used_bytes: 123,
      cpu_memory_total_bytes: 456,
      models: [
        { model: 'densenet', inference_count: 1, queue_seconds: 0 },
        { model: 'simple', inference_count: 7, queue_seconds: 1.5 },
      ],
    });
  });
});
