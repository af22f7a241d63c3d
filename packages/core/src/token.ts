/**
 * The access-token claim model shared by the issuer, the guard and delegation:
 * RFC 9068 shape plus Baton's task claims, parsed strictly from an untrusted payload.
 */
import { BatonError, isBatonError } from './errors.js';
import { assertId } from './ids.js';
import { parseScope, parseScopes, type Scope } from './scope.js';
import { parseSpiffeId } from './spiffe.js';

/** `typ` header of Baton access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** Clock-skew tolerance for `exp`/`nbf`/`iat` of access tokens, in seconds. */
export const DEFAULT_LEEWAY_SECONDS = 30;

/** Confirmation claim (RFC 7800): the key or certificate the token is bound to. */
export interface Cnf {
  /** RFC 7638 thumbprint of the holder's key (DPoP-style binding). */
  jkt?: string;
  /** SHA-256 of the holder's certificate (RFC 8705 mTLS binding). */
  'x5t#S256'?: string;
}

/**
 * Delegation claim of a delegated token. `hops`: the chain root first, each hop packed by
 * `packHops` (claims plus signature, defaults left out); absent when the chain travels by
 * reference (`ref`). `root`: `{ jti, th }` of the root access token (`th` = its SHA-256).
 */
export interface DelegationClaim {
  hops?: unknown[];
  /** Reference to the chain when carried by reference. */
  ref?: string;
  /** Chain hash. */
  ch: string;
  /** Delegation depth (1 for the first hop). */
  d: number;
  root?: Record<string, unknown>;
}

/** RFC 8693 actor claim: who acts, nested outward to the original actor. */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
}

/** Claims of a Baton access token. Times are NumericDate seconds. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  /** Space-separated string forms (RFC 9068 interop). */
  scope: string;
  /** Structured scopes; present when any scope has constraints, and then authoritative. */
  scopes?: Scope[];
  task_id: string;
  orch_id: string;
  wf: string;
  principal: string;
  iid: string;
  /** Task deadline (seconds). */
  tdl: number;
  /** Renewal count. */
  rnw: number;
  cnf: Cnf;
  del?: DelegationClaim;
  act?: ActClaim;
}

/** Year 9999: bounds NumericDates so arithmetic on them stays exact. */
const MAX_NUMERIC_DATE = 253_402_300_799;
const MAX_SCOPES = 64;
const MAX_SCOPE_STRING = 8192;
const MAX_ACT_DEPTH = 32;
const JTI_RE = /^[A-Za-z0-9_-]{22,128}$/;
const HASH_B64URL_RE = /^[A-Za-z0-9_-]{43}$/;
// Printable characters only (no control characters or DEL): these strings reach logs.
const PRINTABLE_RE = /^[^\u0000-\u001f\u007f]+$/;

function invalid(detail: string, cause?: unknown): never {
  throw new BatonError('ERR_TOKEN_CLAIMS_INVALID', detail, cause === undefined ? undefined : { cause });
}

function str(v: unknown, name: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || !PRINTABLE_RE.test(v)) invalid(`${name} must be a non-empty string of at most ${max} chars`);
  return v;
}

function numericDate(v: unknown, name: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > MAX_NUMERIC_DATE) invalid(`${name} must be an integer NumericDate`);
  return v as number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Re-throws another module's coded error as a claims error, keeping it as the cause. */
function rethrow<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isBatonError(err)) invalid(`${name}: ${err.detail}`, err);
    throw err;
  }
}

function parseAud(v: unknown): string | string[] {
  if (typeof v === 'string') return str(v, 'aud', 2048);
  if (!Array.isArray(v) || v.length === 0 || v.length > 16) invalid('aud must be a string or 1..16 strings');
  return v.map((a) => str(a, 'aud', 2048));
}

function parseCnf(v: unknown): Cnf {
  if (!isPlainObject(v)) invalid('cnf must be an object');
  const cnf: Cnf = {};
  for (const k of Object.keys(v)) {
    if (k !== 'jkt' && k !== 'x5t#S256') invalid(`unexpected cnf member ${k}`);
    const h = v[k];
    if (typeof h !== 'string' || !HASH_B64URL_RE.test(h)) invalid(`cnf.${k} must be a SHA-256 base64url value`);
    cnf[k as keyof Cnf] = h;
  }
  if (cnf.jkt === undefined && cnf['x5t#S256'] === undefined) invalid('cnf needs jkt or x5t#S256');
  return cnf;
}

function parseDel(v: unknown): DelegationClaim {
  if (!isPlainObject(v)) invalid('del must be an object');
  const del: DelegationClaim = {
    ch: str(v.ch, 'del.ch', 128),
    d: Number.isSafeInteger(v.d) && (v.d as number) >= 1 && (v.d as number) <= 64 ? (v.d as number) : invalid('del.d must be an integer in 1..64'),
  };
  if (v.hops !== undefined) {
    if (!Array.isArray(v.hops) || v.hops.length > 64) invalid('del.hops must be an array of at most 64');
    del.hops = v.hops;
  }
  if (v.ref !== undefined) del.ref = str(v.ref, 'del.ref', 512);
  if (v.root !== undefined) {
    if (!isPlainObject(v.root)) invalid('del.root must be an object');
    del.root = v.root;
  }
  return del;
}

function parseAct(v: unknown): ActClaim {
  // Iterative: the nesting comes from untrusted input.
  const chain: string[] = [];
  let cur: unknown = v;
  while (cur !== undefined) {
    if (!isPlainObject(cur)) invalid('act must be an object');
    if (chain.length >= MAX_ACT_DEPTH) invalid('act nested too deeply');
    chain.push(str(cur.sub, 'act.sub', 2048));
    cur = cur.act;
  }
  let out: ActClaim | undefined;
  for (let i = chain.length - 1; i >= 0; i--) out = out ? { sub: chain[i]!, act: out } : { sub: chain[i]! };
  return out!;
}

function parseScopeString(scope: string): Scope[] {
  if (scope.length === 0) return [];
  const parts = scope.split(' ');
  if (parts.length > MAX_SCOPES) invalid(`more than ${MAX_SCOPES} scopes`);
  return parts.map((p) => rethrow('scope', () => parseScope(p)));
}

// Scopes parsed once per claims object (the guard asks on every request). The entry
// remembers its sources so a claims object changed after parsing is parsed again.
interface ScopeMemo {
  readonly scope: string;
  readonly scopes: Scope[] | undefined;
  readonly parsed: Scope[];
}
const scopeMemo = new WeakMap<AccessTokenClaims, ScopeMemo>();

/**
 * Checks an untrusted access-token payload and returns a fresh object holding only the
 * known claims. Required: `iss`, `sub` (a SPIFFE ID), `aud`, integer `exp`/`iat`/`nbf`
 * with `iat ≤ exp` and `nbf ≤ exp`, `jti` (≥ 22 base64url chars, ≥ 128 bits), `scope`
 * (and/or structured `scopes`; at least one scope), `task_id`, `orch_id`, `wf`,
 * `principal`, `iid`, `tdl`, `rnw`, and `cnf` with `jkt` or `x5t#S256`. Optional `del`,
 * `act`. Unknown claims are dropped. Fails with `ERR_TOKEN_CLAIMS_INVALID`.
 *
 * Signature, `typ`, issuer, audience and times are the caller's checks.
 */
export function parseAccessTokenClaims(payload: Record<string, unknown>): AccessTokenClaims {
  if (!isPlainObject(payload)) invalid('payload must be an object');
  const p = payload;
  const exp = numericDate(p.exp, 'exp');
  const iat = numericDate(p.iat, 'iat');
  const nbf = numericDate(p.nbf, 'nbf');
  if (iat > exp || nbf > exp) invalid('iat and nbf must not be after exp');
  if (typeof p.jti !== 'string' || !JTI_RE.test(p.jti)) invalid('jti must be 22..128 base64url chars');
  if (typeof p.scope !== 'string' || p.scope.length > MAX_SCOPE_STRING) invalid('scope must be a string');
  const subject = str(p.sub, 'sub', 2048);
  rethrow('sub', () => parseSpiffeId(subject));

  const claims: AccessTokenClaims = {
    iss: str(p.iss, 'iss', 2048),
    sub: subject,
    aud: parseAud(p.aud),
    exp,
    iat,
    nbf,
    jti: p.jti,
    scope: p.scope,
    task_id: rethrow('task_id', () => assertId('task', p.task_id)),
    orch_id: rethrow('orch_id', () => assertId('orchestration', p.orch_id)),
    wf: rethrow('wf', () => assertId('workflow', p.wf)),
    principal: str(p.principal, 'principal', 256),
    iid: rethrow('iid', () => assertId('instance', p.iid)),
    tdl: numericDate(p.tdl, 'tdl'),
    rnw: Number.isSafeInteger(p.rnw) && (p.rnw as number) >= 0 && (p.rnw as number) <= 1_000_000 ? (p.rnw as number) : invalid('rnw must be a non-negative integer'),
    cnf: parseCnf(p.cnf),
  };
  // The string form is validated even when structured scopes are authoritative.
  const fromString = parseScopeString(p.scope);
  let effective = fromString;
  if (p.scopes !== undefined) {
    if (!Array.isArray(p.scopes)) invalid('scopes must be an array');
    const scopes: Scope[] = rethrow('scopes', () => parseScopes(p.scopes));
    claims.scopes = scopes;
    effective = scopes;
  }
  if (effective.length === 0) invalid('token carries no scope');
  if (p.del !== undefined) claims.del = parseDel(p.del);
  if (p.act !== undefined) claims.act = parseAct(p.act);
  scopeMemo.set(claims, { scope: claims.scope, scopes: claims.scopes, parsed: effective });
  return claims;
}

/**
 * The scopes a token grants: the structured `scopes` when present, else the parsed
 * `scope` string. Fails with `ERR_TOKEN_CLAIMS_INVALID` on a malformed scope.
 */
export function scopesOfClaims(c: AccessTokenClaims): Scope[] {
  const memo = scopeMemo.get(c);
  if (memo && memo.scope === c.scope && memo.scopes === c.scopes) return memo.parsed.slice();
  if (typeof c.scope !== 'string') invalid('scope must be a string');
  const parsed = c.scopes !== undefined ? rethrow('scopes', () => parseScopes(c.scopes)) : parseScopeString(c.scope);
  scopeMemo.set(c, { scope: c.scope, scopes: c.scopes, parsed });
  return parsed.slice();
}

/**
 * Checks `exp`, `nbf` and `iat` against `nowMs` with `leewaySeconds` of skew
 * tolerance: `ERR_TOKEN_EXPIRED` once `now ≥ exp + leeway`, `ERR_TOKEN_NOT_YET_VALID`
 * when `nbf` or `iat` is later than `now + leeway`.
 *
 * @example checkTokenTimes(claims, clock.now())
 */
export function checkTokenTimes(c: { exp: number; nbf?: number; iat?: number }, nowMs: number, leewaySeconds = DEFAULT_LEEWAY_SECONDS): void {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new TypeError('nowMs must be a finite number');
  if (typeof leewaySeconds !== 'number' || !Number.isFinite(leewaySeconds) || leewaySeconds < 0) {
    throw new TypeError('leewaySeconds must be a non-negative number');
  }
  const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!isTime(c?.exp)) invalid('exp missing');
  if (c.nbf !== undefined && !isTime(c.nbf)) invalid('nbf is not a number');
  if (c.iat !== undefined && !isTime(c.iat)) invalid('iat is not a number');
  const now = nowMs / 1000;
  if (now >= c.exp + leewaySeconds) throw new BatonError('ERR_TOKEN_EXPIRED', `expired at ${c.exp}, now ${Math.floor(now)}`);
  if (c.nbf !== undefined && c.nbf > now + leewaySeconds) throw new BatonError('ERR_TOKEN_NOT_YET_VALID', `nbf ${c.nbf}, now ${Math.floor(now)}`);
  if (c.iat !== undefined && c.iat > now + leewaySeconds) throw new BatonError('ERR_TOKEN_NOT_YET_VALID', `iat ${c.iat}, now ${Math.floor(now)}`);
}
