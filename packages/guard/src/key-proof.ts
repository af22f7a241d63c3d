/**
 * Server side of key-holder authentication (operators, orchestrators, Baton services):
 * a `baton-proof` proof whose `rh` is the hash of the exact request bytes received, so a
 * proof cannot be moved to another body, method or server.
 */
import type { KeyObject } from 'node:crypto';
import { sha256B64url, systemClock, verifyProof, type Clock, type ReplayCache } from '@baton/core';
import { MetadataKey, rawBytesOf, type CallContext } from '@baton/proto';
import { singleMetadataValue } from './guard-grpc.js';
import { LruMap } from './lru.js';

/** Options of {@link verifyKeyProof}. */
export interface KeyProofOptions {
  /** Where used proof ids are remembered (one per service, bounded). */
  readonly replayCache: ReplayCache;
  /** Default the system clock. */
  readonly clock?: Clock;
  /** Oldest proof accepted, seconds. Default 60. */
  readonly maxAgeSeconds?: number;
}

/** The caller's key, proven for this exact request. */
export interface KeyProofResult {
  /** RFC 7638 thumbprint: look it up in your registry (unknown → ERR_PERMISSION_DENIED). */
  readonly jkt: string;
  readonly publicKey: KeyObject;
}

/** A caller key unused for this long is dropped (and imported again on its next call). */
const KEY_IDLE_MS = 5 * 60_000;
// Imported caller keys; callers are few (operators, orchestrators, services). Bounded
// against key churn, and idle keys expire so the cache does not fill up over hours. The
// system clock only decides what is re-imported, never whether a proof is accepted.
const keyCache = new LruMap<string, KeyObject>(4096, { clock: systemClock });
const callerKeys = {
  get: (x: string): KeyObject | undefined => keyCache.get(x, systemClock.now() + KEY_IDLE_MS),
  set: (x: string, k: KeyObject): void => keyCache.set(x, k, systemClock.now() + KEY_IDLE_MS),
};

/**
 * Verifies the `baton-proof` metadata of a key-holder call: `htm` POST, `htu` the method
 * path, `rh` = sha256B64url(rawBytesOf(request)), fresh, single use. Throws
 * ERR_PROOF_* (missing, invalid, signature, method, stale, request mismatch, replayed).
 * The caller is not yet authorized: map the returned `jkt` to a known identity.
 *
 * @example
 * async createWorkflow(req, ctx) {
 *   const { jkt } = verifyKeyProof(ctx, req, { replayCache });
 *   const operator = operators.get(jkt) ?? deny('ERR_PERMISSION_DENIED');
 * }
 */
export function verifyKeyProof(ctx: CallContext, request: object, options: KeyProofOptions): KeyProofResult {
  if (typeof options?.replayCache?.checkAndAdd !== 'function') throw new TypeError('verifyKeyProof: replayCache required');
  const raw = rawBytesOf(request);
  // Only messages decoded by a Baton server carry their bytes; anything else is a wiring bug.
  if (raw === undefined) throw new TypeError('verifyKeyProof: request did not come off the wire (no raw bytes)');
  const proof = singleMetadataValue(ctx.metadata, MetadataKey.proof);
  const v = verifyProof(proof, {
    htm: 'POST',
    htu: ctx.method,
    nowMs: (options.clock ?? systemClock).now(),
    requestHash: sha256B64url(raw),
    ...(options.maxAgeSeconds !== undefined ? { maxAgeSeconds: options.maxAgeSeconds } : {}),
    replayCache: options.replayCache,
    keyCache: callerKeys,
  });
  return { jkt: v.jkt, publicKey: v.publicKey };
}
