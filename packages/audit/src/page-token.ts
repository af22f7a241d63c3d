/**
 * Opaque query page tokens: the last sequence returned, bound to the filter it was
 * issued for (a token replayed with another filter is refused rather than silently
 * skipping entries).
 */
import { BatonError, b64urlDecode, b64urlEncode, canonicalJson, parseJsonStrict, sha256B64url } from '@baton/core';
import type { EntryFilter } from './store.js';

const filterDigest = (filter: EntryFilter): string => {
  const { afterSequence: _ignored, ...rest } = filter;
  return sha256B64url(canonicalJson(rest)).slice(0, 16);
};

/** A token that continues `filter` after `lastSequence`. */
export function encodePageToken(filter: EntryFilter, lastSequence: number): string {
  return b64urlEncode(canonicalJson({ a: lastSequence, f: filterDigest(filter) }));
}

/** The sequence to continue after; ERR_INVALID_ARGUMENT when malformed or issued for another filter. */
export function decodePageToken(token: string, filter: EntryFilter): number {
  const bad = (): never => {
    throw new BatonError('ERR_INVALID_ARGUMENT', 'invalid page token');
  };
  if (typeof token !== 'string' || token.length === 0 || token.length > 256) return bad();
  let parsed: unknown;
  try {
    parsed = parseJsonStrict(b64urlDecode(token).toString('utf8'), { maxBytes: 256, maxDepth: 2 });
  } catch {
    return bad();
  }
  const p = parsed as { a?: unknown; f?: unknown };
  if (typeof p !== 'object' || p === null || !Number.isSafeInteger(p.a) || (p.a as number) < 0 || p.f !== filterDigest(filter)) return bad();
  return p.a as number;
}
