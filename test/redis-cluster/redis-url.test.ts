import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { parseSettings } from '../../src/config/parse-settings';
import { SERVE_SETTINGS } from '../../src/config/serve-settings';
import { parseRedisTarget } from '../../src/redis/redis-url';

describe('TRIAGE_REDIS_URL: one server, a Redis Cluster or Sentinel', () => {
  const setting = (value: string): string => parseSettings(SERVE_SETTINGS, new Map(), { TRIAGE_REDIS_URL: value }).redisUrl;

  it('keeps redis:// and rediss:// URLs as ioredis reads them', () => {
    assert.deepEqual(parseRedisTarget('redis://:pw@cache:6380/2'), { kind: 'single', url: 'redis://:pw@cache:6380/2' });
    assert.deepEqual(parseRedisTarget('rediss://cache'), { kind: 'single', url: 'rediss://cache' });
    assert.equal(setting(' redis://127.0.0.1:6379 '), 'redis://127.0.0.1:6379');
    assert.equal(setting(''), '', 'empty: the embedded redis-server');
  });

  it('reads a Cluster\'s seed nodes, credentials (percent-decoded) and TLS', () => {
    assert.deepEqual(parseRedisTarget('redis+cluster://10.0.0.1:7000,redis-1:7001,[::1]:7002'), {
      kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-1', port: 7001 }, { host: '::1', port: 7002 }], username: null, password: null, tls: false,
    });
    assert.deepEqual(parseRedisTarget('rediss+cluster://ops:p%40ss%3Aword@redis-0:6379'), {
      kind: 'cluster', nodes: [{ host: 'redis-0', port: 6379 }], username: 'ops', password: 'p@ss:word', tls: true,
    });
    assert.deepEqual(parseRedisTarget('redis+cluster://:s3cret@redis-0:6379'), {
      kind: 'cluster', nodes: [{ host: 'redis-0', port: 6379 }], username: null, password: 's3cret', tls: false,
    });
  });

  it('reads Sentinel addresses, the master name and the database', () => {
    assert.deepEqual(parseRedisTarget('redis+sentinel://:pw@s-0:26379,s-1:26379/triage/3'), {
      kind: 'sentinel', sentinels: [{ host: 's-0', port: 26379 }, { host: 's-1', port: 26379 }], masterName: 'triage', db: 3, sentinelUsername: null, sentinelPassword: null, username: null, password: 'pw', tls: false,
    });
    assert.deepEqual(parseRedisTarget('rediss+sentinel://s-0:26379/mymaster'), {
      kind: 'sentinel', sentinels: [{ host: 's-0', port: 26379 }], masterName: 'mymaster', db: 0, sentinelUsername: null, sentinelPassword: null, username: null, password: null, tls: true,
    });
    // The sentinels' own credentials in the query; '@' may stand unencoded there, '?' in a password must be encoded.
    assert.deepEqual(parseRedisTarget('redis+sentinel://:m%3Fpw@s-0:26379/triage?sentinel_password=s@nt%26inel&sentinel_username=watch'), {
      kind: 'sentinel', sentinels: [{ host: 's-0', port: 26379 }], masterName: 'triage', db: 0, sentinelUsername: 'watch', sentinelPassword: 's@nt&inel', username: null, password: 'm?pw', tls: false,
    });
  });

  it('refuses what is not one of the forms, naming the variable and the rule', () => {
    const refusals: [string, RegExp][] = [
      ['http://cache:6379', /^TRIAGE_REDIS_URL must be one of redis:\/\/\[:password@\]host:port\[\/db\], rediss:\/\/\.\.\., redis\+cluster:\/\//],
      ['redis+replica://a:1', /must be one of/],
      ['redis://', /must name a host/],
      ['redis://cache 6379', /must not contain spaces/],
      ['redis+cluster://', /must name at least one host:port after redis\+cluster:\/\//],
      ['redis+cluster://a:7000,b', /must list nodes as host:port separated by commas, port 1-65535; 'b' is not/],
      ['redis+cluster://a:70000', /'a:70000' is not/],
      ['redis+cluster://a:7000/0', /a Redis Cluster has database 0 only/],
      ['redis+cluster://a:7000?tls=true', /takes no query or fragment/],
      ['redis+cluster://secret@a:7000', /must write credentials as :password@ or user:password@/],
      ['redis+cluster://:%zz@a:7000', /has a password that is not valid percent-encoding/],
      ['redis+sentinel://s:26379', /must name the master after the sentinels/],
      ['redis+sentinel://s:26379/', /must name the master after the sentinels/],
      ['redis+sentinel://s:26379/main/x', /must end with \/<master name> or \/<master name>\/<db>, db a number from 0 to 99 \(got '\/main\/x'\)/],
      ['redis+sentinel://s:26379/main/1/2', /must end with \/<master name> or \/<master name>\/<db>/],
      ['redis+sentinel://s:26379/main?password=x', /takes only sentinel_password and sentinel_username in its query, not 'password'/],
      ['redis+sentinel://s:26379/main?sentinel_password=%zz', /has a sentinel_password that is not valid percent-encoding/],
    ];
    for (const [value, rule] of refusals) {
      assert.throws(() => setting(value), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CONFIG_INVALID', value);
        assert.match(error.message, rule, value);
        assert.match(error.message, /^TRIAGE_REDIS_URL /, value);
        return true;
      });
    }
  });

  it('never repeats a password in its refusals', () => {
    assert.throws(() => setting('redis+sentinel://:hunter2-secret@s:26379'), (error: Error) => !error.message.includes('hunter2'));
    assert.throws(() => setting('redis+cluster://:hunter2-secret@a:1,b'), (error: Error) => !error.message.includes('hunter2'));
  });
});
