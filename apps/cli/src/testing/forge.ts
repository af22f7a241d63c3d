/**
 * Tokens made by the tests themselves: tampered copies of real tokens, tokens with bad
 * headers, and delegated tokens with real hops (signed by each delegator's own key)
 * wrapped in a token signed by a key the authority does not know.
 */
import {
  chainHash,
  decodeJws,
  generateKeyPair,
  hopHash,
  nextHopClaims,
  packHops,
  parseAccessTokenClaims,
  randomId,
  sha256B64url,
  signHop,
  signJws,
  type KeyPair,
  type Scope,
} from '@baton/core';

/** The payload of a compact JWS (not verified). */
export function payloadOf(token: string): Record<string, unknown> {
  return decodeJws(token).payload;
}

/** `token` with its payload replaced and the original signature kept. */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [h, , s] = token.split('.');
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

/** A JWS with arbitrary header and payload, signed by `key` (or with a junk signature). */
export function forge(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyPair = generateKeyPair()): string {
  if (header.alg !== undefined && header.alg !== 'EdDSA') {
    const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${enc(header)}.${enc(payload)}.${Buffer.alloc(32, 7).toString('base64url')}`;
  }
  return signJws(header, payload, key.privateKey);
}

/** A holder in a forged chain. */
export interface Holder {
  readonly id: string;
  readonly key: KeyPair;
}

/** A fresh agent identity in the same task as `root` (a SPIFFE id with a new instance). */
export function sibling(rootSpiffeId: string): Holder {
  return { id: rootSpiffeId.replace(/[^/]+$/, randomId(16)), key: generateKeyPair() };
}

/**
 * A token delegated from `rootToken` (held by `root`) through `holders`, each hop signed
 * by its delegator and granting `scopes[i]` (hop `tamperHop` gets a wrong signature). The outer
 * token is signed by `issuerKey`.
 */
export function delegatedToken(
  rootToken: string,
  root: Holder,
  holders: readonly Holder[],
  scopes: readonly (readonly Scope[])[],
  issuerKey: KeyPair,
  tamperHop?: number,
): string {
  let token = rootToken;
  let holderKey = root.key;
  const hops: string[] = [];
  const agents = [root.id];
  const rootClaims = parseAccessTokenClaims(payloadOf(rootToken));
  holders.forEach((to, i) => {
    const claims = parseAccessTokenClaims(payloadOf(token));
    let hop = signHop(nextHopClaims({ token, claims, holderKey: holderKey.publicJwk.x, to: to.id, toKey: to.key.publicJwk.x, scopes: scopes[i]!, exp: rootClaims.exp }), holderKey);
    if (tamperHop === i) {
      // Still a canonical 64-byte signature, just not the delegator's.
      const dot = hop.lastIndexOf('.') + 1;
      hop = hop.slice(0, dot) + (hop[dot] === 'A' ? 'B' : 'A') + hop.slice(dot + 1);
    }
    hops.push(hop);
    agents.push(to.id);
    const th = sha256B64url(rootToken);
    const ctx = { agents, principal: rootClaims.principal, rootJti: rootClaims.jti, rootTokenHash: th };
    const packed = packHops(hops, ctx);
    let act: Record<string, unknown> | undefined;
    for (const a of agents.slice(0, -1)) act = act ? { sub: a, act } : { sub: a };
    const payload = {
      ...payloadOf(rootToken),
      sub: to.id,
      iid: to.id.slice(to.id.lastIndexOf('/') + 1),
      jti: randomId(16),
      scope: scopes[i]!.map((s) => `${s.action}:${s.resource}${s.id ? `:${s.id}` : ''}`).join(' '),
      scopes: scopes[i],
      cnf: { jkt: to.key.thumbprint },
      act,
      del: { hops: packed, ch: chainHash(th, hops.map(hopHash)), d: hops.length, root: { jti: rootClaims.jti, th } },
    };
    token = signJws({ typ: 'at+jwt', kid: issuerKey.thumbprint }, payload, issuerKey.privateKey);
    holderKey = to.key;
  });
  return token;
}
