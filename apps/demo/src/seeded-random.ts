/**
 * Reproducible choices for the demo's agents ("look up the vendor first or the invoice
 * first?"). This drives the story only, never a security decision, so a small seeded
 * PRNG (mulberry32 seeded from SHA-256) is the right tool; keys and ids come from
 * node:crypto.
 */
import { createHash, randomInt } from 'node:crypto';

/** A function returning numbers in [0, 1), fully determined by `seed`. */
export function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed for a run that names none (printed, so the run can be repeated). */
export function newSeed(): number {
  return randomInt(1, 1_000_000);
}
