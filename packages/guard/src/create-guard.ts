/**
 * The resource-server enforcement point: every request's token and proof go through the
 * same ordered pipeline (structure, then signatures, then state). See README.md.
 */
import type { KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { trace, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  ACCESS_TOKEN_TYP,
  BatonError,
  ReplayCache,
  checkRequest,
  checkTokenTimes,
  decodeJws,
  isBatonError,
  isErrorCode,
  parseAccessTokenClaims,
  scopesOfClaims,
  sha256B64url,
  systemClock,
  timingSafeEqualStr,
  verifyJws,
  verifyProof,
  type AccessTokenClaims,
  type Clock,
  type ErrorCode,
  type Scope,
  type VerifyProofOptions,
} from '@baton/core';
import type { AllowDecision, Decision, DecisionInfo, DenyDecision, GuardCheckInput } from './decision.js';
import { DEFAULT_GUARD_OPTIONS, resolveGuardOptions, type GuardOptions, type ResolvedGuardOptions } from './guard-options.js';
import { isWellFormedKid, type KeySource } from './key-source.js';
import type { RevocationContext } from './plugins.js';
import { kpiGuardMeter } from './kpi-meter.js';
import { LruMap } from './lru.js';
import { createRefreshLimiter } from './refresh-limiter.js';

/** An enforcement point. Create one per resource server with {@link createGuard}. */
export interface Guard {
  /**
   * Runs the whole pipeline for one request. Every failed check resolves to a deny
   * decision with a stable code (and a precise reason for the audit log); it rejects
   * only on a programming mistake (TypeError: no input, htm/htu not strings).
   */
  check(input: GuardCheckInput): Promise<Decision>;
  /** The options in force, defaults applied. */
  readonly options: ResolvedGuardOptions;
  /** True when an introspector is configured (high-assurance routes can be served). */
  readonly supportsHighAssurance: boolean;
  /** Entries in the verified-token and holder-key caches, expired ones not yet swept included (diagnostics). */
  cacheSizes(): { readonly tokens: number; readonly holderKeys: number };
}

/** Imported holder keys by JWK `x`, as {@link verifyProof} takes them. */
type HolderKeyCache = NonNullable<VerifyProofOptions['keyCache']>;

/** Signature-verified facts about a token, cached by the token string. */
interface VerifiedToken {
  readonly kid: string;
  /** The key it verified under; a cache hit is only valid while the source still returns it. */
  readonly key: KeyObject;
  readonly claims: AccessTokenClaims;
  readonly scopes: readonly Scope[];
  /** `ath` for its proofs: base64url SHA-256 of the token. */
  readonly ath: string;
  /** Holder-key cache view for proofs of this token (see {@link holderKeys}). */
  readonly holderKeys: HolderKeyCache;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function deny(code: ErrorCode, detail: string): never {
  throw new BatonError(code, detail);
}

/**
 * Creates a guard.
 *
 * @example
 * const guard = createGuard({
 *   audience: 'payments',
 *   issuer: 'spiffe://baton.local/authority',
 *   keys: jwksFromIssuer(issuerClient),
 *   revocation: createRevocationFeed({ client: issuerClient }),
 * });
 * const d = await guard.check({ token, proof, htm: 'POST', htu, request: { action: 'approve', resource: 'invoice', attributes: { amount: 500 } } });
 * if (!d.allow) reply(d.code); // never d.reason
 */
export function createGuard(options: GuardOptions): Guard {
  const opts = resolveGuardOptions(options);
  const keys: KeySource = options.keys;
  const clock: Clock = options.clock ?? systemClock;
  const replayCache = options.replayCache ?? new ReplayCache({ maxEntries: DEFAULT_GUARD_OPTIONS.replayCacheSize });
  // Both caches drop entries once no token that needs them can be valid any more.
  const tokenCache = new LruMap<string, VerifiedToken>(opts.tokenCacheSize, { clock });
  const keyCache = new LruMap<string, KeyObject>(opts.keyCacheSize, { clock });
  const refreshKeys = createRefreshLimiter(keys, clock, opts.keyRefreshIntervalMs);
  const { revocation, chain, highAssurance, onDecision } = options;
  const meter = options.meter ?? kpiGuardMeter;
  const tracer: Tracer = trace.getTracer('@baton/guard');

  /** Structure → typ → kid → signature → claims shape; cached on success. */
  async function verifyToken(token: string): Promise<VerifiedToken> {
    const cached = tokenCache.get(token);
    if (cached !== undefined) {
      // Still the same key (not rotated away or revoked since)? Then the signature holds.
      if (keys.key(cached.kid) === cached.key) return cached;
      tokenCache.delete(token);
    }
    let jws;
    try {
      jws = decodeJws(token, { maxBytes: opts.maxTokenBytes });
    } catch (err) {
      if (isBatonError(err) && err.code === 'ERR_ALG_NOT_ALLOWED') throw err;
      return deny('ERR_TOKEN_MALFORMED', isBatonError(err) ? err.detail : 'undecodable token');
    }
    if (jws.header.typ !== ACCESS_TOKEN_TYP) deny('ERR_TOKEN_TYPE_INVALID', `typ ${JSON.stringify(jws.header.typ)} is not ${ACCESS_TOKEN_TYP}`);
    const kid = jws.header.kid;
    if (!isWellFormedKid(kid)) return deny('ERR_TOKEN_MALFORMED', 'kid missing or malformed');
    let key = keys.key(kid);
    if (key === undefined && (await refreshKeys())) key = keys.key(kid);
    if (key === 'revoked') deny('ERR_TOKEN_KEY_REVOKED', `signing key ${kid} is revoked`);
    if (key === undefined) return deny('ERR_TOKEN_KID_UNKNOWN', `no key for kid ${kid}`);
    if (!verifyJws(jws, key)) deny('ERR_TOKEN_SIGNATURE_INVALID', `signature does not verify under kid ${kid}`);
    const claims = parseAccessTokenClaims(jws.payload);
    let scopes: Scope[];
    try {
      scopes = scopesOfClaims(claims);
    } catch (err) {
      return deny('ERR_TOKEN_CLAIMS_INVALID', isBatonError(err) ? err.detail : 'scopes unreadable');
    }
    // From this instant the token is expired even with the leeway: its cache entries go then.
    const usableUntil = (claims.exp + opts.leewaySeconds) * 1000;
    // Deep-frozen: decisions hand these to handlers, and a mutation must not poison the cache.
    const entry: VerifiedToken = Object.freeze({
      kid,
      key,
      claims: deepFreeze(claims),
      scopes: deepFreeze(scopes),
      ath: sha256B64url(token),
      holderKeys: holderKeys(usableUntil),
    });
    // Gone once expired (checkTokenTimes denies it from then on anyway).
    tokenCache.set(token, entry, usableUntil);
    return entry;
  }

  /**
   * The holder-key cache as seen by proofs of a token usable until `until`: a key stays
   * cached while some token it proved for can still be used, and no longer.
   */
  function holderKeys(until: number): HolderKeyCache {
    return {
      get: (x) => keyCache.get(x, until),
      set: (x, k) => keyCache.set(x, k, until),
    };
  }

  /** cnf binding: DPoP proof for jkt, certificate for x5t#S256. Returns [bearer, jkt]. */
  function checkPossession(input: GuardCheckInput, vt: VerifiedToken, nowMs: number): [boolean, string | undefined] {
    // Anything but an explicit 'bearer-allowed' means required (fail closed on typos).
    const bearerAllowed = (input.route?.proof ?? opts.proof) === 'bearer-allowed';
    const { cnf } = vt.claims;
    let bearer = false;
    let jkt: string | undefined;
    const x5t = cnf['x5t#S256'];
    if (x5t !== undefined) {
      const presented = input.certificateThumbprint;
      if (presented !== undefined && presented !== '') {
        if (!timingSafeEqualStr(presented, x5t)) deny('ERR_CERT_BINDING_MISMATCH', 'client certificate is not the one the token is bound to');
      } else if (!bearerAllowed) {
        deny('ERR_CERT_BINDING_MISMATCH', 'certificate-bound token used without that client certificate');
      } else bearer = true;
    }
    if (cnf.jkt !== undefined) {
      if (input.proof !== undefined && input.proof !== '') {
        const verified = verifyProof(input.proof, {
          htm: input.htm,
          htu: input.htu,
          nowMs,
          expectedJkt: cnf.jkt,
          accessTokenHash: vt.ath,
          maxAgeSeconds: opts.proofMaxAgeSeconds,
          replayCache,
          keyCache: vt.holderKeys,
        });
        jkt = verified.jkt;
      } else if (!bearerAllowed) {
        deny('ERR_PROOF_MISSING', 'key-bound token used without a proof');
      } else bearer = true;
    }
    return [bearer, jkt];
  }

  function revocationCheck(claims: AccessTokenClaims, kid: string, chained?: { hopHashes?: readonly string[]; agents: readonly string[] }): void {
    if (revocation === undefined) return;
    const ctx: RevocationContext = chained === undefined ? { kid } : { kid, ...chained };
    const code = revocation.check(claims, ctx);
    if (code === undefined) return;
    if (!isErrorCode(code)) deny('ERR_TOKEN_REVOKED', `revocation view returned ${String(code)}`);
    deny(code, revocation.explain?.(claims, ctx) ?? `revocation view: ${code}`);
  }

  async function pipeline(input: GuardCheckInput, info: { claims?: AccessTokenClaims; chainHash?: string }): Promise<AllowDecision> {
    const { token } = input;
    if (token === undefined || token === '') deny('ERR_TOKEN_MISSING', 'no access token presented');
    if (typeof token !== 'string') return deny('ERR_TOKEN_MALFORMED', 'access token is not a string');
    if (token.length > opts.maxTokenBytes) deny('ERR_TOKEN_TOO_LARGE', `token is ${token.length} bytes (max ${opts.maxTokenBytes})`);

    const vt = await verifyToken(token);
    const { claims } = vt;
    info.claims = claims;
    if (claims.iss !== opts.issuer) deny('ERR_TOKEN_ISSUER_INVALID', `iss ${claims.iss} is not ${opts.issuer}`);
    const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (!aud.some((a) => opts.audiences.includes(a))) deny('ERR_TOKEN_AUDIENCE_INVALID', `aud ${aud.join(',')} does not include ${opts.audiences.join(',')}`);
    const nowMs = clock.now();
    checkTokenTimes(claims, nowMs, opts.leewaySeconds);

    const [bearer, jkt] = checkPossession(input, vt, nowMs);

    revocationCheck(claims, vt.kid);

    let depth = 0;
    let agents: readonly string[] = [];
    if (claims.del !== undefined || claims.act !== undefined) {
      if (chain === undefined) deny('ERR_CHAIN_INVALID', 'delegated token but no chain verifier is configured');
      if (claims.del === undefined) deny('ERR_CHAIN_INVALID', 'act claim without delegation chain');
      const result = await chain!.verify({ token, claims, kid: vt.kid, keys, nowMs, leewaySeconds: opts.leewaySeconds });
      if (!Number.isSafeInteger(result?.depth) || result.depth < 1 || !Array.isArray(result.agents)) {
        deny('ERR_CHAIN_INVALID', 'chain verifier returned a malformed result');
      }
      depth = result.depth;
      agents = Object.freeze([...result.agents]);
      if (result.chainHash !== undefined) info.chainHash = result.chainHash;
      // Second pass with what only the verified chain knows: its hops and its agents.
      revocationCheck(claims, vt.kid, result.hopHashes === undefined ? { agents } : { hopHashes: result.hopHashes, agents });
    }

    if (input.route?.highAssurance === true) await introspect(token);

    let matched: Scope | undefined;
    if (input.request !== undefined) {
      const r = checkRequest(vt.scopes, input.request);
      if (!r.ok) deny(r.code, r.reason);
      matched = r.scope;
    } else if (input.route?.authenticateOnly !== true) {
      deny('ERR_SCOPE_DENIED', 'no scope request supplied for a route that is not authenticate-only');
    }

    return {
      allow: true,
      claims,
      kid: vt.kid,
      scopes: vt.scopes,
      ...(matched !== undefined ? { matched } : {}),
      subject: claims.sub,
      principal: claims.principal,
      depth,
      agents,
      bearer,
      ...(jkt !== undefined ? { jkt } : {}),
    };
  }

  async function introspect(token: string): Promise<void> {
    if (highAssurance === undefined) deny('ERR_INTROSPECTION_FAILED', 'route requires high assurance but no introspector is configured');
    let r;
    try {
      r = await highAssurance!.introspect(token);
    } catch (err) {
      return deny('ERR_INTROSPECTION_FAILED', `introspection failed: ${isBatonError(err) ? err.code : 'error'}`);
    }
    if (r?.active === true) return;
    const code: ErrorCode = isErrorCode(r?.code) && r.code !== 'ERR_INTERNAL' ? r.code : 'ERR_TOKEN_REVOKED';
    deny(code, `introspection: inactive (${r?.code ?? 'no code'})`);
  }

  function report(decision: Decision, info: DecisionInfo): void {
    try {
      meter.recordDecision({
        allow: decision.allow,
        ...(decision.allow ? {} : { code: decision.code }),
        bearer: decision.allow && decision.bearer,
        depth: decision.allow ? decision.depth : 0,
        durationMs: info.durationMs,
      });
    } catch {
      // metrics never break the request path
    }
    if (onDecision === undefined) return;
    try {
      const p = onDecision(decision, info);
      if (p !== undefined && typeof (p as Promise<void>).catch === 'function') (p as Promise<void>).catch(() => undefined);
    } catch {
      // the audit hook never breaks the request path
    }
  }

  async function check(input: GuardCheckInput): Promise<Decision> {
    if (typeof input !== 'object' || input === null) throw new TypeError('guard.check: input required');
    if (typeof input.htm !== 'string' || typeof input.htu !== 'string') throw new TypeError('guard.check: htm and htu must be strings');
    const started = performance.now();
    // Release expired entries even when a request does not reach a cache (e.g. expired tokens).
    tokenCache.sweepIfDue();
    keyCache.sweepIfDue();
    const span = tracer.startSpan('baton.guard.check');
    const facts: { claims?: AccessTokenClaims; chainHash?: string } = {};
    let decision: Decision;
    try {
      decision = await pipeline(input, facts);
    } catch (err) {
      const d: DenyDecision = isBatonError(err)
        ? { allow: false, code: err.code, reason: err.detail }
        : { allow: false, code: 'ERR_INTERNAL', reason: `guard error: ${err instanceof Error ? err.name : typeof err}` };
      decision = d;
    }
    const info: DecisionInfo = {
      htm: input.htm,
      htu: input.htu,
      request: input.request,
      claims: facts.claims,
      tokenBytes: typeof input.token === 'string' ? input.token.length : undefined,
      token: typeof input.token === 'string' ? input.token : undefined,
      chainHash: facts.chainHash,
      durationMs: performance.now() - started,
    };
    try {
      span.setAttribute('baton.decision', decision.allow ? 'allow' : 'deny');
      if (decision.allow) {
        span.setAttribute('baton.delegation.depth', decision.depth);
        span.setAttribute('baton.bearer', decision.bearer);
      } else {
        span.setAttribute('baton.reason_code', decision.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: decision.code });
      }
      span.end();
    } catch {
      // telemetry never throws into the request path
    }
    report(decision, info);
    return decision;
  }

  return Object.freeze({
    check,
    options: opts,
    supportsHighAssurance: highAssurance !== undefined,
    cacheSizes: () => ({ tokens: tokenCache.size, holderKeys: keyCache.size }),
  });
}
