/**
 * What `baton token inspect` finds out about a token: the decoded header and claims
 * (shown even when they fail a check, marked unverified), each check core and the guard
 * would run with its stable code, and — when an authority is reachable — the signature
 * against its published keys and its own introspection answer.
 */
import {
  ACCESS_TOKEN_TYP,
  b64urlDecode,
  checkTokenTimes,
  decodeJws,
  isBatonError,
  parseAccessTokenClaims,
  parseJsonStrict,
  scopesOfClaims,
  verifyJws,
  type AccessTokenClaims,
  type DecodedJws,
  type Scope,
} from '@baton/core';
import { isWellFormedKid, parseJwks } from '@baton/guard';
import type { Client } from '@baton/proto';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { chainViewOf, type ChainView } from './chain-view.js';
import { relativeTime } from './durations.js';

/** Largest token read (the guard accepts 8 KB; introspection 16 KB). */
export const MAX_TOKEN_INPUT_BYTES = 16 * 1024;

/** One check and its outcome. */
export interface TokenCheck {
  readonly name: 'format' | 'header' | 'claims' | 'times' | 'issuer' | 'signature' | 'introspection' | 'chain';
  readonly status: 'pass' | 'fail' | 'skip';
  /** Stable code when it failed (or why it was skipped). */
  readonly code?: string;
  readonly detail: string;
}

/** A NumericDate with its readings. */
export interface TimeView {
  readonly at: number;
  readonly iso: string;
  readonly relative: string;
}

/** What introspection said. */
export interface IntrospectionView {
  readonly active: boolean;
  readonly inactiveCode?: string;
  readonly sub?: string;
  readonly scope?: string;
  readonly exp?: number;
}

/** The full inspection. */
export interface TokenReport {
  readonly kind: 'access-token' | 'launch-token' | 'unknown';
  readonly bytes: number;
  /** `valid`: every check ran and passed; `unverified`: nothing failed but the signature was not checked. */
  readonly verdict: 'valid' | 'invalid' | 'unverified';
  /** Code of the first failed check, else null. */
  readonly code: string | null;
  readonly header?: Record<string, unknown>;
  /** The payload as decoded (unverified unless the verdict is valid). */
  readonly claims?: Record<string, unknown>;
  readonly scopes?: readonly Scope[];
  readonly times?: Partial<Record<'iat' | 'nbf' | 'exp' | 'tdl', TimeView>>;
  readonly checks: readonly TokenCheck[];
  readonly introspection?: IntrospectionView;
  readonly chain?: ChainView;
  /** The authority asked, if any. */
  readonly authority?: string;
}

/** How to reach an authority for the online checks. */
export interface OnlineChecks {
  readonly target: string;
  readonly issuer: Client<typeof IssuerService>;
  /** The expected `iss` (from authority.json), when known. */
  readonly expectedIssuer?: string;
}

function codeOf(err: unknown, fallback: string): { code: string; detail: string } {
  return isBatonError(err) ? { code: err.code, detail: err.detail } : { code: fallback, detail: err instanceof Error ? err.message : String(err) };
}

/** Decodes a segment for display only, never for a decision. */
function lenientSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment) return undefined;
  try {
    const v = parseJsonStrict(b64urlDecode(segment).toString('utf8'), { maxBytes: MAX_TOKEN_INPUT_BYTES });
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    try {
      const v = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
}

function timeView(v: unknown, nowMs: number): TimeView | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  const d = new Date(v * 1000);
  return { at: v, iso: Number.isNaN(d.getTime()) ? '-' : d.toISOString().replace('.000Z', 'Z'), relative: relativeTime(v, nowMs) };
}

async function signatureCheck(jws: DecodedJws, online: OnlineChecks): Promise<TokenCheck> {
  const kid = jws.header.kid as string;
  let res;
  try {
    res = await online.issuer.getKeys({});
  } catch (err) {
    const e = codeOf(err, 'ERR_UNAVAILABLE');
    return { name: 'signature', status: 'skip', code: e.code, detail: `could not fetch keys from ${online.target}` };
  }
  if (res.revokedKids.includes(kid)) return { name: 'signature', status: 'fail', code: 'ERR_TOKEN_KEY_REVOKED', detail: `signing key ${kid} was revoked (emergency rotation)` };
  let key;
  try {
    key = parseJwks(res.jwks).get(kid);
  } catch (err) {
    const e = codeOf(err, 'ERR_KEY_INVALID');
    return { name: 'signature', status: 'skip', code: e.code, detail: `the authority's JWKS is unreadable: ${e.detail}` };
  }
  if (!key) return { name: 'signature', status: 'fail', code: 'ERR_TOKEN_KID_UNKNOWN', detail: `kid ${kid} is not among the keys ${online.target} publishes` };
  if (!verifyJws(jws, key)) return { name: 'signature', status: 'fail', code: 'ERR_TOKEN_SIGNATURE_INVALID', detail: `signature does not verify under kid ${kid}` };
  return { name: 'signature', status: 'pass', detail: `Ed25519 signature verified under kid ${kid} from ${online.target}` };
}

async function introspect(token: string, online: OnlineChecks): Promise<{ check: TokenCheck; view?: IntrospectionView }> {
  try {
    const r = await online.issuer.introspect({ token });
    const view: IntrospectionView = r.active
      ? { active: true, sub: r.sub, scope: r.scope, exp: Number(r.exp) }
      : { active: false, inactiveCode: r.inactiveCode || 'ERR_TOKEN_REVOKED' };
    return {
      view,
      check: r.active
        ? { name: 'introspection', status: 'pass', detail: `active according to ${online.target}` }
        : { name: 'introspection', status: 'fail', code: view.inactiveCode!, detail: `inactive according to ${online.target}` },
    };
  } catch (err) {
    const e = codeOf(err, 'ERR_UNAVAILABLE');
    return { check: { name: 'introspection', status: 'skip', code: e.code, detail: `could not introspect at ${online.target}` } };
  }
}

async function hopsByReference(claims: AccessTokenClaims, online: OnlineChecks | undefined): Promise<string[] | undefined> {
  const ref = claims.del?.ref;
  if (!ref || !online || claims.del?.hops !== undefined) return undefined;
  try {
    return (await online.issuer.resolveReference({ reference: ref })).delegation?.hops ?? [];
  } catch {
    return undefined;
  }
}

function verdictOf(checks: readonly TokenCheck[]): { verdict: TokenReport['verdict']; code: string | null } {
  const failed = checks.find((c) => c.status === 'fail');
  if (failed) return { verdict: 'invalid', code: failed.code ?? 'ERR_TOKEN_MALFORMED' };
  const sig = checks.find((c) => c.name === 'signature');
  return sig?.status === 'pass' ? { verdict: 'valid', code: null } : { verdict: 'unverified', code: null };
}

/**
 * Inspects `token` at `nowMs`: offline checks always, online checks when `online` is
 * given. Never throws for a bad token: every finding is a check with its code.
 */
export async function inspectToken(token: string, nowMs: number, online?: OnlineChecks): Promise<TokenReport> {
  const bytes = Buffer.byteLength(token, 'utf8');
  const checks: TokenCheck[] = [];
  const base = { bytes, ...(online ? { authority: online.target } : {}) };
  if (/^blt_[A-Za-z0-9_-]+$/.test(token)) {
    checks.push({ name: 'format', status: 'fail', code: 'ERR_TOKEN_MALFORMED', detail: 'this is a launch token: opaque, single use, redeemed by an agent at Register; there is nothing to decode' });
    return { kind: 'launch-token', ...base, checks, ...verdictOf(checks) };
  }

  const parts = token.split('.');
  const header = lenientSegment(parts[0]);
  const payload = parts.length === 3 ? lenientSegment(parts[1]) : undefined;
  let jws: DecodedJws | undefined;
  try {
    jws = decodeJws(token, { maxBytes: MAX_TOKEN_INPUT_BYTES });
    checks.push({ name: 'format', status: 'pass', detail: 'compact JWS, alg EdDSA, strict JSON' });
  } catch (err) {
    const e = codeOf(err, 'ERR_JWS_INVALID');
    checks.push({ name: 'format', status: 'fail', code: e.code, detail: e.detail });
  }

  const hdr = jws?.header ?? header;
  if (hdr) {
    const typOk = hdr.typ === ACCESS_TOKEN_TYP;
    const kidOk = isWellFormedKid(hdr.kid);
    checks.push(
      typOk && kidOk
        ? { name: 'header', status: 'pass', detail: `typ ${ACCESS_TOKEN_TYP}, kid ${String(hdr.kid)}` }
        : !typOk
          ? { name: 'header', status: 'fail', code: 'ERR_TOKEN_TYPE_INVALID', detail: `typ is ${JSON.stringify(hdr.typ)}, not ${ACCESS_TOKEN_TYP}` }
          : { name: 'header', status: 'fail', code: 'ERR_TOKEN_MALFORMED', detail: 'kid missing or malformed' },
    );
  }

  const raw = jws?.payload ?? payload;
  let claims: AccessTokenClaims | undefined;
  let scopes: Scope[] | undefined;
  if (raw) {
    try {
      claims = parseAccessTokenClaims(raw);
      scopes = scopesOfClaims(claims);
      checks.push({ name: 'claims', status: 'pass', detail: `${scopes.length} scope${scopes.length === 1 ? '' : 's'}, subject ${claims.sub}` });
    } catch (err) {
      const e = codeOf(err, 'ERR_TOKEN_CLAIMS_INVALID');
      checks.push({ name: 'claims', status: 'fail', code: e.code, detail: e.detail });
    }
    if (typeof raw.exp === 'number') {
      try {
        checkTokenTimes(raw as { exp: number; nbf?: number; iat?: number }, nowMs);
        const left = (raw.exp as number) - nowMs / 1000;
        checks.push({ name: 'times', status: 'pass', detail: left > 0 ? `valid, expires ${relativeTime(raw.exp as number, nowMs)}` : `within the 30 s leeway after exp` });
      } catch (err) {
        const e = codeOf(err, 'ERR_TOKEN_CLAIMS_INVALID');
        checks.push({ name: 'times', status: 'fail', code: e.code, detail: e.code === 'ERR_TOKEN_EXPIRED' ? `expired ${relativeTime(raw.exp as number, nowMs)}` : e.detail });
      }
    }
    if (online?.expectedIssuer !== undefined) {
      checks.push(
        raw.iss === online.expectedIssuer
          ? { name: 'issuer', status: 'pass', detail: `iss is this authority (${online.expectedIssuer})` }
          : { name: 'issuer', status: 'fail', code: 'ERR_TOKEN_ISSUER_INVALID', detail: `iss ${JSON.stringify(raw.iss)} is not ${online.expectedIssuer}` },
      );
    }
  } else if (parts.length === 3) {
    checks.push({ name: 'claims', status: 'fail', code: 'ERR_TOKEN_MALFORMED', detail: 'payload is not a JSON object' });
  }

  let introspection: IntrospectionView | undefined;
  if (!online) {
    checks.push({ name: 'signature', status: 'skip', detail: 'no authority to fetch keys from (pass --authority, or run where `baton init` made authority.json)' });
  } else if (!jws || !isWellFormedKid(jws.header.kid)) {
    checks.push({ name: 'signature', status: 'skip', detail: 'not a well-formed signed token' });
  } else {
    checks.push(await signatureCheck(jws, online));
  }
  if (online && jws) {
    const r = await introspect(token, online);
    checks.push(r.check);
    introspection = r.view;
  }

  let chain: ChainView | undefined;
  if (claims) {
    chain = chainViewOf(claims, nowMs, await hopsByReference(claims, online));
    if (chain) {
      const p = chain.problems[0];
      checks.push(
        p
          ? { name: 'chain', status: chain.source === 'act' && p.code === 'ERR_TOKEN_REFERENCE_UNKNOWN' ? 'skip' : 'fail', code: p.code, detail: p.detail }
          : { name: 'chain', status: 'pass', detail: `depth ${chain.depth}, verified back to principal ${chain.principal}` },
      );
    }
  }

  const times: Partial<Record<'iat' | 'nbf' | 'exp' | 'tdl', TimeView>> = {};
  for (const k of ['iat', 'nbf', 'exp', 'tdl'] as const) {
    const t = timeView(raw?.[k], nowMs);
    if (t) times[k] = t;
  }
  return {
    kind: raw || hdr ? 'access-token' : 'unknown',
    ...base,
    ...verdictOf(checks),
    ...(hdr ? { header: hdr } : {}),
    ...(raw ? { claims: raw } : {}),
    ...(scopes ? { scopes } : {}),
    ...(Object.keys(times).length ? { times } : {}),
    checks,
    ...(introspection ? { introspection } : {}),
    ...(chain ? { chain } : {}),
  };
}
