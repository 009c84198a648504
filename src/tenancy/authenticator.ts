import { timingSafeEqual, createHash } from 'node:crypto';
import { TriageError } from '../errors/triage-error';
import { credentialFrom, parseKey, secretMatches } from './api-key-format';
import type { TenancyStore } from './tenancy-store';
import { ADMIN_TENANT_ID, SCOPES, type ApiKeyRecord, type Principal, type Scope, type TenantRecord } from './tenancy-records';
import type { TenantQuotas } from './quota-config';

export interface AuthenticatorOptions {
  /** The bootstrap admin key (at least 32 characters): every scope, no quotas. */
  readonly adminKey: string;
  /** A cached key is re-read after this long even without an invalidation message. */
  readonly cacheTtlMs: number;
  readonly nowMs?: () => number;
}

interface CacheEntry {
  readonly key: ApiKeyRecord | null;
  readonly tenant: TenantRecord | null;
  readonly quotas: TenantQuotas;
  readonly loadedMs: number;
  /** The full credential whose secret was found to match, and the principal it grants. */
  verified?: { readonly credential: string; readonly principal: Principal };
}

/** An unknown key id is remembered as unknown this long, so random keys cannot hammer Redis. */
const NEGATIVE_TTL_MS = 1000;
const MAX_CACHE_ENTRIES = 100_000;

/**
 * Turns the credential of a request into a Principal. Keys, their tenant and its quotas
 * are cached per process: a cached key is checked without any I/O (the hot path stays
 * synchronous); invalidation messages drop entries, and every entry expires after
 * cacheTtlMs anyway. Refusals: UNAUTHENTICATED for a missing, malformed, unknown, expired
 * or revoked key; PERMISSION_DENIED for a suspended tenant.
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<CacheEntry>>();
  private readonly adminKeyHash: Buffer;
  private readonly nowMs: () => number;
  /** Bumped by every invalidation: a load that started before one must not be cached. */
  private generation = 0;

  constructor(private readonly store: TenancyStore, private readonly options: AuthenticatorOptions) {
    this.adminKeyHash = createHash('sha256').update(options.adminKey).digest();
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** The principal of a request's headers: at once when cached, else after one Redis round trip. */
  authenticate(authorization: string | undefined, apiKey: string | undefined): Principal | Promise<Principal> {
    const credential = credentialFrom(authorization, apiKey);
    if (credential === null) throw unauthenticated('no API key: send `authorization: Bearer <key>` or `x-api-key: <key>`');
    const parsed = parseKey(credential);
    if (parsed === null) {
      // The bootstrap admin key never has the form of an issued key (the setting refuses it).
      if (this.isAdminKey(credential)) return ADMIN_PRINCIPAL;
      throw unauthenticated('malformed API key: expected trg_<key id>_<secret> as issued by triage');
    }
    const cached = this.cache.get(parsed.keyId);
    if (cached !== undefined && this.nowMs() - cached.loadedMs < (cached.key === null ? NEGATIVE_TTL_MS : this.options.cacheTtlMs)) {
      // The same credential as last time: its secret was already checked against this entry.
      if (cached.verified?.credential === credential && !this.expired(cached)) return cached.verified.principal;
      return this.principalFrom(cached, parsed.secret, credential);
    }
    return this.load(parsed.keyId).then((entry) => this.principalFrom(entry, parsed.secret, credential));
  }

  /** Applies an invalidation message: `key:<id>` or `tenant:<id>`. */
  invalidate(message: string): void {
    this.generation += 1;
    if (message.startsWith('key:')) {
      this.cache.delete(message.slice(4));
    } else if (message.startsWith('tenant:')) {
      const tenantId = message.slice(7);
      for (const [keyId, entry] of this.cache) if (entry.key?.tenant_id === tenantId) this.cache.delete(keyId);
    }
  }

  clear(): void {
    this.generation += 1;
    this.cache.clear();
  }

  private load(keyId: string): Promise<CacheEntry> {
    let pending = this.loading.get(keyId);
    if (pending === undefined) {
      const startedGeneration = this.generation;
      pending = this.store.loadPrincipalParts(keyId).then(
        (parts) => {
          const entry: CacheEntry = { ...parts, loadedMs: this.nowMs() };
          // An invalidation while this was loading may concern it: use it once, keep nothing.
          if (this.generation === startedGeneration) {
            if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
            this.cache.set(keyId, entry);
          }
          return entry;
        },
        (error: unknown) => {
          throw new TriageError('UNAVAILABLE', `cannot check the API key: the key store (Redis) is unreachable (${(error as Error).message})`, { cause: error });
        },
      ).finally(() => this.loading.delete(keyId));
      this.loading.set(keyId, pending);
    }
    return pending;
  }

  private principalFrom(entry: CacheEntry, secret: string, credential: string): Principal {
    const { key, tenant } = entry;
    if (key === null || !secretMatches(secret, key.secret_sha256)) throw unauthenticated('unknown API key');
    if (key.revoked_at !== null) throw unauthenticated(`API key ${key.key_id} was revoked`);
    if (this.expired(entry)) throw unauthenticated(`API key ${key.key_id} expired at ${key.expires_at ?? ''}`);
    if (tenant === null) throw unauthenticated(`the tenant of API key ${key.key_id} no longer exists`);
    if (tenant.status === 'suspended') throw new TriageError('PERMISSION_DENIED', `tenant ${tenant.id} is suspended`);
    const principal: Principal = { tenantId: tenant.id, keyId: key.key_id, scopes: new Set(key.scopes), quotas: entry.quotas, bootstrap: false };
    entry.verified = { credential, principal };
    return principal;
  }

  private expired(entry: CacheEntry): boolean {
    const expiresAt = entry.key?.expires_at ?? null;
    return expiresAt !== null && Date.parse(expiresAt) <= this.nowMs();
  }

  private isAdminKey(credential: string): boolean {
    const presented = createHash('sha256').update(credential).digest();
    return timingSafeEqual(presented, this.adminKeyHash);
  }
}

const ADMIN_PRINCIPAL: Principal = {
  tenantId: ADMIN_TENANT_ID,
  keyId: 'bootstrap',
  scopes: new Set<Scope>(SCOPES),
  quotas: {},
  bootstrap: true,
};

function unauthenticated(message: string): TriageError {
  return new TriageError('UNAUTHENTICATED', message);
}

/** Throws PERMISSION_DENIED unless the principal holds the scope. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new TriageError('PERMISSION_DENIED', `this API key lacks the '${scope}' scope (it has: ${[...principal.scopes].join(', ') || 'none'})`);
  }
}
