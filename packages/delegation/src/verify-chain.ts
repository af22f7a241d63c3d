/**
 * Offline verification of a delegated access token: usable with no server at all. Given
 * the token (or its already-verified claims) it rebuilds the chain, walks it from the
 * root (see walk-chain.ts) and ties the chain to the token around it.
 */
import type { KeyObject } from 'node:crypto';
import {
  ACCESS_TOKEN_TYP,
  BatonError,
  DEFAULT_LEEWAY_SECONDS,
  checkTokenTimes,
  coversAll,
  decodeHop,
  decodeJws,
  hopContextOf,
  isBatonError,
  parseAccessTokenClaims,
  scopesOfClaims,
  thumbprintOfX,
  unpackHops,
  verifyJws,
  type AccessTokenClaims,
  type ErrorCode,
  type Hop,
  type Scope,
} from '@baton/core';
import { MAX_DELEGATION_DEPTH, checkChainRevocation, walkChain, type IsRevoked, type WalkedChain } from './walk-chain.js';

/** The authority's token-signing keys by `kid` (a guard `KeySource` fits). */
export interface TokenKeys {
  /** The key for `kid`; `'revoked'` when it must no longer be accepted; undefined when unknown. */
  key(kid: string): KeyObject | 'revoked' | undefined;
}

/** Options of {@link verifyChain}. */
export interface VerifyChainOptions {
  /** Token-signing keys; required when a compact token is passed. */
  readonly keys?: TokenKeys | ReadonlyMap<string, KeyObject>;
  /** Expected `iss` of a compact token. Default: not checked. */
  readonly issuer?: string;
  /** The time, ms since the epoch. Default `Date.now()`. */
  readonly now?: number;
  /** Clock-skew tolerance, seconds. Default 30. */
  readonly leeway?: number;
  /** Revocation lookup for the root token, every hop and every agent. Default: none. */
  readonly isRevoked?: IsRevoked;
  /** Deepest chain accepted (policy), 1..5. Default 5. */
  readonly maxDepth?: number;
  /** The chain of a by-reference token (compact hops, root first), as GetChain or ResolveReference serve it. */
  readonly hops?: readonly string[];
}

/** A delegated token whose chain held. */
export interface VerifiedChain {
  /** The original principal. */
  readonly principal: string;
  /** What the final holder may do: the token's scopes (each within every hop's). */
  readonly scopes: readonly Scope[];
  /** SPIFFE ids from the root holder to the final delegator. */
  readonly agents: readonly string[];
  /** The final holder (the token's `sub`). */
  readonly holder: string;
  readonly depth: number;
  readonly chainHash: string;
  /** Hop hashes, root first (HOP revocation targets). */
  readonly hopHashes: readonly string[];
  readonly rootJti: string;
  readonly rootTokenHash: string;
  /** The root task, `<orchestration>/<task>`. */
  readonly task: string;
  /** When the first element of the chain expires (seconds). */
  readonly expiresAt: number;
  /** The hops, root first, in their canonical compact form among other facts. */
  readonly hops: readonly Hop[];
  readonly claims: AccessTokenClaims;
}

function fail(code: ErrorCode, detail: string): never {
  throw new BatonError(code, detail);
}

function lookup(keys: VerifyChainOptions['keys'], kid: string): KeyObject | 'revoked' | undefined {
  if (keys instanceof Map) return keys.get(kid);
  if (typeof (keys as TokenKeys | undefined)?.key === 'function') return (keys as TokenKeys).key(kid);
  throw new TypeError('verifyChain: keys (a map or a key source) are required to verify a compact token');
}

/** Signature, type, issuer, claims and times of a compact access token. */
function verifiedClaims(token: string, o: VerifyChainOptions, nowMs: number, leeway: number): AccessTokenClaims {
  let jws;
  try {
    jws = decodeJws(token, { maxBytes: 16 * 1024 });
  } catch (err) {
    if (isBatonError(err) && err.code === 'ERR_ALG_NOT_ALLOWED') throw err;
    return fail('ERR_TOKEN_MALFORMED', isBatonError(err) ? err.detail : 'undecodable token');
  }
  if (jws.header.typ !== ACCESS_TOKEN_TYP) fail('ERR_TOKEN_TYPE_INVALID', `typ is not ${ACCESS_TOKEN_TYP}`);
  const kid = jws.header.kid;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128) return fail('ERR_TOKEN_MALFORMED', 'kid missing or malformed');
  const key = lookup(o.keys, kid);
  if (key === 'revoked') fail('ERR_TOKEN_KEY_REVOKED', `signing key ${kid} is revoked`);
  if (key === undefined) return fail('ERR_TOKEN_KID_UNKNOWN', `no key for kid ${kid}`);
  if (!verifyJws(jws, key)) fail('ERR_TOKEN_SIGNATURE_INVALID', `signature does not verify under kid ${kid}`);
  const claims = parseAccessTokenClaims(jws.payload);
  if (o.issuer !== undefined && claims.iss !== o.issuer) fail('ERR_TOKEN_ISSUER_INVALID', `iss ${claims.iss} is not ${o.issuer}`);
  checkTokenTimes(claims, nowMs, leeway);
  return claims;
}

/** The token's hops: unpacked from `del.hops`, or the given chain of a by-reference token. */
function hopsOf(claims: AccessTokenClaims, given: readonly string[] | undefined): { hops: Hop[]; ctx: ReturnType<typeof hopContextOf> } {
  const del = claims.del!;
  const ctx = hopContextOf(claims);
  if (del.hops !== undefined && del.ref !== undefined) fail('ERR_CHAIN_INVALID', 'del carries both hops and a reference');
  if (del.hops !== undefined) return { hops: unpackHops(del.hops, ctx), ctx };
  if (del.ref === undefined) fail('ERR_CHAIN_INVALID', 'del carries neither hops nor a reference');
  if (given === undefined) fail('ERR_TOKEN_REFERENCE_UNKNOWN', 'chain is by reference: resolve it (GetChain / ResolveReference) and pass options.hops');
  if (!Array.isArray(given) || given.length > 16) fail('ERR_CHAIN_INVALID', 'resolved chain must be an array of at most 16 hops');
  return { hops: given.map((h, i) => withIndex(i, () => decodeHop(h))), ctx };
}

function withIndex<T>(i: number, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (isBatonError(err)) throw new BatonError(err.code, `hop ${i + 1}: ${err.detail}`, { cause: err });
    throw err;
  }
}

/**
 * The structural and cryptographic part of {@link verifyChain} for already-verified
 * claims: no clock and no revocation, so the result can be cached per token. Internal.
 */
export function verifyDelegatedClaims(claims: AccessTokenClaims, o: Pick<VerifyChainOptions, 'maxDepth' | 'hops'>): VerifiedChain {
  const maxDepth = o.maxDepth ?? MAX_DELEGATION_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_DELEGATION_DEPTH) throw new TypeError(`maxDepth must be an integer in 1..${MAX_DELEGATION_DEPTH}`);
  const del = claims?.del;
  if (del === undefined) return fail('ERR_CHAIN_INVALID', 'token carries no delegation chain');
  if (del.d > maxDepth) fail('ERR_DELEGATION_DEPTH_EXCEEDED', `token claims depth ${del.d}, more than ${maxDepth}`);
  const { hops, ctx } = hopsOf(claims, o.hops);
  const walked: WalkedChain = walkChain(hops, { tokenHash: ctx.rootTokenHash, ...(ctx.rootJti !== undefined ? { jti: ctx.rootJti } : {}) }, { maxDepth });
  const n = hops.length;
  const path = walked.path;

  // The chain must end exactly where the token begins.
  if (n !== del.d) fail('ERR_CHAIN_INVALID', `del.d says ${del.d} but the chain has ${n} hops`);
  if (path[n] !== claims.sub) fail('ERR_CHAIN_LINK_BROKEN', `hop ${n} delegates to ${path[n]}, not to the token's subject ${claims.sub}`);
  if (ctx.agents === undefined) fail('ERR_CHAIN_INVALID', 'delegated token without an act claim');
  if (ctx.agents.length !== path.length || ctx.agents.some((a, i) => a !== path[i])) fail('ERR_CHAIN_INVALID', 'act claim does not name the agents of the chain');
  if (claims.cnf.jkt === undefined || claims.cnf.jkt !== thumbprintOfX(walked.finalKey)) {
    fail('ERR_CHAIN_KEY_MISMATCH', `the token is bound to a key other than the one hop ${n} bound`);
  }
  if (claims.principal !== walked.principal) fail('ERR_CHAIN_INVALID', `token principal ${claims.principal} is not the chain's ${walked.principal}`);
  const scopes = scopesOfClaims(claims);
  const cover = coversAll(walked.finalScopes, scopes);
  if (!cover.ok) fail('ERR_SCOPE_ESCALATION', `token scope beyond hop ${n}: ${cover.reason}`);
  if (claims.exp > walked.finalExp) fail('ERR_DELEGATION_EXPIRY_EXCEEDED', `token expires at ${claims.exp}, after hop ${n} (${walked.finalExp})`);
  if (walked.chainHash !== del.ch) fail('ERR_CHAIN_HASH_MISMATCH', 'del.ch is not the hash of the chain');

  const result: VerifiedChain = Object.freeze({
    principal: walked.principal,
    scopes: Object.freeze(scopes),
    agents: Object.freeze(path.slice(0, n)),
    holder: claims.sub,
    depth: n,
    chainHash: walked.chainHash,
    hopHashes: walked.hopHashes,
    rootJti: walked.rootJti,
    rootTokenHash: walked.rootTokenHash,
    task: walked.task,
    expiresAt: Math.min(claims.exp, walked.finalExp),
    hops: walked.hops,
    claims,
  });
  walks.set(result, walked);
  return result;
}

// The walk behind each result, for revocation checks on cached results.
const walks = new WeakMap<VerifiedChain, WalkedChain>();

/** The walked chain behind a result of {@link verifyDelegatedClaims}. Internal. */
export function walkedOf(v: VerifiedChain): WalkedChain {
  const w = walks.get(v);
  if (w === undefined) throw new TypeError('not a verified chain');
  return w;
}

/**
 * Verifies a delegated token's chain offline, back to the original principal: every hop
 * signed by the key the previous element bound (the root token binds the root holder's
 * key), every link hash, attenuation and expiry at each step, depth ≤ `maxDepth` (≤ 5),
 * no cycle, no revoked element, the last hop binding the token's own key and covering
 * its scopes, and the chain hash. A compact token is first verified itself (signature
 * under `keys`, `typ`, issuer, times). Throws a `BatonError` with a stable code and a
 * precise detail (e.g. `hop 2 widened max_amount 10000 → 50000`).
 *
 * @example
 * const chain = verifyChain(token, { keys: new Map([[kid, authorityKey]]), now: Date.now() });
 * chain.principal; // 'user:vp@acme.example'
 * chain.agents;    // [manager, intern]: the executor holds the token
 * chain.scopes;    // [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 5000 } } }]
 */
export function verifyChain(input: string | AccessTokenClaims, options: VerifyChainOptions = {}): VerifiedChain {
  const nowMs = options.now ?? Date.now();
  const leeway = options.leeway ?? DEFAULT_LEEWAY_SECONDS;
  if (!Number.isFinite(nowMs)) throw new TypeError('verifyChain: now must be a finite number of ms');
  if (!Number.isFinite(leeway) || leeway < 0) throw new TypeError('verifyChain: leeway must be a non-negative number of seconds');
  let claims: AccessTokenClaims;
  if (typeof input === 'string') claims = verifiedClaims(input, options, nowMs, leeway);
  else if (typeof input === 'object' && input !== null) claims = input;
  else throw new TypeError('verifyChain: pass a compact token or its verified claims');
  const chain = verifyDelegatedClaims(claims, options);
  if (nowMs / 1000 >= chain.expiresAt + leeway) fail('ERR_TOKEN_EXPIRED', `chain expired at ${chain.expiresAt}`);
  if (options.isRevoked !== undefined) checkChainRevocation(walkedOf(chain), options.isRevoked);
  return chain;
}
