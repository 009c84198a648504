import { TriageError } from '../errors/triage-error';

/** One Redis server (or Sentinel, or Cluster seed node) address. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/** Credentials and transport shared by every connection of a Cluster or Sentinel target. */
export interface RedisAuth {
  /** ACL user name (null: the default user). */
  readonly username: string | null;
  readonly password: string | null;
  /** rediss+...: TLS to every node. */
  readonly tls: boolean;
}

/** Where triage's Redis is, as TRIAGE_REDIS_URL says. */
export type RedisTarget =
  /** One Redis server: the URL as ioredis reads it (redis:// or rediss://). */
  | { readonly kind: 'single'; readonly url: string }
  /** A Redis Cluster, found through its seed nodes. Cluster mode has database 0 only. */
  | ({ readonly kind: 'cluster'; readonly nodes: readonly RedisAddress[] } & RedisAuth)
  /**
   * The master that Sentinels name `masterName`; the password is the master's (and its
   * replicas'); the sentinels' own credentials, when they require some, come from the
   * query (`?sentinel_password=...&sentinel_username=...`).
   */
  | ({ readonly kind: 'sentinel'; readonly sentinels: readonly RedisAddress[]; readonly masterName: string; readonly db: number; readonly sentinelUsername: string | null; readonly sentinelPassword: string | null } & RedisAuth);

export const REDIS_URL_FORMS = 'redis://[:password@]host:port[/db], rediss://..., redis+cluster://[:password@]host:port[,host:port...], '
  + 'rediss+cluster://..., redis+sentinel://[:password@]host:port[,host:port...]/<master name>[/db][?sentinel_password=...] or rediss+sentinel://...';

const SCHEME = /^(rediss?)(?:\+(cluster|sentinel))?:\/\/(.*)$/s;
/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Parses a Redis URL into its target; the one place the three forms are told apart.
 * Throws CONFIG_INVALID naming `source` and the rule broken.
 */
export function parseRedisTarget(text: string, source = 'the Redis URL'): RedisTarget {
  const invalid = (rule: string): TriageError => new TriageError('CONFIG_INVALID', `${source} ${rule}`);
  const match = SCHEME.exec(text);
  if (match === null) throw invalid(`must be one of ${REDIS_URL_FORMS}`);
  if (/\s/.test(text)) throw invalid('must not contain spaces');
  const [, scheme = 'redis', mode, rest = ''] = match;
  if (mode === undefined) {
    if (rest === '') throw invalid(`must name a host: ${scheme}://[:password@]host:port[/db]`);
    return { kind: 'single', url: text };
  }
  // A password must percent-encode '?' (as in any URL), so the first '?' starts the query; '@' may appear in the query.
  const question = rest.indexOf('?');
  const beforeQuery = question < 0 ? rest : rest.slice(0, question);
  const query = question < 0 ? null : rest.slice(question + 1);
  const at = beforeQuery.lastIndexOf('@');
  const auth = parseAuth(at < 0 ? null : beforeQuery.slice(0, at), scheme === 'rediss', invalid);
  const afterAuth = at < 0 ? beforeQuery : beforeQuery.slice(at + 1);
  const slash = afterAuth.indexOf('/');
  const hosts = slash < 0 ? afterAuth : afterAuth.slice(0, slash);
  const path = slash < 0 ? '' : afterAuth.slice(slash + 1);
  if (afterAuth.includes('#') || (query !== null && mode !== 'sentinel')) throw invalid(`takes no query or fragment with ${scheme}+${mode}://`);
  const addresses = parseAddresses(hosts, `${scheme}+${mode}`, invalid);
  if (mode === 'cluster') {
    if (path !== '') throw invalid(`must end after its nodes (${scheme}+cluster://host:port,host:port): a Redis Cluster has database 0 only`);
    return { kind: 'cluster', nodes: addresses, ...auth };
  }
  const [masterName = '', db = '0', ...extra] = path.split('/');
  if (!MASTER_NAME.test(masterName)) {
    throw invalid(`must name the master after the sentinels, 1-128 letters, digits, '.', '_' or '-' (${scheme}+sentinel://host:26379/mymaster[/db])`);
  }
  if (extra.length > 0 || !/^[0-9]{1,2}$/.test(db)) throw invalid(`must end with /<master name> or /<master name>/<db>, db a number from 0 to 99 (got '/${path}')`);
  return { kind: 'sentinel', sentinels: addresses, masterName, db: Number(db), ...sentinelCredentials(query, invalid), ...auth };
}

/** `sentinel_username` and `sentinel_password` from a sentinel URL's query; any other parameter is refused by name. */
function sentinelCredentials(query: string | null, invalid: (rule: string) => TriageError): { sentinelUsername: string | null; sentinelPassword: string | null } {
  const credentials = { sentinelUsername: null as string | null, sentinelPassword: null as string | null };
  if (query === null || query === '') return credentials;
  for (const part of query.split('&')) {
    const equals = part.indexOf('=');
    const name = equals < 0 ? part : part.slice(0, equals);
    let value: string;
    try {
      value = decodeURIComponent(equals < 0 ? '' : part.slice(equals + 1));
    } catch {
      throw invalid(`has a ${name} that is not valid percent-encoding`);
    }
    if (name === 'sentinel_password') credentials.sentinelPassword = value === '' ? null : value;
    else if (name === 'sentinel_username') credentials.sentinelUsername = value === '' ? null : value;
    else throw invalid(`takes only sentinel_password and sentinel_username in its query, not '${name.slice(0, 40)}'`);
  }
  return credentials;
}

function parseAuth(userInfo: string | null, tls: boolean, invalid: (rule: string) => TriageError): RedisAuth {
  if (userInfo === null) return { username: null, password: null, tls };
  const colon = userInfo.indexOf(':');
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw invalid(`has a ${what} that is not valid percent-encoding`);
    }
  };
  if (colon < 0) throw invalid('must write credentials as :password@ or user:password@');
  const username = decode(userInfo.slice(0, colon), 'user name');
  const password = decode(userInfo.slice(colon + 1), 'password');
  return { username: username === '' ? null : username, password: password === '' ? null : password, tls };
}

function parseAddresses(hosts: string, scheme: string, invalid: (rule: string) => TriageError): RedisAddress[] {
  if (hosts === '') throw invalid(`must name at least one host:port after ${scheme}://`);
  return hosts.split(',').map((part) => {
    const match = ADDRESS.exec(part);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65_535) throw invalid(`must list nodes as host:port separated by commas, port 1-65535; '${part}' is not`);
    const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
    return { host, port };
  });
}
