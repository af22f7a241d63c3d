/**
 * The issuer's signing keys fetched over gRPC (GetKeys), refreshed on demand with a
 * minimum interval, honouring `revoked_kids` (emergency rotation). When the issuer is
 * down the last good key set stays in use.
 */
import type { KeyObject } from 'node:crypto';
import { systemClock, type Clock } from '@baton/core';
import type { Client } from '@baton/proto';
import type { IssuerService } from './issuer-types.js';
import { isWellFormedKid, parseJwks, type KeyLookup, type KeySource } from './key-source.js';

/** Options of {@link jwksFromIssuer}. */
export interface JwksFromIssuerOptions {
  /** Minimum time between two GetKeys calls, ms. Default 10 000. */
  readonly minRefreshIntervalMs?: number;
  /** Default the system clock. */
  readonly clock?: Clock;
  /** Diagnostics for failed refreshes. Must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** A {@link KeySource} backed by the issuer. */
export interface IssuerKeySource extends KeySource {
  refresh(): Promise<boolean>;
  /** Loads the keys once (ignores the interval when nothing is loaded yet); rejects if that fails. */
  ready(): Promise<void>;
  /** kids currently accepted. */
  readonly kids: readonly string[];
}

/** Revoked kids are remembered even after the issuer stops listing them, up to this many. */
const MAX_REVOKED = 1024;

/**
 * @example
 * const keys = jwksFromIssuer(issuerClient);
 * await keys.ready();
 * const guard = createGuard({ audience, issuer, keys });
 */
export function jwksFromIssuer(client: Client<typeof IssuerService>, options: JwksFromIssuerOptions = {}): IssuerKeySource {
  if (typeof client?.getKeys !== 'function') throw new TypeError('jwksFromIssuer: client must be an IssuerService client');
  const interval = options.minRefreshIntervalMs ?? 10_000;
  if (!Number.isFinite(interval) || interval < 0) throw new TypeError('jwksFromIssuer: minRefreshIntervalMs must be >= 0');
  const clock = options.clock ?? systemClock;
  let keys = new Map<string, KeyObject>();
  const revoked = new Set<string>();
  let loaded = false;
  let last = Number.NEGATIVE_INFINITY;
  let inflight: Promise<boolean> | undefined;

  async function load(): Promise<void> {
    const res = await client.getKeys({});
    const next = parseJwks(res.jwks);
    for (const kid of res.revokedKids) {
      if (!isWellFormedKid(kid)) continue;
      if (revoked.size >= MAX_REVOKED && !revoked.has(kid)) revoked.delete(revoked.values().next().value!);
      revoked.add(kid);
    }
    keys = next;
    loaded = true;
  }

  function refresh(): Promise<boolean> {
    if (inflight !== undefined) return inflight;
    const now = clock.now();
    if (loaded && now - last < interval) return Promise.resolve(false);
    last = now;
    inflight = load()
      .then(
        () => true,
        (err: unknown) => {
          try {
            options.onError?.(err);
          } catch {
            // diagnostics never break refreshes
          }
          return false;
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  return {
    key(kid: string): KeyLookup {
      if (revoked.has(kid)) return 'revoked';
      return keys.get(kid);
    },
    refresh,
    async ready(): Promise<void> {
      if (loaded) return;
      if (!(await refresh()) && !loaded) throw new Error('jwksFromIssuer: could not load keys from the issuer');
    },
    get kids() {
      return [...keys.keys()];
    },
  };
}
