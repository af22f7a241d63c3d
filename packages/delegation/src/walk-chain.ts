/**
 * The walk from the root token to the final hop: the one place the chain rules live.
 * Pure (no I/O; no clock decides anything, only the key cache's idle timer reads one).
 * Checks run per hop, cheapest first and always in the same order — position and links,
 * then the signer's key and the signature, then who may receive what (cycles,
 * attenuation, expiry) — and revocation only once every signature held.
 */
import type { KeyObject } from 'node:crypto';
import {
  BatonError,
  chainStep,
  coversAll,
  importPublicJwk,
  isBatonError,
  rootTaskOf,
  thumbprintOfX,
  verifyJws,
  type ErrorCode,
  type Hop,
  type Scope,
} from '@baton/core';

/** Hard cap on chain depth (DESIGN §2 row 7); policy may lower it. */
export const MAX_DELEGATION_DEPTH = 5;

/** An element of a chain, as handed to a revocation check. */
export type ChainElement =
  | { readonly kind: 'root'; readonly jti: string; readonly hash: string; readonly holder: string }
  | { readonly kind: 'hop'; readonly index: number; readonly hash: string; readonly delegator: string; readonly delegatee: string }
  | { readonly kind: 'agent'; readonly id: string };

/**
 * Revocation lookup for {@link walkChain}: `true` (or an ERR_* code) when the element is
 * revoked. Must be a cheap, synchronous lookup.
 */
export type IsRevoked = (element: ChainElement) => boolean | ErrorCode | undefined;

/** What the walk starts from. */
export interface ChainRoot {
  /** SHA-256 of the root access token (`del.root.th`): what hop 1 must link to. */
  readonly tokenHash: string;
  /** `jti` of the root token (`del.root.jti`), when known. */
  readonly jti?: string;
}

/** Options of {@link walkChain}. */
export interface WalkOptions {
  /** Deepest chain accepted, ≤ {@link MAX_DELEGATION_DEPTH}. */
  readonly maxDepth: number;
}

/** A chain that held, root first. */
export interface WalkedChain {
  readonly rootTokenHash: string;
  readonly hops: readonly Hop[];
  readonly hopHashes: readonly string[];
  /** The chain hash after the last hop. */
  readonly chainHash: string;
  /** SPIFFE ids from the root holder to the final holder (depth + 1 entries). */
  readonly path: readonly string[];
  readonly principal: string;
  /** The root task, `<orchestration>/<task>`. */
  readonly task: string;
  readonly rootJti: string;
  readonly rootScopes: readonly Scope[];
  /** The last hop's scopes: the most the final holder may hold. */
  readonly finalScopes: readonly Scope[];
  /** The last hop's expiry (the earliest in the chain). */
  readonly finalExp: number;
  /** The final holder's public key (JWK `x`). */
  readonly finalKey: string;
}

function fail(code: ErrorCode, detail: string): never {
  throw new BatonError(code, detail);
}

/** Most chain-bound keys kept imported (agents delegating now; churn costs only misses). */
const KEY_CACHE_MAX = 4096;
/** A key unused for this long is dropped: longer than a delegated token lives in practice. */
const KEY_IDLE_MS = 2 * 60_000;
// Least recently used first (a hit moves the key to the end), so idle keys sit at the front.
const keyCache = new Map<string, { readonly key: KeyObject; usedAt: number }>();

/** Drops keys idle for {@link KEY_IDLE_MS}: they are at the front, so this stops at the first fresh one. */
function dropIdleKeys(now: number): void {
  for (const [x, e] of keyCache) {
    if (now - e.usedAt < KEY_IDLE_MS) return;
    keyCache.delete(x);
  }
}

/**
 * Imports a chain-bound key (cached: verifiers see the same agents' keys again and again).
 * The cache uses a monotonic clock of its own: it decides only what is re-imported, never
 * whether a chain holds, so the walk stays independent of the caller's clock.
 */
function importKey(x: string, what: string): KeyObject {
  const now = performance.now();
  dropIdleKeys(now);
  const hit = keyCache.get(x);
  if (hit !== undefined) {
    keyCache.delete(x);
    hit.usedAt = now;
    keyCache.set(x, hit);
    return hit.key;
  }
  let key: KeyObject;
  try {
    key = importPublicJwk({ kty: 'OKP', crv: 'Ed25519', x });
  } catch {
    return fail('ERR_CHAIN_INVALID', `${what} binds an invalid key`);
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(x, { key, usedAt: now });
  return key;
}

/** Keys currently cached (tests and diagnostics). */
export function chainKeyCacheSize(): number {
  return keyCache.size;
}

function revocationCode(r: boolean | ErrorCode | undefined): ErrorCode | undefined {
  if (r === true) return 'ERR_CHAIN_REVOKED';
  if (typeof r === 'string') return r;
  return undefined;
}

/**
 * Walks `hops` (root first) from the root token: for hop i, its position (`dep` = i, and
 * no deeper than `maxDepth`), its link (`prv` = the chain hash so far, `iss` = the
 * previous holder, same principal and root task), its signer (`kid` = the key the
 * previous element bound, then the signature under that key), no cycle or
 * self-delegation, scopes covered by the parent's (ERR_SCOPE_ESCALATION with the precise
 * reason), expiry no later than the parent's. Throws a BatonError naming the hop, e.g.
 * "hop 2 widened max_amount 10000 → 50000". Revocation is {@link checkChainRevocation}.
 */
export function walkChain(hops: readonly Hop[], root: ChainRoot, opts: WalkOptions): WalkedChain {
  const n = hops.length;
  if (n === 0) fail('ERR_CHAIN_INVALID', 'empty chain');
  if (n > opts.maxDepth) fail('ERR_DELEGATION_DEPTH_EXCEEDED', `chain depth ${n} exceeds ${opts.maxDepth}`);
  const first = hops[0]!;
  const rt = first.claims.rt;
  if (rt === undefined || first.rootScopes === undefined) return fail('ERR_CHAIN_LINK_BROKEN', 'hop 1 does not start at a root token');
  if (root.jti !== undefined && rt.jti !== root.jti) fail('ERR_CHAIN_LINK_BROKEN', `hop 1 names root token ${rt.jti}, not ${root.jti}`);
  const principal = first.claims.pri;
  const task = first.claims.tsk;
  let expectedTask: string;
  try {
    expectedTask = rootTaskOf(first.claims.iss);
  } catch {
    return fail('ERR_CHAIN_INVALID', 'root holder is not an agent');
  }
  if (task !== expectedTask) fail('ERR_CHAIN_INVALID', `hop 1 names task ${task}, not the root holder's ${expectedTask}`);

  let chainSoFar = root.tokenHash;
  let holder = first.claims.iss;
  let boundKey = rt.k;
  let parentScopes: readonly Scope[] = first.rootScopes;
  let parentExp = rt.exp;
  const path = [holder];
  const keys = new Set([boundKey]);
  const hopHashes: string[] = [];

  for (let i = 0; i < n; i++) {
    const hop = hops[i]!;
    const c = hop.claims;
    const at = `hop ${i + 1}`;
    const parentName = i === 0 ? 'the root token' : `hop ${i}`;
    // Position and links: catches hops reordered, removed, duplicated or spliced in.
    if (c.dep !== i + 1) fail('ERR_CHAIN_LINK_BROKEN', `${at} claims depth ${c.dep}`);
    if (c.prv !== chainSoFar) fail('ERR_CHAIN_LINK_BROKEN', `${at} does not link to ${parentName}`);
    if (c.iss !== holder) fail('ERR_CHAIN_LINK_BROKEN', `${at} is delegated by ${c.iss}, but ${parentName} was held by ${holder}`);
    if (c.pri !== principal) fail('ERR_CHAIN_INVALID', `${at} names principal ${c.pri}, not ${principal}`);
    if (c.tsk !== task) fail('ERR_CHAIN_INVALID', `${at} names task ${c.tsk}, not ${task}`);
    // Signer: the key the previous element bound, and nothing else.
    if (hop.kid !== thumbprintOfX(boundKey)) fail('ERR_CHAIN_KEY_MISMATCH', `${at} signed by a key other than the one ${parentName} bound`);
    if (!verifyJws(hop, importKey(boundKey, parentName))) fail('ERR_CHAIN_SIGNATURE_INVALID', `${at} signature does not verify under the key ${parentName} bound`);
    // Who receives what.
    if (c.sub === c.iss) fail('ERR_SELF_DELEGATION', `${at} delegates ${c.iss} to itself`);
    if (path.includes(c.sub)) fail('ERR_CHAIN_CYCLE', `${at} delegates back to ${c.sub} (${[...path, c.sub].join(' → ')})`);
    if (keys.has(c.k)) fail('ERR_CHAIN_CYCLE', `${at} binds a key already bound earlier in the chain`);
    const cover = coversAll(parentScopes, hop.scopes);
    if (!cover.ok) fail('ERR_SCOPE_ESCALATION', `${at} ${cover.reason}`);
    if (c.exp > parentExp) fail('ERR_DELEGATION_EXPIRY_EXCEEDED', `${at} expires at ${c.exp}, after ${parentName} (${parentExp})`);

    chainSoFar = chainStep(chainSoFar, hop.hash);
    hopHashes.push(hop.hash);
    holder = c.sub;
    boundKey = c.k;
    parentScopes = hop.scopes;
    parentExp = c.exp;
    path.push(holder);
    keys.add(boundKey);
  }

  return Object.freeze({
    rootTokenHash: root.tokenHash,
    hops,
    hopHashes: Object.freeze(hopHashes),
    chainHash: chainSoFar,
    path: Object.freeze(path),
    principal,
    task,
    rootJti: rt.jti,
    rootScopes: first.rootScopes,
    finalScopes: parentScopes,
    finalExp: parentExp,
    finalKey: boundKey,
  });
}

/**
 * Revocation of a walked chain: the root token, every hop, every agent on the path.
 * Separate from the walk so a verified chain can be cached while revocation is asked
 * on every use. ERR_CHAIN_REVOKED (or the code the lookup returns).
 */
export function checkChainRevocation(chain: WalkedChain, isRevoked: IsRevoked): void {
  const { hops, rootTokenHash: rootHash, rootJti, path } = chain;
  const ask = (el: ChainElement, what: string): void => {
    let r;
    try {
      r = isRevoked(el);
    } catch (err) {
      // A revocation view that cannot answer must not let the chain through.
      fail(isBatonError(err) ? err.code : 'ERR_CHAIN_REVOKED', `revocation check failed for ${what}`);
    }
    const code = revocationCode(r);
    if (code !== undefined) fail(code, `${what} revoked`);
  };
  ask({ kind: 'root', jti: rootJti, hash: rootHash, holder: path[0]! }, `root token ${rootJti}`);
  hops.forEach((hop, i) => ask({ kind: 'hop', index: i + 1, hash: hop.hash, delegator: hop.claims.iss, delegatee: hop.claims.sub }, `hop ${i + 1} (${hop.hash})`));
  for (const id of path) ask({ kind: 'agent', id }, `agent ${id}`);
}
