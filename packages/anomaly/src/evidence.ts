/**
 * What a reporter's claim is worth: a report counts only when it comes with an access
 * token the authority signed, addressed to one of the reporter's own audiences and not
 * long expired. So a reporter can only ever affect agents that showed it their token;
 * it cannot name arbitrary agents. Where the claim itself can be checked, it is: a
 * reported scope denial must really be outside the token's scopes.
 */
import type { KeyObject } from 'node:crypto';
import {
  ACCESS_TOKEN_TYP,
  checkRequest,
  decodeJws,
  nowSeconds,
  parseAccessTokenClaims,
  scopesOfClaims,
  verifyJws,
  type AccessTokenClaims,
  type Clock,
  type Scope,
  type ScopeRequest,
} from '@baton/core';
import { LruMap, isWellFormedKid, type KeySource } from '@baton/guard';

/** A token whose signature, issuer and audience held. */
export interface VerifiedEvidence {
  readonly claims: AccessTokenClaims;
  readonly scopes: readonly Scope[];
}

/** Options of {@link createEvidenceVerifier}. */
export interface EvidenceVerifierOptions {
  /** The authority's token-signing keys. */
  readonly keys: KeySource;
  /** Expected `iss`. */
  readonly issuer: string;
  readonly clock: Clock;
  /** Seconds after `exp` a report about a token still counts (reports are batched). Default 120. */
  readonly graceSeconds?: number;
  /** Verified tokens cached (LRU). Default 10 000. */
  readonly cacheSize?: number;
}

/** Checks evidence tokens; returns the reason a token does not count, or its verified facts. */
export interface EvidenceVerifier {
  verify(token: string, audiences: readonly string[]): Promise<VerifiedEvidence | string>;
}

interface Cached extends VerifiedEvidence {
  readonly kid: string;
  readonly key: KeyObject;
}

const MAX_TOKEN_BYTES = 8192;
/** Unknown kids trigger a key refresh at most this often (reporters choose the kids). */
const REFRESH_INTERVAL_MS = 1000;

/** Builds the verifier ({@link EvidenceVerifier}). */
export function createEvidenceVerifier(o: EvidenceVerifierOptions): EvidenceVerifier {
  const grace = o.graceSeconds ?? 120;
  // An entry goes when its token can no longer count as evidence (exp + grace).
  const cache = new LruMap<string, Cached>(o.cacheSize ?? 10_000, { clock: o.clock });
  let lastRefresh = Number.NEGATIVE_INFINITY;

  async function keyFor(kid: string): Promise<ReturnType<KeySource['key']>> {
    const key = o.keys.key(kid);
    if (key !== undefined || typeof o.keys.refresh !== 'function' || o.clock.now() - lastRefresh < REFRESH_INTERVAL_MS) return key;
    lastRefresh = o.clock.now();
    await o.keys.refresh().catch(() => false);
    return o.keys.key(kid);
  }

  async function signed(token: string): Promise<Cached | string> {
    const hit = cache.get(token);
    // Still the key it verified under (not rotated away or revoked since)?
    if (hit !== undefined && o.keys.key(hit.kid) === hit.key) return hit;
    let jws;
    try {
      jws = decodeJws(token, { maxBytes: MAX_TOKEN_BYTES });
    } catch {
      return 'undecodable token';
    }
    if (jws.header.typ !== ACCESS_TOKEN_TYP) return 'not an access token';
    const kid = jws.header.kid;
    if (!isWellFormedKid(kid)) return 'kid missing or malformed';
    const key = await keyFor(kid);
    if (key === undefined || key === 'revoked') return `kid ${kid} unknown or revoked`;
    if (!verifyJws(jws, key)) return 'signature does not verify';
    let claims: AccessTokenClaims;
    let scopes: Scope[];
    try {
      claims = parseAccessTokenClaims(jws.payload);
      scopes = scopesOfClaims(claims);
    } catch {
      return 'claims malformed';
    }
    const entry: Cached = { kid, key, claims, scopes };
    cache.set(token, entry, (claims.exp + grace) * 1000);
    return entry;
  }

  return {
    async verify(token, audiences) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_BYTES) return 'token missing or oversized';
      const v = await signed(token);
      if (typeof v === 'string') return v;
      const c = v.claims;
      if (c.iss !== o.issuer) return 'issued by someone else';
      const aud = typeof c.aud === 'string' ? [c.aud] : c.aud;
      if (!aud.some((a) => audiences.includes(a))) return 'token not addressed to this reporter';
      if (c.exp + grace < nowSeconds(o.clock)) return 'token expired too long ago';
      return { claims: c, scopes: v.scopes };
    },
  };
}

/** True when `request` really is outside what `scopes` permit (the claim of a scope denial holds). */
export function confirmsScopeDenial(scopes: readonly Scope[], request: ScopeRequest): boolean {
  return !checkRequest(scopes, request).ok;
}
