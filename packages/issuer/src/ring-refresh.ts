import { performance } from 'node:perf_hooks';
import type { KeyRing } from './key-ring.js';

/** Least time between two refreshes triggered by requests (unknown kids are attacker-chosen). */
const MIN_INTERVAL_MS = 250;

/**
 * @internal A request-triggered reload of a shared key ring (a kid another replica just
 * made): at most one every 250 ms, concurrent callers sharing it. Resolves true when a
 * refresh ran; false when the ring is not shared, one ran too recently, or it failed.
 */
export function ringRefresher(ring: KeyRing): () => Promise<boolean> {
  let last = Number.NEGATIVE_INFINITY;
  let inflight: Promise<boolean> | undefined;
  return () => {
    if (typeof ring.refresh !== 'function') return Promise.resolve(false);
    if (inflight) return inflight;
    const now = performance.now();
    if (now - last < MIN_INTERVAL_MS) return Promise.resolve(false);
    last = now;
    inflight = ring
      .refresh()
      .then(
        () => true,
        () => false,
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
