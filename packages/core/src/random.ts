/**
 * Randomness from the operating system CSPRNG (node:crypto), and constant-time string
 * comparison. Nothing security-relevant in Baton uses Math.random.
 */
import crypto from 'node:crypto';

/** Upper bound for one call, so a bad argument cannot allocate without limit. */
const MAX_RANDOM_BYTES = 65_536;

/** `n` bytes from the CSPRNG (0 ≤ n ≤ 65 536). */
export function randomBytes(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > MAX_RANDOM_BYTES) {
    throw new TypeError(`randomBytes expects an integer in [0, ${MAX_RANDOM_BYTES}]`);
  }
  return crypto.randomBytes(n);
}

/**
 * A random identifier: `bytes` CSPRNG bytes as base64url. The default 16 bytes give 128
 * bits (22 characters), the minimum Baton accepts for a `jti`.
 *
 * @example randomId() // 'q3Xk0mC1v9...' (22 chars)
 */
export function randomId(bytes = 16): string {
  if (!Number.isInteger(bytes) || bytes < 8 || bytes > 64) {
    throw new TypeError('randomId expects an integer byte count in [8, 64]');
  }
  return crypto.randomBytes(bytes).toString('base64url');
}

/**
 * Compares two strings in time that depends only on their lengths, not on where they
 * differ. Use it for secrets and MACs; lengths are not treated as secret.
 */
export function timingSafeEqualStr(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') {
    throw new TypeError('timingSafeEqualStr expects two strings');
  }
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) {
    // Still do the same amount of work as an equal-length comparison of `a`.
    crypto.timingSafeEqual(ab, ab);
    return false;
  }
  return crypto.timingSafeEqual(ab, bb);
}
