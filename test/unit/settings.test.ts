import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { LOCAL_TRITON_SETTINGS } from '../../src/config/local-triton-settings';
import { parseSettings } from '../../src/config/parse-settings';
import { SERVE_SETTINGS } from '../../src/config/serve-settings';
import { TriageError } from '../../src/errors/triage-error';
import { projectRoot } from '../../src/protocol/project-paths';

const flags = (entries: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(entries));

describe('settings', () => {
  it('takes defaults when neither flag nor environment is set, and freezes the result', () => {
    const settings = parseSettings(LOCAL_TRITON_SETTINGS, flags({}), {});
    assert.equal(settings.grpcPort, 9001);
    assert.equal(settings.metricsPort, 9002);
    assert.equal(settings.modelControlMode, 'none');
    assert.deepEqual(settings.loadModels, []);
    assert.equal(settings.strictReadiness, true);
    assert.equal(settings.maxMessageBytes, 256 * 1024 * 1024);
    assert.ok(Object.isFrozen(settings));
  });

  it('prefers the flag over the environment over the default', () => {
    const env = { TRIAGE_LOCAL_TRITON_GRPC_PORT: '7001', TRIAGE_LOCAL_TRITON_LOAD_MODELS: 'a, b', TRIAGE_MAX_MESSAGE_BYTES: '64MiB' };
    const fromEnv = parseSettings(LOCAL_TRITON_SETTINGS, flags({}), env);
    assert.equal(fromEnv.grpcPort, 7001);
    assert.deepEqual(fromEnv.loadModels, ['a', 'b']);
    assert.equal(fromEnv.maxMessageBytes, 64 * 1024 * 1024);
    const fromFlags = parseSettings(LOCAL_TRITON_SETTINGS, flags({ 'grpc-port': ['0'], 'load-model': ['x', 'y'], 'model-control-mode': ['EXPLICIT'] }), env);
    assert.equal(fromFlags.grpcPort, 0);
    assert.deepEqual(fromFlags.loadModels, ['x', 'y']);
    assert.equal(fromFlags.modelControlMode, 'explicit');
  });

  it('refuses a value that breaks its rule, naming the flag or variable and the rule', () => {
    const refused = (raw: Record<string, string[]>, env: Record<string, string> = {}): TriageError => {
      try {
        parseSettings(LOCAL_TRITON_SETTINGS, flags(raw), env);
      } catch (error) {
        assert.ok(error instanceof TriageError);
        assert.equal(error.code, 'CONFIG_INVALID');
        return error;
      }
      throw new Error('accepted');
    };
    assert.equal(refused({ 'grpc-port': ['70000'] }).message, "--grpc-port must be a port number from 0 to 65535 (0 = any free port), got '70000'");
    assert.match(refused({}, { TRIAGE_LOCAL_TRITON_METRICS_PORT: 'abc' }).message, /^TRIAGE_LOCAL_TRITON_METRICS_PORT must be a port number .* -1 = disabled\), got 'abc'$/);
    assert.match(refused({ 'model-control-mode': ['poll'] }).message, /--model-control-mode must be one of none, explicit, got 'poll'/);
    assert.match(refused({ 'strict-readiness': ['maybe'] }).message, /--strict-readiness must be true or false/);
    assert.match(refused({ 'max-message-bytes': ['3GiB'] }).message, /--max-message-bytes must be a size from 1KiB to 2GiB-1/);
    assert.match(refused({ 'model-repository': [''] }).message, /--model-repository must not be empty/);
  });

  it('the README documents every setting of serve and local-triton with its flag, variable and default', () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    for (const setting of [...Object.values(SERVE_SETTINGS), ...Object.values(LOCAL_TRITON_SETTINGS)]) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`--${setting.flag}\``) && line.includes(`\`${setting.env}\``));
      assert.ok(row !== undefined, `README has no row for --${setting.flag}`);
      assert.ok(row.includes(`\`${setting.env}\``), `README row of --${setting.flag} names ${setting.env}`);
      assert.ok(row.includes(setting.defaultText), `README row of --${setting.flag} gives the default ${setting.defaultText}`);
    }
  });

  it('reads Triton targets: none (embedded), a host:port list, or a DNS name', () => {
    const targets = (value: string | undefined) => parseSettings(SERVE_SETTINGS, flags({}), value === undefined ? {} : { TRIAGE_TRITON_URLS: value }).tritonUrls;
    assert.deepEqual(targets(undefined), { kind: 'embedded' });
    assert.deepEqual(targets('triton-a:8001, 10.0.0.7:8001,[::1]:9001,triton-a:8001'), { kind: 'static', addresses: ['triton-a:8001', '10.0.0.7:8001', '[::1]:9001'] });
    assert.deepEqual(targets('dns:triton.default.svc.cluster.local:8001'), { kind: 'dns', name: 'triton.default.svc.cluster.local', port: 8001 });
    assert.throws(() => targets('triton-a'), /TRIAGE_TRITON_URLS must be host:port\[,host:port\.\.\.\] or dns:NAME:PORT; 'triton-a' is not host:port/);
    assert.throws(() => targets('dns:triton:0'), /TRIAGE_TRITON_URLS must be dns:NAME:PORT/);
    assert.throws(() => targets('a:70000'), /'a:70000' is not host:port/);
  });

  it('reads durations in milliseconds or seconds, within their bounds', () => {
    const parsed = parseSettings(SERVE_SETTINGS, flags({ 'probe-interval': ['2s'], 'shutdown-grace': ['0'] }), { TRIAGE_PROBE_TIMEOUT_MS: '250ms' });
    assert.equal(parsed.probeIntervalMs, 2000);
    assert.equal(parsed.probeTimeoutMs, 250);
    assert.equal(parsed.shutdownGraceMs, 0);
    assert.throws(() => parseSettings(SERVE_SETTINGS, flags({ 'probe-interval': ['10'] }), {}), /--probe-interval must be a duration from 50 ms to 24 h/);
  });
});
