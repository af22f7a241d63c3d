/**
 * How an access token carries its hops by value (`del.hops`), small enough that a
 * depth-5 token stays under 4 KB.
 *
 * A compact hop inside a JWT payload would be base64url-encoded twice. Instead each hop
 * travels as a JSON object holding its claims and its signature, from which the exact
 * canonical signing input is rebuilt. Any claim equal to what the surrounding context
 * already says (the delegator is the previous holder, `prv` is the chain hash so far,
 * `dep` is the position, the principal is the token's, scopes and expiry equal the
 * parent's, `kid` is the key the previous element bound...) is left out. The packing is
 * lossless: a claim that differs from its default is carried explicitly, so the unpacked
 * hop is byte-for-byte the hop that was signed, whatever it says, and verification sees
 * exactly what the signer signed.
 */
import { BatonError } from './errors.js';
import { canonicalJson } from './json.js';
import { assembleHop, chainStep, decodeHop, rootTaskOf, thumbprintOfX, type Hop, type HopClaims } from './hop.js';
import type { AccessTokenClaims } from './token.js';

/** What the token around the hops already says. */
export interface HopContext {
  /** SPIFFE ids from the root holder to the final holder (`act` nesting + `sub`). */
  readonly agents?: readonly string[];
  /** The token's principal. */
  readonly principal?: string;
  /** `jti` of the root token (`del.root.jti`). */
  readonly rootJti?: string;
  /** SHA-256 of the root token (`del.root.th`): the chain hash before hop 1. */
  readonly rootTokenHash: string;
}

/** One hop as `del.hops` carries it: the claims that differ from their defaults, plus `sig` (and `kid` when not the bound key's). */
export type PackedHop = Record<string, unknown>;

const MAX_PACKED_HOPS = 16;
const HASH_RE = /^[A-Za-z0-9_-]{43}$/;
const CLAIM_KEYS = ['iss', 'sub', 'k', 'scp', 'exp', 'prv', 'dep', 'pri', 'tsk'] as const;
const ENTRY_KEYS = new Set<string>([...CLAIM_KEYS, 'rt', 'kid', 'sig']);
const ROOT_KEYS = new Set(['jti', 'k', 'scp', 'exp']);

function invalid(detail: string): never {
  throw new BatonError('ERR_CHAIN_INVALID', detail);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Defaults = { [K in (typeof CLAIM_KEYS)[number]]?: unknown } & { kid?: string; rtJti?: string };

function tryRootTask(agent: string | undefined): string | undefined {
  if (agent === undefined) return undefined;
  try {
    return rootTaskOf(agent);
  } catch {
    return undefined;
  }
}

function tryThumbprint(x: unknown): string | undefined {
  try {
    return typeof x === 'string' ? thumbprintOfX(x) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Defaults of hop `i` given the context, the previous hop and the chain hash so far.
 * `rt` is the hop's own root facts (hop 1's parent is the root token they describe).
 */
function defaultsOf(i: number, ctx: HopContext, prev: Hop | undefined, chainSoFar: string, rt: Record<string, unknown> | undefined): Defaults {
  const parent = prev === undefined ? rt : (prev.claims as unknown as Record<string, unknown>);
  return {
    iss: ctx.agents?.[i],
    sub: ctx.agents?.[i + 1],
    prv: chainSoFar,
    dep: i + 1,
    pri: ctx.principal,
    tsk: tryRootTask(ctx.agents?.[0]),
    scp: parent?.scp,
    exp: parent?.exp,
    kid: tryThumbprint(parent === undefined ? undefined : prev === undefined ? rt?.k : prev.claims.k),
    rtJti: ctx.rootJti,
  };
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  return typeof a === 'object' ? canonicalJson(a) === canonicalJson(b) : a === b;
}

/**
 * Packs compact hops (root first) for `del.hops`. Throws ERR_CHAIN_INVALID when a hop
 * is malformed; every hop round-trips through {@link unpackHops} under the same context.
 *
 * @example claims.del = { hops: packHops(hops, { agents, principal, rootJti, rootTokenHash }), ch, d, root }
 */
export function packHops(hops: readonly string[], ctx: HopContext): PackedHop[] {
  if (!Array.isArray(hops)) throw new TypeError('packHops expects an array of compact hops');
  if (!HASH_RE.test(ctx?.rootTokenHash ?? '')) throw new TypeError('packHops: rootTokenHash must be a base64url SHA-256');
  let chainSoFar = ctx.rootTokenHash;
  let prev: Hop | undefined;
  return hops.map((compact, i) => {
    const hop = decodeHop(compact);
    const c = hop.claims;
    const rt = c.rt as unknown as Record<string, unknown> | undefined;
    const d = defaultsOf(i, ctx, prev, chainSoFar, rt);
    const entry: PackedHop = {};
    for (const key of CLAIM_KEYS) if (!same(c[key], d[key])) entry[key] = c[key];
    if (c.rt !== undefined) {
      const { jti, ...rest } = c.rt;
      entry.rt = same(jti, d.rtJti) ? rest : c.rt;
    }
    if (!same(hop.kid, d.kid)) entry.kid = hop.kid;
    entry.sig = hop.signature.toString('base64url');
    prev = hop;
    chainSoFar = chainStep(chainSoFar, hop.hash);
    return entry;
  });
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
    if (!isRecord(entry)) invalid(`hop ${i + 1} must be an object`);
    for (const k of Object.keys(entry)) if (!ENTRY_KEYS.has(k)) invalid(`hop ${i + 1} has unexpected member ${k}`);
    let rt: Record<string, unknown> | undefined;
    if (entry.rt !== undefined) {
      if (!isRecord(entry.rt)) invalid(`hop ${i + 1} rt must be an object`);
      for (const k of Object.keys(entry.rt)) if (!ROOT_KEYS.has(k)) invalid(`hop ${i + 1} rt has unexpected member ${k}`);
      rt = { ...entry.rt };
    }
    const d = defaultsOf(i, ctx, prev, chainSoFar, rt);
    if (rt !== undefined && !Object.hasOwn(rt, 'jti') && d.rtJti !== undefined) rt.jti = d.rtJti;
    const claims: Record<string, unknown> = {};
    for (const key of CLAIM_KEYS) {
      const v = Object.hasOwn(entry, key) ? entry[key] : d[key];
      if (v === undefined) invalid(`hop ${i + 1}: ${key} missing and not derivable`);
      claims[key] = v;
    }
    if (rt !== undefined) claims.rt = rt;
    const hop = assembleHop(Object.hasOwn(entry, 'kid') ? entry.kid : d.kid, claims as unknown as HopClaims, entry.sig);
    out.push(hop);
    prev = hop;
    chainSoFar = chainStep(chainSoFar, hop.hash);
  });
  return out;
}

/**
 * The context a token gives its hops: agents from the RFC 8693 `act` nesting (innermost
 * is the root holder) followed by `sub`, the principal, and `del.root`.
 */
export function hopContextOf(claims: AccessTokenClaims): HopContext {
  const root = claims.del?.root;
  const th = root?.th;
  if (typeof th !== 'string' || !HASH_RE.test(th)) invalid('del.root.th must be a base64url SHA-256');
  const actors: string[] = [];
  for (let a = claims.act; a !== undefined; a = a.act) actors.unshift(a.sub);
  return {
    rootTokenHash: th,
    principal: claims.principal,
    ...(claims.act !== undefined ? { agents: [...actors, claims.sub] } : {}),
    ...(typeof root?.jti === 'string' ? { rootJti: root.jti } : {}),
  };
}
