/**
 * The launch token's wire form: `blt_` followed by 32 CSPRNG bytes in base64url (256
 * bits). The prefix lets secret scanners spot a leaked token; the authority keeps only
 * its SHA-256.
 */
import { b64urlDecode, randomBytes, sha256Hex } from '@baton/core';

/** Prefix of every launch token. */
export const LAUNCH_TOKEN_PREFIX = 'blt_';

/** Random bytes in a launch token (256 bits). */
export const LAUNCH_TOKEN_BYTES = 32;

const LAUNCH_TOKEN_RE = /^blt_[A-Za-z0-9_-]{43}$/;

/** A fresh launch token. */
export function newLaunchToken(): string {
  return LAUNCH_TOKEN_PREFIX + randomBytes(LAUNCH_TOKEN_BYTES).toString('base64url');
}

/**
 * True when `value` has the exact launch-token shape (prefix, 43 canonical base64url
 * characters). Checked before any lookup, so garbage never reaches the database.
 */
export function isWellFormedLaunchToken(value: unknown): value is string {
  if (typeof value !== 'string' || !LAUNCH_TOKEN_RE.test(value)) return false;
  try {
    return b64urlDecode(value.slice(LAUNCH_TOKEN_PREFIX.length)).length === LAUNCH_TOKEN_BYTES;
  } catch {
    return false;
  }
}

/** The stored form of a launch token: SHA-256 of its text, hex. */
export function launchTokenHash(token: string): string {
  return sha256Hex(token);
}
