// @baton/delegation: delegation chains (capability 7). Pure, offline chain verification
// usable with no server, the guard plug-in, and the DelegationService. See README.md.

// offline verification (pure)
export { verifyChain } from './verify-chain.js';
export type { TokenKeys, VerifiedChain, VerifyChainOptions } from './verify-chain.js';
export { MAX_DELEGATION_DEPTH, checkChainRevocation, walkChain } from './walk-chain.js';
export type { ChainElement, ChainRoot, IsRevoked, WalkOptions, WalkedChain } from './walk-chain.js';

// the hop wire format (from @baton/core, re-exported for convenience)
export { HOP_TYP, chainHash, chainStep, decodeHop, encodeHopScopes, hopHash, nextHopClaims, packHops, signHop, unpackHops } from '@baton/core';
export type { Hop, HopClaims, HopRoot, HopScope, NextHopInput, PackedHop } from '@baton/core';

// the guard plug-in
export { CHAIN_VERIFIER_DEFAULTS, chainVerifier } from './chain-verifier.js';
export type { ChainCheckInput, ChainCheckResult, ChainResolver, ChainVerifierOptions, GuardChainVerifier } from './chain-verifier.js';
export { resolveFromDelegation, resolveFromIssuer } from './chain-resolvers.js';

// the service
export { createDelegation } from './create-delegation.js';
export type { Delegation } from './create-delegation.js';
export { DELEGATION_DEFAULTS } from './options.js';
export type { DelegationOptions, DelegatorGuard, GuardCheck, GuardVerdict } from './options.js';
export { DELEGATION_MIGRATIONS } from './schema.js';
