/**
 * SPIFFE IDs (`spiffe://<trust-domain>/<path>`), parsed strictly: anything the SPIFFE
 * ID specification does not allow is rejected, never normalised, so two different
 * strings can never name the same workload.
 */
import { BatonError } from './errors.js';
import { assertId } from './ids.js';

/** A parsed SPIFFE ID. `path` is `''` or starts with `/`; `uri` is the input string. */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly path: string;
  readonly segments: readonly string[];
  readonly uri: string;
}

/** The parts of an agent's SPIFFE ID `spiffe://<td>/agent/<orchestration>/<task>/<instance>`. */
export interface AgentSpiffeId {
  readonly trustDomain: string;
  readonly orchestration: string;
  readonly task: string;
  readonly instance: string;
  readonly uri: string;
}

const SCHEME = 'spiffe://';
/** Longest SPIFFE ID accepted, in bytes (the specification's URI limit). */
export const MAX_SPIFFE_ID_BYTES = 2048;
/** Longest trust domain name accepted. */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

const invalid = (detail: string): never => {
  throw new BatonError('ERR_SPIFFE_ID_INVALID', detail);
};

function checkSegment(seg: string): void {
  if (seg.length === 0) invalid('empty path segment');
  if (seg === '.' || seg === '..') invalid('dot path segment');
  if (!SEGMENT.test(seg)) invalid('bad character in path');
}

/**
 * Parse a SPIFFE ID. The scheme must be exactly `spiffe://`; the trust domain
 * `[a-z0-9._-]`, 1..255 characters; path segments `[A-Za-z0-9._-]`, non-empty and not
 * `.`/`..`; no trailing slash, query, fragment, userinfo, port or percent-encoding; at
 * most 2048 bytes. A trust-domain-only ID (`spiffe://example.org`) has an empty path.
 * Fails with `ERR_SPIFFE_ID_INVALID`.
 *
 * @example parseSpiffeId('spiffe://acme.example/agent/o/t/i').segments // ['agent', 'o', 't', 'i']
 */
export function parseSpiffeId(s: unknown): SpiffeId {
  if (typeof s !== 'string') return invalid('not a string');
  // Every allowed character is ASCII, so length in UTF-16 units equals length in bytes
  // for anything that can pass; a longer string is rejected either way.
  if (s.length > MAX_SPIFFE_ID_BYTES) invalid('too long');
  if (!s.startsWith(SCHEME)) invalid('scheme must be spiffe://');
  const slash = s.indexOf('/', SCHEME.length);
  const trustDomain = slash === -1 ? s.slice(SCHEME.length) : s.slice(SCHEME.length, slash);
  if (!TRUST_DOMAIN.test(trustDomain)) invalid('malformed trust domain');
  if (slash === -1) return Object.freeze({ trustDomain, path: '', segments: Object.freeze([]), uri: s });
  const path = s.slice(slash);
  const segments = path.slice(1).split('/');
  for (const seg of segments) checkSegment(seg);
  return Object.freeze({ trustDomain, path, segments: Object.freeze(segments), uri: s });
}

/**
 * Build a SPIFFE ID from a trust domain and path segments, validating both; fails with
 * `ERR_SPIFFE_ID_INVALID`.
 *
 * @example formatSpiffeId('acme.example', ['svc', 'issuer']) // 'spiffe://acme.example/svc/issuer'
 */
export function formatSpiffeId(trustDomain: string, segments: readonly string[]): string {
  if (typeof trustDomain !== 'string' || !TRUST_DOMAIN.test(trustDomain)) invalid('malformed trust domain');
  if (!Array.isArray(segments)) throw new TypeError('formatSpiffeId expects an array of segments');
  for (const seg of segments) {
    if (typeof seg !== 'string') invalid('segment is not a string');
    checkSegment(seg);
  }
  const uri = segments.length === 0 ? `${SCHEME}${trustDomain}` : `${SCHEME}${trustDomain}/${segments.join('/')}`;
  if (uri.length > MAX_SPIFFE_ID_BYTES) invalid('too long');
  return uri;
}

/**
 * The SPIFFE ID of an agent instance: `spiffe://<td>/agent/<orchestration>/<task>/<instance>`.
 * The three ids are checked with {@link assertId} (`ERR_ID_INVALID`), the trust domain
 * as in {@link formatSpiffeId} (`ERR_SPIFFE_ID_INVALID`).
 *
 * @example agentSpiffeId('acme.example', 'orch-7', 'approve', 'q3LbX0Zs8kTz1aWcVbN2yA')
 */
export function agentSpiffeId(trustDomain: string, orchestration: string, task: string, instance: string): string {
  const o = assertId('orchestration', orchestration);
  const t = assertId('task', task);
  const i = assertId('instance', instance);
  return formatSpiffeId(trustDomain, ['agent', o, t, i]);
}

/**
 * Parse an agent's SPIFFE ID and return its parts; fails with `ERR_SPIFFE_ID_INVALID`
 * unless it has exactly the shape {@link agentSpiffeId} produces.
 *
 * @example parseAgentSpiffeId('spiffe://acme.example/agent/orch-7/approve/q3LbX0Zs8kTz1aWcVbN2yA').task // 'approve'
 */
export function parseAgentSpiffeId(s: unknown): AgentSpiffeId {
  const id = parseSpiffeId(s);
  const seg = id.segments;
  if (seg.length !== 4 || seg[0] !== 'agent') invalid('not an agent id');
  try {
    return Object.freeze({
      trustDomain: id.trustDomain,
      orchestration: assertId('orchestration', seg[1]),
      task: assertId('task', seg[2]),
      instance: assertId('instance', seg[3]),
      uri: id.uri,
    });
  } catch {
    return invalid('malformed agent id component');
  }
}

/**
 * True when SPIFFE ID `id` matches `pattern`: same trust domain, same number of path
 * segments, and each pattern segment equal to the id's or exactly `*` (which matches one
 * whole segment, never part of one and never across a `/`). A malformed `id` simply does
 * not match; a malformed `pattern` (policy configuration) throws `ERR_SPIFFE_ID_INVALID`.
 *
 * @example matchSpiffePattern('spiffe://acme.example/svc/*', 'spiffe://acme.example/svc/issuer') // true
 */
export function matchSpiffePattern(pattern: string, id: string): boolean {
  const p = parsePattern(pattern);
  let target: SpiffeId;
  try {
    target = parseSpiffeId(id);
  } catch {
    return false;
  }
  if (target.trustDomain !== p.trustDomain || target.segments.length !== p.segments.length) return false;
  for (let i = 0; i < p.segments.length; i++) {
    const ps = p.segments[i]!;
    if (ps !== '*' && ps !== target.segments[i]) return false;
  }
  return true;
}

// A pattern is a SPIFFE ID whose path segments may also be exactly `*`: validate it with
// each `*` segment replaced by a legal one.
function parsePattern(pattern: string): { trustDomain: string; segments: readonly string[] } {
  if (typeof pattern !== 'string') return invalid('pattern is not a string');
  const parts = pattern.split('/');
  const parsed = parseSpiffeId(parts.map((seg, i) => (i >= 3 && seg === '*' ? 'x' : seg)).join('/'));
  return { trustDomain: parsed.trustDomain, segments: parts.slice(3) };
}
