/**
 * An authority in memory, for properties that run thousands of times: it signs root and
 * delegated access tokens the way the issuer does (packed `del`, RFC 8693 `act`), agents
 * sign their hops with their own keys, and a real guard (with the delegation chain
 * verifier) checks them under a fixed clock. No sockets: the wire is simulated by
 * mutating the serialized artifacts.
 */
import {
  agentSpiffeId,
  chainHash,
  createProof,
  decodeJws,
  formatScope,
  generateKeyPair,
  manualClock,
  nextHopClaims,
  packHops,
  parseAccessTokenClaims,
  randomId,
  sha256B64url,
  signHop,
  signJws,
  ReplayCache,
  type ActClaim,
  type KeyPair,
  type Scope,
} from '@baton/core';
import { chainVerifier } from '@baton/delegation';
import { createGuard, staticKeys, type Guard } from '@baton/guard';

export const ISSUER = 'spiffe://baton.local/authority';
export const AUDIENCE = 'payments';
export const HTU = '/baton.demo.v1.PaymentsService/ApproveInvoice';
/** A fixed "now": properties never depend on the wall clock. */
export const NOW_MS = 1_750_000_000_000;
export const NOW = NOW_MS / 1000;

export const authorityKey: KeyPair = generateKeyPair();
export const tokenKeys = new Map([[authorityKey.thumbprint, authorityKey.publicKey]]);

export interface Holder {
  readonly key: KeyPair;
  readonly id: string;
}

export function holder(task = 'fuzz-task'): Holder {
  return { key: generateKeyPair(), id: agentSpiffeId('baton.local', 'fuzz-orch', task, randomId(16)) };
}

/** Access-token claims for `h`, as the issuer writes them. */
export function claimsFor(h: Holder, scopes: readonly Scope[]): Record<string, unknown> {
  const seg = h.id.split('/');
  return {
    iss: ISSUER,
    sub: h.id,
    aud: [AUDIENCE, ISSUER],
    exp: NOW + 300,
    iat: NOW - 10,
    nbf: NOW - 10,
    jti: randomId(16),
    scope: [...new Set(scopes.map(formatScope))].join(' '),
    ...(scopes.some((s) => s.constraints !== undefined) ? { scopes: scopes.map((s) => ({ ...s })) } : {}),
    task_id: seg[5],
    orch_id: seg[4],
    wf: 'fuzz-wf',
    principal: 'user:vp@acme.example',
    iid: seg[6],
    tdl: NOW + 3600,
    rnw: 0,
    cnf: { jkt: h.key.thumbprint },
  };
}

/** Signs claims as the authority (`typ: at+jwt`, `kid`). */
export function signToken(payload: Record<string, unknown>): string {
  return signJws({ typ: 'at+jwt', kid: authorityKey.thumbprint }, payload, authorityKey.privateKey);
}

/** A token, its holder, and the chain behind it (none for a root token). */
export interface Link {
  readonly token: string;
  readonly holder: Holder;
  readonly hops: readonly string[];
  readonly actors: readonly string[];
  readonly rootTokenHash?: string;
  readonly rootJti?: string;
}

export function rootLink(h: Holder, scopes: readonly Scope[]): Link {
  return { token: signToken(claimsFor(h, scopes)), holder: h, hops: [], actors: [] };
}

/** The `del` and `act` claims of a token carrying `hops` by value. */
export function delegationClaims(link: Omit<Link, 'token'>, scopes: readonly Scope[], principal: string): { del: Record<string, unknown>; act: ActClaim } {
  const rootTokenHash = link.rootTokenHash!;
  let act: ActClaim | undefined;
  for (const sub of link.actors) act = act ? { sub, act } : { sub };
  return {
    del: {
      hops: packHops(link.hops, { agents: [...link.actors, link.holder.id], principal, scopes, rootJti: link.rootJti!, rootTokenHash }),
      ch: chainHash(rootTokenHash, link.hops.map((h) => sha256B64url(h))),
      d: link.hops.length,
      root: { jti: link.rootJti, th: rootTokenHash },
    },
    act: act!,
  };
}

/** `parent.holder` delegates `scopes` to `to` (hop signed by the delegator, child token by the authority). */
export function delegateLink(parent: Link, to: Holder, scopes: readonly Scope[]): Link {
  const parentClaims = parseAccessTokenClaims(decodeJws(parent.token).payload);
  const hop = signHop(
    nextHopClaims({ token: parent.token, claims: parentClaims, holderKey: parent.holder.key.publicJwk.x, to: to.id, toKey: to.key.publicJwk.x, scopes, exp: parentClaims.exp }),
    parent.holder.key,
  );
  const next: Omit<Link, 'token'> = {
    holder: to,
    hops: [...parent.hops, hop],
    actors: [...parent.actors, parent.holder.id],
    rootTokenHash: parent.rootTokenHash ?? sha256B64url(parent.token),
    rootJti: parent.rootJti ?? parentClaims.jti,
  };
  const payload = claimsFor(to, scopes);
  Object.assign(payload, delegationClaims(next, scopes, String(payload['principal'])));
  return { ...next, token: signToken(payload) };
}

/** A chain of `depth` delegations of `scopes` from a fresh root holder. */
export function chain(depth: number, scopes: readonly Scope[]): Link[] {
  const links = [rootLink(holder('fuzz-root'), scopes)];
  for (let i = 1; i <= depth; i++) links.push(delegateLink(links[i - 1]!, holder(`fuzz-hop-${i}`), scopes));
  return links;
}

/** A resource-server guard that trusts this authority, verifies chains, and runs at NOW. */
export function fuzzGuard(): Guard {
  return createGuard({
    audience: AUDIENCE,
    issuer: ISSUER,
    keys: staticKeys(tokenKeys),
    clock: manualClock(NOW_MS),
    chain: chainVerifier(),
    replayCache: new ReplayCache({ maxEntries: 10_000_000 }),
  });
}

/** A fresh DPoP proof by `h` for `token` at the payments method. */
export function proofFor(h: Holder, token: string): string {
  return createProof({ keyPair: h.key, htm: 'POST', htu: HTU, accessToken: token, nowMs: NOW_MS });
}
