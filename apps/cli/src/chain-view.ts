/**
 * A delegated token's chain as `token inspect` shows it: the hops decoded with core's hop
 * codec (`unpackHops` for hops carried in the token, `decodeHop` for hops fetched by
 * reference), verified offline back to the principal by `@baton/delegation`'s
 * `verifyChain` (hop signatures under the keys each previous element bound, links,
 * attenuation, expiry, depth, the binding of the final key), and drawn as a tree from
 * the principal down. Revocation is the authority's answer (introspection), not this view's.
 */
import { decodeHop, hopContextOf, isBatonError, unpackHops, type AccessTokenClaims, type Hop, type Scope } from '@baton/core';
import { verifyChain } from '@baton/delegation';
import { isoTime, relativeTime } from './durations.js';
import { describeScope } from './scope-input.js';

/** One holder in the chain, root first. */
export interface ChainNode {
  /** Agent SPIFFE id. */
  readonly agent: string;
  /** What this holder may do (root: the root token's scopes; else the hop's). */
  readonly scopes?: readonly Scope[];
  /** NumericDate expiry of that grant. */
  readonly exp?: number;
  /** Hash of the hop that delegated to this holder (the HOP revocation target). */
  readonly hop?: string;
  /** Root only: the root token's jti. */
  readonly jti?: string;
}

/** The decoded chain. */
export interface ChainView {
  /** `hops`: carried in the token; `reference`: fetched by reference; `act`: only the RFC 8693 nesting was readable. */
  readonly source: 'hops' | 'reference' | 'act';
  readonly principal: string;
  readonly depth: number;
  readonly chainHash?: string;
  readonly nodes: readonly ChainNode[];
  /** True when `verifyChain` accepted the chain. */
  readonly verified: boolean;
  /** Why it did not (the first failed check), by code. */
  readonly problems: ReadonlyArray<{ readonly code: string; readonly detail: string }>;
}

function problemOf(err: unknown, fallback: string): { code: string; detail: string } {
  return isBatonError(err) ? { code: err.code, detail: err.detail } : { code: fallback, detail: err instanceof Error ? err.message : String(err) };
}

function actAgents(claims: AccessTokenClaims): string[] {
  const agents: string[] = [];
  for (let a = claims.act; a !== undefined; a = a.act) agents.unshift(a.sub);
  return [...agents, claims.sub];
}

function nodesOf(hops: readonly Hop[]): ChainNode[] {
  const first = hops[0]!;
  const rt = first.claims.rt;
  return [
    { agent: first.claims.iss, ...(first.rootScopes ? { scopes: first.rootScopes } : {}), ...(rt ? { exp: rt.exp, jti: rt.jti } : {}) },
    ...hops.map((h) => ({ agent: h.claims.sub, scopes: h.scopes, exp: h.claims.exp, hop: h.hash })),
  ];
}

/**
 * The chain of a delegated token at `nowMs` (undefined for a root token).
 * `referencedHops` are the compact hops `ResolveReference` returned for `del.ref`.
 */
export function chainViewOf(claims: AccessTokenClaims, nowMs: number, referencedHops?: readonly string[]): ChainView | undefined {
  if (claims.del === undefined && claims.act === undefined) return undefined;
  const base = { principal: claims.principal, ...(claims.del ? { chainHash: claims.del.ch } : {}) };
  const actOnly = (problem: { code: string; detail: string }): ChainView => ({
    ...base,
    source: 'act',
    depth: claims.del?.d ?? actAgents(claims).length - 1,
    nodes: actAgents(claims).map((agent) => ({ agent })),
    verified: false,
    problems: [problem],
  });
  if (claims.del === undefined) return actOnly({ code: 'ERR_CHAIN_INVALID', detail: 'act claim without a delegation chain (del)' });

  let hops: Hop[];
  let source: 'hops' | 'reference';
  try {
    if (claims.del.hops !== undefined) {
      hops = unpackHops(claims.del.hops, hopContextOf(claims));
      source = 'hops';
    } else if (referencedHops !== undefined && referencedHops.length > 0) {
      hops = referencedHops.map((h) => decodeHop(h));
      source = 'reference';
    } else {
      return actOnly({ code: 'ERR_TOKEN_REFERENCE_UNKNOWN', detail: `the hops are held by reference (${claims.del.ref ?? '?'}) and could not be fetched` });
    }
  } catch (err) {
    return actOnly(problemOf(err, 'ERR_CHAIN_INVALID'));
  }
  let problems: Array<{ code: string; detail: string }> = [];
  try {
    verifyChain(claims, { now: nowMs, ...(source === 'reference' ? { hops: referencedHops! } : {}) });
  } catch (err) {
    problems = [problemOf(err, 'ERR_CHAIN_INVALID')];
  }
  return { ...base, principal: hops[0]!.claims.pri, source, depth: hops.length, nodes: nodesOf(hops), verified: problems.length === 0, problems };
}

/** The chain as an indented tree, principal first. */
export function formatChainTree(view: ChainView, nowMs: number): string {
  const lines = [`principal ${view.principal}`];
  view.nodes.forEach((n, i) => {
    const indent = '   '.repeat(i);
    lines.push(`${indent}└─ ${n.agent}${i === 0 ? ' (root holder)' : ''}`);
    const detail = `${indent}   `;
    if (n.scopes) lines.push(`${detail}scopes  ${n.scopes.map(describeScope).join(', ')}`);
    if (n.exp !== undefined) lines.push(`${detail}until   ${isoTime(n.exp)} (${relativeTime(n.exp, nowMs)})`);
    if (n.hop) lines.push(`${detail}hop     ${n.hop}`);
    if (n.jti) lines.push(`${detail}token   jti ${n.jti}`);
  });
  const how =
    view.source === 'act'
      ? 'only the act nesting could be read'
      : `${view.depth} hop${view.depth === 1 ? '' : 's'} ${view.source === 'reference' ? 'fetched by reference' : 'carried in the token'}, ${view.verified ? 'verified back to the principal' : 'NOT verified'}`;
  lines.push(`(${how}; revocation is checked by the authority and each guard)`);
  for (const p of view.problems) lines.push(`✗ ${p.code}: ${p.detail}`);
  return lines.join('\n');
}
