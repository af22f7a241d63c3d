/**
 * The guard plug-in: `createGuard({ chain: chainVerifier() })` verifies every delegated
 * token's chain offline on every request. Verified chains are remembered per token
 * (the guard hands the same frozen claims object for a cached token), so a warm request
 * costs a few comparisons; expiry is re-checked every time, and revocation is the
 * guard's (it re-checks the returned hop hashes and agents against its view).
 * By-reference chains are fetched once and cached by chain hash: chains are immutable.
 */
import { BatonError, isBatonError, type AccessTokenClaims } from '@baton/core';
import { LruCache } from './lru-cache.js';
import { verifyDelegatedClaims, walkedOf, type VerifiedChain } from './verify-chain.js';
import { MAX_DELEGATION_DEPTH, checkChainRevocation, type IsRevoked } from './walk-chain.js';

/** Fetches the chain of a by-reference token: compact hops, root first. */
export type ChainResolver = (ref: { readonly reference: string; readonly chainHash: string }) => Promise<readonly string[]>;

/** Options of {@link chainVerifier}. */
export interface ChainVerifierOptions {
  /**
   * Where by-reference chains come from (see `resolveFromIssuer`, `resolveFromDelegation`).
   * Default: none; by-reference tokens are then denied (ERR_TOKEN_REFERENCE_UNKNOWN).
   */
  readonly resolve?: ChainResolver;
  /** Deepest chain accepted, 1..5. Default 5. */
  readonly maxDepth?: number;
  /** Extra revocation lookup (the guard's revocation view already covers hops and agents). Default none. */
  readonly isRevoked?: IsRevoked;
  /** Resolved chains kept, by chain hash. Default 1000. */
  readonly chainCacheSize?: number;
}

/** Defaults of {@link ChainVerifierOptions}. */
export const CHAIN_VERIFIER_DEFAULTS = Object.freeze({
  maxDepth: MAX_DELEGATION_DEPTH,
  chainCacheSize: 1000,
});

/** What the guard passes (structurally `ChainInput` of @baton/guard). */
export interface ChainCheckInput {
  readonly claims: AccessTokenClaims;
  readonly nowMs: number;
  readonly leewaySeconds: number;
}

/** What the guard gets back (structurally `ChainResult` of @baton/guard). */
export interface ChainCheckResult {
  readonly depth: number;
  readonly agents: readonly string[];
  readonly hopHashes: readonly string[];
  readonly chainHash: string;
  readonly principal: string;
}

/** A `ChainVerifier` for `createGuard({ chain })`. */
export interface GuardChainVerifier {
  verify(input: ChainCheckInput): Promise<ChainCheckResult>;
}

/**
 * The guard's chain plug-in.
 *
 * @example
 * const guard = createGuard({
 *   audience: 'payments', issuer, keys, revocation,
 *   chain: chainVerifier({ resolve: resolveFromIssuer(issuerClient) }),
 * });
 */
export function chainVerifier(options: ChainVerifierOptions = {}): GuardChainVerifier {
  const maxDepth = options.maxDepth ?? CHAIN_VERIFIER_DEFAULTS.maxDepth;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_DELEGATION_DEPTH) throw new TypeError(`chainVerifier: maxDepth must be in 1..${MAX_DELEGATION_DEPTH}`);
  if (options.resolve !== undefined && typeof options.resolve !== 'function') throw new TypeError('chainVerifier: resolve must be a function');
  const chains = new LruCache<string, readonly string[]>(options.chainCacheSize ?? CHAIN_VERIFIER_DEFAULTS.chainCacheSize);
  const verified = new WeakMap<AccessTokenClaims, VerifiedChain>();

  async function resolved(claims: AccessTokenClaims): Promise<readonly string[] | undefined> {
    const del = claims.del;
    if (del?.ref === undefined || del.hops !== undefined) return undefined;
    const cached = chains.get(del.ch);
    if (cached !== undefined) return cached;
    if (options.resolve === undefined) throw new BatonError('ERR_TOKEN_REFERENCE_UNKNOWN', 'by-reference chain and no resolver configured');
    try {
      return await options.resolve({ reference: del.ref, chainHash: del.ch });
    } catch (err) {
      if (isBatonError(err)) throw err;
      throw new BatonError('ERR_TOKEN_REFERENCE_UNKNOWN', 'chain could not be resolved');
    }
  }

  return Object.freeze({
    async verify(input: ChainCheckInput): Promise<ChainCheckResult> {
      const { claims } = input;
      let chain = verified.get(claims);
      if (chain === undefined) {
        const hops = await resolved(claims);
        chain = verifyDelegatedClaims(claims, { maxDepth, ...(hops !== undefined ? { hops } : {}) });
        // Only a chain that verified against the token's (signed) chain hash is cached.
        if (hops !== undefined) chains.set(chain.chainHash, hops);
        if (Object.isFrozen(claims)) verified.set(claims, chain);
      }
      if (input.nowMs / 1000 >= chain.expiresAt + input.leewaySeconds) throw new BatonError('ERR_TOKEN_EXPIRED', `chain expired at ${chain.expiresAt}`);
      if (options.isRevoked !== undefined) checkChainRevocation(walkedOf(chain), options.isRevoked);
      return { depth: chain.depth, agents: chain.agents, hopHashes: chain.hopHashes, chainHash: chain.chainHash, principal: chain.principal };
    },
  });
}
