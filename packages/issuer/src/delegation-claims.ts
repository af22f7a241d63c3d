/**
 * Delegation material in access tokens. The delegation service (its own issue) decides
 * what a hop is and verifies chains; the issuer only checks the material's shape, embeds
 * it, indexes hop hashes for HOP revocation and moves it out by reference when a token
 * would grow too large. Everything hop-specific sits in this file, so the delegation
 * engineer has one place to extend.
 */
import { BatonError, packHops, parseSpiffeId, sha256B64url, type ActClaim, type DelegationClaim, type Scope } from '@baton/core';
import { isB64url32, isJti } from './revocation-model.js';

/** Hard cap on delegation depth (DESIGN §2 row 7). */
export const MAX_DELEGATION_DEPTH = 5;
/** Largest single hop accepted (a compact JWS). */
const MAX_HOP_BYTES = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** What IssueRequest.delegation carries, checked. */
export interface DelegationMaterial {
  /** Compact JWS hops, root first. */
  readonly hops: readonly string[];
  /** SHA-256 over the canonical chain encoding (base64url). */
  readonly chainHash: string;
  readonly depth: number;
  /** SPIFFE ids from the root holder to the final delegator. */
  readonly actors: readonly string[];
  /** base64url SHA-256 of the root access token. */
  readonly rootTokenHash: string;
  readonly rootJti: string;
}

function invalid(detail: string): never {
  throw new BatonError('ERR_INVALID_ARGUMENT', detail);
}

/** Shape checks for delegation material from a trusted service (ERR_INVALID_ARGUMENT). */
export function parseDelegationMaterial(d: {
  hops: readonly string[];
  chainHash: string;
  depth: number;
  actors: readonly string[];
  rootTokenHash: string;
  rootJti: string;
}): DelegationMaterial {
  if (!Number.isInteger(d.depth) || d.depth < 1 || d.depth > MAX_DELEGATION_DEPTH) {
    throw new BatonError('ERR_DELEGATION_DEPTH_EXCEEDED', `depth ${d.depth} outside 1..${MAX_DELEGATION_DEPTH}`);
  }
  if (d.hops.length !== d.depth) invalid('delegation needs exactly one hop per level of depth');
  if (d.actors.length !== d.depth) invalid('delegation needs one actor per hop');
  for (const hop of d.hops) {
    if (typeof hop !== 'string' || hop.length > MAX_HOP_BYTES || !COMPACT_JWS.test(hop)) invalid('hop is not a compact JWS');
  }
  if (new Set(d.hops).size !== d.hops.length) invalid('duplicate hop');
  for (const actor of d.actors) {
    try {
      parseSpiffeId(actor);
    } catch {
      invalid('actor is not a SPIFFE id');
    }
  }
  if (!isB64url32(d.chainHash)) invalid('chain_hash is not a base64url SHA-256');
  if (!isB64url32(d.rootTokenHash)) invalid('root_token_hash is not a base64url SHA-256');
  if (!isJti(d.rootJti)) invalid('root_jti is not a jti');
  return Object.freeze({
    hops: Object.freeze([...d.hops]),
    chainHash: d.chainHash,
    depth: d.depth,
    actors: Object.freeze([...d.actors]),
    rootTokenHash: d.rootTokenHash,
    rootJti: d.rootJti,
  });
}

/**
 * The hash a HOP revocation targets: base64url SHA-256 of the hop's compact JWS.
 * (Extension point: the delegation issue may define it over a canonical hop encoding.)
 */
export function hopHash(hop: string): string {
  return sha256B64url(hop);
}

/**
 * The `del` claim: hops by value, or `ref` instead of them when `reference` is given.
 * `root` names the root access token (`jti`, `th` = its SHA-256). Hops by value are
 * packed (`packHops` in @baton/core: claims plus signature, with what the token already
 * says left out) so a depth-5 token stays under 4 KB; `holder` is the token's own `sub`,
 * `principal` and scopes, which the packing leaves out of the hops.
 */
export function delegationClaim(
  m: DelegationMaterial,
  reference: string | undefined,
  holder: { sub: string; principal: string; scopes: readonly Scope[] },
): DelegationClaim {
  const root = { jti: m.rootJti, th: m.rootTokenHash };
  if (reference !== undefined) return { ref: reference, ch: m.chainHash, d: m.depth, root };
  const ctx = { agents: [...m.actors, holder.sub], principal: holder.principal, scopes: holder.scopes, rootJti: m.rootJti, rootTokenHash: m.rootTokenHash };
  return { hops: packedOrAsIs(m.hops, ctx), ch: m.chainHash, d: m.depth, root };
}

/**
 * Hops that are not well-formed Baton hops cannot be packed; they are embedded as they
 * came (only shape-checked here), and every verifier refuses them (ERR_CHAIN_INVALID).
 */
function packedOrAsIs(hops: readonly string[], ctx: Parameters<typeof packHops>[1]): unknown[] {
  try {
    return packHops(hops, ctx);
  } catch (err) {
    if (err instanceof BatonError && err.code === 'ERR_CHAIN_INVALID') return [...hops];
    throw err;
  }
}

/**
 * RFC 8693 `act`: the current actor (the final delegator) outermost, each earlier actor
 * nested inside, down to the root holder.
 */
export function actClaim(m: DelegationMaterial): ActClaim | undefined {
  let act: ActClaim | undefined;
  for (const sub of m.actors) act = act ? { sub, act } : { sub };
  return act;
}
