/**
 * How an access token carries its hops by value (`del.hops`), small enough that a
 * depth-5 token stays under 4 KB.
 *
 * A compact hop inside a JWT payload would be base64url-encoded twice. Instead each hop
 * travels as a small JSON object of its claims and signature, from which the exact
 * canonical signing input is rebuilt. A claim equal to what the surrounding token already
 * says is left out: the delegator is the previous holder, the delegatee the next one
 * (`act` and `sub`), `prv` is the chain hash so far, `dep` the position, the principal
 * the token's, scopes and expiry the parent's (the last hop's scopes: the token's own),
 * `kid` the key the previous element bound, `rt.jti` is `del.root.jti`. The packing is
 * lossless: a claim that differs from its default is carried, so the unpacked hop is
 * byte for byte the hop that was signed, whatever it says, and verification judges
 * exactly what the signer signed.
 *
 * Member names (one letter each): `k` key, `s` scopes, `e` expiry, `g` signature, `r`
 * root facts (`k`, `s`, `e`, `j`), and when not derivable `i` delegator, `u` delegatee,
 * `p` previous hash, `d` depth, `a` principal, `t` root task, `h` signing key id.
 * Scopes are said relative to the parent's: each entry of `s` is a full hop scope, or
 * the index of an unchanged parent scope, or `[index, patch]` where `patch` is an
 * RFC 7396 merge patch of that parent scope's constraints. `e` is how many seconds
 * earlier than its parent the hop expires.
 */
import { BatonError } from './errors.js';
import { canonicalJson } from './json.js';
import { chainStep } from './chain-hash.js';
import { assembleHop, decodeHop, encodeHopScopes, thumbprintOfX, type Hop } from './hop.js';
import { rootTaskOf } from './next-hop-claims.js';
import type { Scope } from './scope.js';
import { scopesOfClaims, type AccessTokenClaims } from './token.js';

/** What the token around the hops already says. */
export interface HopContext {
  /** SPIFFE ids from the root holder to the final holder (`act` nesting + `sub`). */
  readonly agents?: readonly string[];
  /** The token's principal. */
  readonly principal?: string;
  /** The token's own scopes (the last hop's scopes by default). */
  readonly scopes?: readonly Scope[];
  /** `jti` of the root token (`del.root.jti`). */
  readonly rootJti?: string;
  /** SHA-256 of the root token (`del.root.th`): the chain hash before hop 1. */
  readonly rootTokenHash: string;
}

/** One hop as `del.hops` carries it (see the module comment for its members). */
export type PackedHop = Record<string, unknown>;

const MAX_PACKED_HOPS = 16;
const HASH_RE = /^[A-Za-z0-9_-]{43}$/;
/** Claim → packed member. */
const CLAIM_KEYS = { iss: 'i', sub: 'u', k: 'k', scp: 's', exp: 'e', prv: 'p', dep: 'd', pri: 'a', tsk: 't' } as const;
const ROOT_KEYS = { jti: 'j', k: 'k', scp: 's', exp: 'e' } as const;
type Claim = keyof typeof CLAIM_KEYS;
const CLAIMS = Object.keys(CLAIM_KEYS) as Claim[];
const ENTRY_MEMBERS = new Set<string>([...Object.values(CLAIM_KEYS), 'r', 'h', 'g']);
const ROOT_MEMBERS = new Set<string>(Object.values(ROOT_KEYS));

function invalid(detail: string): never {
  throw new BatonError('ERR_CHAIN_INVALID', detail);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Defaults = { [K in Claim]?: unknown } & { kid?: string; rtJti?: string; parentScp?: readonly unknown[]; parentExp?: number };

function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/**
 * Defaults of hop `i` of `n`, given the context, the previous hop and the chain hash so
 * far. `rt` is the hop's own root facts: hop 1's parent is the root token they describe.
 */
function defaultsOf(i: number, n: number, ctx: HopContext, prev: Hop | undefined, chainSoFar: string, rt: Record<string, unknown> | undefined): Defaults {
  const parent = prev === undefined ? rt : (prev.claims as unknown as Record<string, unknown>);
  const root = ctx.agents?.[0];
  const holderScopes = i === n - 1 && ctx.scopes !== undefined ? attempt(() => encodeHopScopes(ctx.scopes!)) : undefined;
  const boundKey = prev === undefined ? rt?.k : prev.claims.k;
  return {
    iss: ctx.agents?.[i],
    sub: ctx.agents?.[i + 1],
    prv: chainSoFar,
    dep: i + 1,
    pri: ctx.principal,
    tsk: root === undefined ? undefined : attempt(() => rootTaskOf(root)),
    scp: holderScopes ?? parent?.scp,
    exp: parent?.exp,
    parentScp: Array.isArray(parent?.scp) ? (parent.scp as unknown[]) : undefined,
    parentExp: typeof parent?.exp === 'number' ? parent.exp : undefined,
    kid: typeof boundKey === 'string' ? attempt(() => thumbprintOfX(boundKey)) : undefined,
    rtJti: ctx.rootJti,
  };
}

/** RFC 7396 merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The merge patch turning `a` into `b` (constraint values are never null). */
function diffPatch(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) p[k] = null;
  for (const [k, v] of Object.entries(b)) {
    if (!Object.hasOwn(a, k)) p[k] = v;
    else if (isRecord(a[k]) && isRecord(v)) {
      const d = diffPatch(a[k] as Record<string, unknown>, v);
      if (Object.keys(d).length > 0) p[k] = d;
    } else if (canonicalJson(a[k]) !== canonicalJson(v)) p[k] = v;
  }
  return p;
}

type HopScopeJson = string | [string, Record<string, unknown>];

function scopeParts(s: unknown): [string, Record<string, unknown>] | undefined {
  if (typeof s === 'string') return [s, {}];
  if (Array.isArray(s) && s.length === 2 && typeof s[0] === 'string' && isRecord(s[1])) return [s[0], s[1]];
  return undefined;
}

/** Scopes said relative to the parent's: unchanged entries by index, narrowed ones as patches. */
function packScopes(scp: readonly unknown[], parent: readonly unknown[] | undefined): unknown[] {
  return scp.map((entry) => {
    if (parent === undefined) return entry;
    const full = canonicalJson(entry);
    const unchanged = parent.findIndex((p) => canonicalJson(p) === full);
    if (unchanged >= 0) return unchanged;
    const mine = scopeParts(entry);
    const j = mine === undefined ? -1 : parent.findIndex((p) => scopeParts(p)?.[0] === mine[0]);
    if (j < 0) return entry;
    const patched: unknown = [j, diffPatch(scopeParts(parent[j])![1], mine![1])];
    return canonicalJson(patched).length < full.length ? patched : entry;
  });
}

function unpackScopes(v: unknown, parent: readonly unknown[] | undefined, at: number): unknown[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) invalid(`hop ${at}: s must hold 1..64 scopes`);
  return v.map((entry): unknown => {
    const ref = typeof entry === 'number' ? entry : Array.isArray(entry) && typeof entry[0] === 'number' ? entry[0] : undefined;
    if (ref === undefined) return entry;
    if (parent === undefined || !Number.isInteger(ref) || ref < 0 || ref >= parent.length) invalid(`hop ${at}: s refers to a parent scope that does not exist`);
    if (typeof entry === 'number') return parent[ref];
    if (entry.length !== 2 || !isRecord(entry[1])) invalid(`hop ${at}: s patch must be [index, object]`);
    const [name, constraints] = scopeParts(parent[ref]) ?? invalid(`hop ${at}: parent scope malformed`);
    const merged = mergePatch(constraints, entry[1]) as Record<string, unknown>;
    return (Object.keys(merged).length === 0 ? name : [name, merged]) satisfies HopScopeJson;
  });
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  return typeof a === 'object' ? canonicalJson(a) === canonicalJson(b) : a === b;
}

/**
 * Packs compact hops (root first) for `del.hops`. Throws ERR_CHAIN_INVALID when a hop
 * is malformed; every hop round-trips through {@link unpackHops} under the same context.
 *
 * @example claims.del = { hops: packHops(hops, { agents, principal, scopes, rootJti, rootTokenHash }), ch, d, root }
 */
export function packHops(hops: readonly string[], ctx: HopContext): PackedHop[] {
  if (!Array.isArray(hops)) throw new TypeError('packHops expects an array of compact hops');
  if (!HASH_RE.test(ctx?.rootTokenHash ?? '')) throw new TypeError('packHops: rootTokenHash must be a base64url SHA-256');
  let chainSoFar = ctx.rootTokenHash;
  let prev: Hop | undefined;
  return hops.map((compact, i) => {
    const hop = decodeHop(compact);
    const c = hop.claims;
    const d = defaultsOf(i, hops.length, ctx, prev, chainSoFar, c.rt as unknown as Record<string, unknown> | undefined);
    const entry: PackedHop = {};
    for (const claim of CLAIMS) if (!same(c[claim], d[claim])) entry[CLAIM_KEYS[claim]] = c[claim];
    if (entry.s !== undefined) entry.s = packScopes(c.scp, d.parentScp);
    if (entry.e !== undefined && d.parentExp !== undefined) entry.e = d.parentExp - c.exp;
    if (c.rt !== undefined) {
      entry.r = { k: c.rt.k, s: c.rt.scp, e: c.rt.exp, ...(same(c.rt.jti, d.rtJti) ? {} : { j: c.rt.jti }) };
    }
    if (!same(hop.kid, d.kid)) entry.h = hop.kid;
    entry.g = hop.signature.toString('base64url');
    prev = hop;
    chainSoFar = chainStep(chainSoFar, hop.hash);
    return entry;
  });
}

function rootOf(entry: Record<string, unknown>, at: number): Record<string, unknown> | undefined {
  const r = entry.r;
  if (r === undefined) return undefined;
  if (!isRecord(r)) invalid(`hop ${at} r must be an object`);
  for (const k of Object.keys(r)) if (!ROOT_MEMBERS.has(k)) invalid(`hop ${at} r has unexpected member ${k}`);
  const rt: Record<string, unknown> = {};
  for (const [claim, member] of Object.entries(ROOT_KEYS)) if (Object.hasOwn(r, member)) rt[claim] = r[member];
  return rt;
}

/**
 * Rebuilds the hops of `del.hops` under the token's context: each is re-assembled in its
 * canonical encoding (so its hash and signing input are exactly the signed ones) and
 * structurally checked. Signatures are not verified here. ERR_CHAIN_INVALID.
 */
export function unpackHops(entries: unknown, ctx: HopContext): Hop[] {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PACKED_HOPS) invalid(`del.hops must hold 1..${MAX_PACKED_HOPS} hops`);
  if (typeof ctx?.rootTokenHash !== 'string' || !HASH_RE.test(ctx.rootTokenHash)) invalid('del.root.th must be a base64url SHA-256');
  let chainSoFar = ctx.rootTokenHash;
  let prev: Hop | undefined;
  const out: Hop[] = [];
  entries.forEach((entry, i) => {
    const at = i + 1;
    if (!isRecord(entry)) invalid(`hop ${at} must be an object`);
    for (const k of Object.keys(entry)) if (!ENTRY_MEMBERS.has(k)) invalid(`hop ${at} has unexpected member ${k}`);
    const rt = rootOf(entry, at);
    const d = defaultsOf(i, entries.length, ctx, prev, chainSoFar, rt);
    if (rt !== undefined && !Object.hasOwn(rt, 'jti') && d.rtJti !== undefined) rt.jti = d.rtJti;
    const claims: Record<string, unknown> = {};
    for (const claim of CLAIMS) {
      const member = CLAIM_KEYS[claim];
      const v = Object.hasOwn(entry, member) ? entry[member] : d[claim];
      if (v === undefined) invalid(`hop ${at}: ${claim} missing and not derivable`);
      claims[claim] = v;
    }
    if (Object.hasOwn(entry, 's')) claims.scp = unpackScopes(entry.s, d.parentScp, at);
    if (Object.hasOwn(entry, 'e') && d.parentExp !== undefined) {
      if (!Number.isSafeInteger(entry.e)) invalid(`hop ${at}: e must be an integer`);
      claims.exp = d.parentExp - (entry.e as number);
    }
    if (rt !== undefined) claims.rt = rt;
    const hop = assembleHop(Object.hasOwn(entry, 'h') ? entry.h : d.kid, claims, entry.g);
    out.push(hop);
    prev = hop;
    chainSoFar = chainStep(chainSoFar, hop.hash);
  });
  return out;
}

/**
 * The context a token gives its hops: agents from the RFC 8693 `act` nesting (innermost
 * is the root holder) followed by `sub`, the principal, the token's scopes, and
 * `del.root`.
 */
export function hopContextOf(claims: AccessTokenClaims): HopContext {
  const root = claims.del?.root;
  const th = root?.th;
  if (typeof th !== 'string' || !HASH_RE.test(th)) invalid('del.root.th must be a base64url SHA-256');
  const actors: string[] = [];
  for (let a = claims.act; a !== undefined; a = a.act) actors.unshift(a.sub);
  const scopes = attempt(() => scopesOfClaims(claims));
  return {
    rootTokenHash: th,
    principal: claims.principal,
    ...(scopes !== undefined ? { scopes } : {}),
    ...(claims.act !== undefined ? { agents: [...actors, claims.sub] } : {}),
    ...(typeof root?.jti === 'string' ? { rootJti: root.jti } : {}),
  };
}
