/**
 * Where a guard fetches the chain of a by-reference token: the issuer's
 * ResolveReference (by `del.ref`) or the delegation service's GetChain (by `del.ch`).
 * Both are unauthenticated; what comes back is verified against the token's signed
 * chain hash before it is used or cached, so neither has to be trusted.
 */
import { BatonError } from '@baton/core';
import type { Client } from '@baton/proto';
import type { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { ChainResolver } from './chain-verifier.js';

/**
 * Resolves by-reference chains through `IssuerService.ResolveReference`.
 *
 * @example chainVerifier({ resolve: resolveFromIssuer(issuerClient) })
 */
export function resolveFromIssuer(client: Client<typeof IssuerService>): ChainResolver {
  if (typeof client?.resolveReference !== 'function') throw new TypeError('resolveFromIssuer: an IssuerService client is required');
  return async ({ reference }) => {
    const res = await client.resolveReference({ reference });
    if (res.delegation === undefined) throw new BatonError('ERR_TOKEN_REFERENCE_UNKNOWN', 'reference resolved to nothing');
    return res.delegation.hops;
  };
}

/**
 * Resolves by-reference chains through `DelegationService.GetChain`.
 *
 * @example chainVerifier({ resolve: resolveFromDelegation(delegationClient) })
 */
export function resolveFromDelegation(client: Client<typeof DelegationService>): ChainResolver {
  if (typeof client?.getChain !== 'function') throw new TypeError('resolveFromDelegation: a DelegationService client is required');
  return async ({ chainHash }) => (await client.getChain({ chainHash })).hops;
}
