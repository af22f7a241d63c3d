/**
 * Delegation as an agent performs it: the delegator signs a hop with its own key
 * (`nextHopClaims` + `signHop`, exactly what the SDK does) and sends it to
 * DelegationService.Delegate with its DPoP-bound token. Attacks edit the claims first.
 */
import { canonicalJson, decodeJws, nextHopClaims, parseAccessTokenClaims, parseScopes, scopesOfClaims, signHop, type HopClaims, type KeyPair, type Scope } from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import { DelegationService, type DelegateResponse } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { b64, ed25519 } from './forge.js';
import type { Stack, TestAgent } from './stack.js';

/** The hop claims `from` would sign to hand `scopes` (default: its own) to `to`. */
export function hopClaims(from: TestAgent, to: TestAgent, scopes?: string | readonly Scope[]): HopClaims {
  const claims = parseAccessTokenClaims(decodeJws(from.token).payload);
  const granted = scopes === undefined ? undefined : typeof scopes === 'string' ? parseScopes(scopes) : scopes;
  return nextHopClaims({
    token: from.token,
    claims,
    holderKey: from.key.publicJwk.x,
    to: to.spiffeId,
    toKey: to.key.publicJwk.x,
    scopes: granted ?? scopesOfClaims(claims),
    exp: claims.exp,
  });
}

/**
 * A hop in the canonical encoding, signed by `signer`, WITHOUT the claim checks `signHop`
 * makes: what a malicious delegator sends. `kid` defaults to the signer's thumbprint.
 */
export function rawHop(claims: object, signer: KeyPair, kid: string = signer.thumbprint): string {
  const input = `${b64(canonicalJson({ alg: 'EdDSA', kid, typ: 'baton-hop+jwt' }))}.${b64(canonicalJson(claims))}`;
  return `${input}.${b64(ed25519(signer.privateKey)(Buffer.from(input, 'latin1')) as Uint8Array)}`;
}

/** Delegate `hop` (a compact JWS) as `from`. */
export function delegateHop(stack: Stack, from: Pick<TestAgent, 'key' | 'token'>, hop: string): Promise<DelegateResponse> {
  return stack.delegation.delegate({ hop }, { metadata: dpopMetadata(from.key, from.token, DelegationService.method.delegate) });
}

/** An honest delegation from `from` to `to`; the child as the delegatee holds it. */
export async function delegate(stack: Stack, from: TestAgent, to: TestAgent, scopes?: string | readonly Scope[]): Promise<TestAgent> {
  const res = await delegateHop(stack, from, signHop(hopClaims(from, to, scopes), from.key));
  return { ...to, token: res.accessToken };
}
