import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { HISTOGRAM_NAMES, METRIC_NAMES } from '../../src/observability/metrics/metric-names';
import { processMetricsRegistry } from '../../src/observability/metrics/process-metrics';
import { projectRoot } from '../../src/protocol/project-paths';

const read = (path: string): string => readFileSync(join(projectRoot(), path), 'utf8');

/** Every series name a scrape of triage can hold: the metrics, their histogram series, and the process metrics. */
function knownSeries(): Set<string> {
  const known = new Set<string>();
  const add = (name: string, histogram: boolean): void => {
    known.add(name);
    if (histogram) for (const suffix of ['_bucket', '_sum', '_count']) known.add(`${name}${suffix}`);
  };
  for (const name of METRIC_NAMES) add(name, HISTOGRAM_NAMES.includes(name));
  // prom-client's typings declare `type` a numeric enum; at run time it is the text of the type.
  for (const metric of processMetricsRegistry().getMetricsAsArray()) add(metric.name, String(metric.type) === 'histogram');
  return known;
}

/** The triage_* names a PromQL text mentions. */
function metricNamesIn(text: string): string[] {
  return [...new Set([...text.matchAll(/\btriage_[a-zA-Z0-9_]+/g)].map((match) => match[0]))];
}

/**
 * The YAML files are checked as text (no YAML library is a dependency of triage): a
 * minimal structural check (spaces only, even indentation, no stray characters) plus the
 * facts that matter, found with anchored patterns.
 */
function assertPlainYaml(text: string, file: string): void {
  for (const [index, line] of text.split('\n').entries()) {
    assert.ok(!line.includes('\t'), `${file}:${index + 1} has a tab (YAML indents with spaces)`);
    assert.ok(!/\s$/.test(line), `${file}:${index + 1} ends with whitespace`);
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    if (line.trim() !== '' && !line.trim().startsWith('#')) assert.equal(indent % 2, 0, `${file}:${index + 1} is indented by an odd number of spaces`);
  }
}

interface AlertRule {
  readonly name: string;
  readonly body: string;
  readonly expr: string;
}

/** The rules of alerts.yml: each `- alert: Name` with the text up to the next rule, and its expr (one line, or a `|` block). */
function alertRules(text: string): AlertRule[] {
  const parts = text.split(/^ {6}- alert: /m).slice(1);
  return parts.map((part) => {
    const name = (/^(\S+)\n/.exec(part)?.[1]) ?? '';
    const inline = /^ {8}expr: (?!\|)(.+)$/m.exec(part)?.[1];
    const block = /^ {8}expr: \|\n((?: {10}.*\n)+)/m.exec(part)?.[1];
    return { name, body: part, expr: (inline ?? block ?? '').trim() };
  });
}

describe('deploy/: Prometheus configuration, alert rules and Grafana dashboard', () => {
  const known = knownSeries();

  it('prometheus.yml scrapes triage\'s /metrics on 8000 and Triton\'s on 8002, and loads alerts.yml', () => {
    const text = read('deploy/prometheus/prometheus.yml');
    assertPlainYaml(text, 'prometheus.yml');
    assert.match(text, /^rule_files:\n {2}- alerts\.yml$/m);
    assert.match(text, /^scrape_configs:$/m);
    const jobs = text.split(/^ {2}- job_name: /m).slice(1);
    const triage = jobs.find((job) => job.startsWith('triage\n'));
    const triton = jobs.find((job) => job.startsWith('triton\n'));
    assert.ok(triage !== undefined && triton !== undefined, 'jobs triage and triton');
    assert.match(triage, /^ {4}metrics_path: \/metrics$/m);
    assert.match(triage, /^ {6}- targets: \[('[a-z0-9.-]+:8000',? ?)+\]$/m);
    assert.match(triton, /^ {6}- targets: \[('[a-z0-9.-]+:8002',? ?)+\]$/m);
    assert.doesNotMatch(text, /honor_labels: true/, 'replicas report the same Triton instances: their labels must not override the target\'s');
  });

  it('alerts.yml has every rule asked for, each with an expr over metrics triage registers, a duration, a severity and a summary', () => {
    const text = read('deploy/prometheus/alerts.yml');
    assertPlainYaml(text, 'alerts.yml');
    assert.match(text, /^groups:\n {2}- name: triage\n {4}rules:$/m);
    const rules = alertRules(text);
    assert.deepEqual(rules.map((rule) => rule.name).sort(),
      ['JobFailureRate', 'JobQueueAge', 'QuotaRejectionSpike', 'TriageInstanceDown', 'TriageRedisDown', 'TritonScrapeDown']);
    for (const rule of rules) {
      assert.notEqual(rule.expr, '', `${rule.name} has an expr`);
      assert.match(rule.body, /^ {8}for: [0-9]+[smh]$/m, `${rule.name} has a for:`);
      assert.match(rule.body, /^ {10}severity: (critical|warning)$/m, `${rule.name} has a severity`);
      assert.match(rule.body, /^ {10}summary: ".+"$/m, `${rule.name} has a summary`);
      assert.equal([...rule.expr].filter((char) => char === '(').length, [...rule.expr].filter((char) => char === ')').length, `${rule.name}: balanced parentheses`);
      const names = metricNamesIn(rule.expr);
      assert.ok(names.length > 0, `${rule.name} reads a triage metric`);
      for (const name of names) assert.ok(known.has(name), `${rule.name} names ${name}, which triage does not register`);
    }
    const expr = (name: string): string => rules.find((rule) => rule.name === name)?.expr ?? '';
    assert.match(expr('TriageInstanceDown'), /triage_instance_up\) == 0$/);
    assert.match(rules.find((rule) => rule.name === 'TriageInstanceDown')?.body ?? '', /^ {8}for: 1m$/m);
    assert.match(expr('QuotaRejectionSpike'), /rate\(triage_quota_rejections_total\[5m\]\)\) > [0-9.]+\s+and\s+.*> 10 \* sum by \(limit\) \(rate\(triage_quota_rejections_total\[1h\]\)\)/s);
    assert.match(expr('JobFailureRate'), /triage_job_rows_total\{outcome="failed"\}\[15m\].*\/\s*sum\(rate\(triage_job_rows_total\[15m\]\)\) > 0\.05$/s);
    assert.match(expr('JobQueueAge'), /triage_job_queue_oldest_age_seconds\) > 600$/);
    assert.match(expr('TriageRedisDown'), /^triage_redis_up == 0$/);
    assert.match(expr('TritonScrapeDown'), /triage_triton_scrape_up\) == 0$/);
  });

  it('the Grafana dashboard is valid JSON whose every panel queries metrics triage registers', () => {
    const dashboard = JSON.parse(read('deploy/grafana/triage-dashboard.json')) as {
      title: string; uid: string; panels: { id: number; type: string; title: string; targets?: { expr: string; refId: string }[]; gridPos: unknown; panels?: unknown[] }[];
      templating: { list: { name: string; query?: unknown; definition?: string }[] };
    };
    assert.equal(typeof dashboard.title, 'string');
    assert.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/);
    const ids = dashboard.panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok(panel.gridPos !== undefined, `${panel.title} has a position`);
      if (panel.type === 'row') continue;
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
      for (const target of panel.targets ?? []) {
        const names = metricNamesIn(target.expr);
        assert.ok(names.length > 0, `${panel.title} ${target.refId} reads a triage metric`);
        for (const name of names) {
          assert.ok(known.has(name), `panel '${panel.title}' names ${name}, which triage does not register`);
          queried.add(name);
        }
      }
    }
    for (const variable of dashboard.templating.list) for (const name of metricNamesIn(variable.definition ?? '')) assert.ok(known.has(name), `variable ${variable.name} names ${name}`);
    // What the dashboard must show (issue 7): traffic, latency, errors, quotas, instances, models, jobs, GPUs, Redis.
    for (const name of ['triage_inference_requests_total', 'triage_inference_duration_seconds_bucket', 'triage_quota_rejections_total', 'triage_instance_up',
      'triage_instance_in_flight', 'triage_model_state', 'triage_job_queue_depth', 'triage_job_queue_oldest_age_seconds', 'triage_job_rows_total',
      'triage_triton_gpu_utilization_ratio', 'triage_triton_gpu_memory_used_bytes', 'triage_redis_round_trip_seconds_bucket']) {
      assert.ok(queried.has(name), `the dashboard shows ${name}`);
    }
  });

  it('docs/operations.md documents every metric triage registers', () => {
    const text = read('docs/operations.md');
    const section = text.slice(text.indexOf('## Metrics'));
    for (const name of METRIC_NAMES) assert.match(section, new RegExp(`^\\| \`${name}\` \\| (counter|gauge|histogram) \\|`, 'm'), `docs/operations.md has a row for ${name}`);
  });
});
