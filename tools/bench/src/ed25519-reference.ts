/**
 * The physical floor of every verification: raw node:crypto Ed25519 verifies of a
 * DPoP-proof-sized message with a ready KeyObject, no parsing at all. Measured afresh
 * in every benchmark that compares against it, interleaved with its runs.
 */
import crypto from 'node:crypto';

/** A raw verifier: a key, a message and its signature, prepared once. */
export interface RawVerifier {
  /** Verifies `count` times, pushing each latency (ms) to `into`; returns the total ms. */
  run(count: number, into?: number[]): number;
}

/** Prepares a raw verifier over a message of `bytes` bytes (default 400, a DPoP proof's signing input). */
export function rawVerifier(bytes = 400): RawVerifier {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const message = crypto.randomBytes(bytes);
  const signature = crypto.sign(null, message, privateKey);
  const verify = (): void => {
    if (!crypto.verify(null, message, publicKey, signature)) throw new Error('raw Ed25519 verify failed');
  };
  for (let i = 0; i < 500; i++) verify(); // warm-up
  return {
    run(count, into) {
      let total = 0;
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        verify();
        const dt = performance.now() - t;
        total += dt;
        into?.push(dt);
      }
      return total;
    },
  };
}
