/**
 * Rate limit for key refreshes triggered by unknown `kid`s: an attacker sending random
 * kids must not turn every request into a call to the issuer.
 */
import type { Clock } from '@baton/core';
import type { KeySource } from './key-source.js';

/**
 * Returns a function that refreshes `keys` at most once per `intervalMs`, sharing an
 * in-flight refresh between concurrent callers. It resolves `true` when a refresh ran
 * (and reloaded the keys), `false` when rate-limited, unsupported or failed.
 */
export function createRefreshLimiter(keys: KeySource, clock: Clock, intervalMs: number): () => Promise<boolean> {
  let last = Number.NEGATIVE_INFINITY;
  let inflight: Promise<boolean> | undefined;
  return () => {
    if (typeof keys.refresh !== 'function') return Promise.resolve(false);
    if (inflight !== undefined) return inflight;
    const now = clock.now();
    if (now - last < intervalMs) return Promise.resolve(false);
    last = now;
    inflight = keys
      .refresh()
      .then(
        (ok) => ok === true,
        () => false,
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
