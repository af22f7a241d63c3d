import { performance } from 'node:perf_hooks';
import { BatonError, nowSeconds } from '@baton/core';
import { kpis } from '@baton/telemetry';
import { scopeFromProto, scopeToProto, type ServiceImpl } from '@baton/proto';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { actorOf, type Authenticator, type Caller } from './authenticate.js';
import { parseIssueFields } from './issue-input.js';
import { issueToken } from './issue-token.js';
import { introspectToken } from './introspect-token.js';
import type { IssuerContext } from './issuer-context.js';
import type { BatonServiceName } from './options.js';
import { delegationToProto, sequenceFromProto, watchEventToProto } from './proto-mapping.js';
import { getReference } from './reference-repo.js';
import { renewToken } from './renew-token.js';
import { LEVELS, REASONS, parseRevocationTarget, type RevocationLevelName, type RevocationReasonName } from './revocation-model.js';
import { watchRevocations } from './revocation-watch.js';
import { revokeKey, rotateKeys } from './rotate-keys.js';
import { tokenState } from './token-state.js';
import { revoke } from './write-revocation.js';

/** What each Baton service may revoke on an operator's behalf: level → reasons. */
export const SERVICE_REVOCATIONS: Readonly<Record<BatonServiceName, Partial<Record<RevocationLevelName, readonly RevocationReasonName[]>>>> = Object.freeze({
  // Re-registration supersedes an instance; missed heartbeats and anomalies end it.
  identity: Object.freeze({ agent: Object.freeze(['superseded', 'heartbeat', 'anomaly'] as const) }),
  delegation: Object.freeze({}),
  audit: Object.freeze({}),
  // Automatic response: the level a rule names, always with reason ANOMALY.
  anomaly: Object.freeze({
    token: Object.freeze(['anomaly'] as const),
    agent: Object.freeze(['anomaly'] as const),
    task: Object.freeze(['anomaly'] as const),
  }),
});

/** Reasons only the issuer itself writes (Renew, Release). */
const SYSTEM_REASONS: readonly RevocationReasonName[] = ['released', 'renewed'];
/** Services that may ask for tokens. */
const ISSUING_SERVICES: readonly BatonServiceName[] = ['identity', 'delegation'];
const REFERENCE = /^[A-Za-z0-9_-]{22}$/;

/** Records the issuance KPI; telemetry never throws into the request path. */
function recordIssuance(started: number): void {
  try {
    kpis().issuanceDuration.record((performance.now() - started) / 1000);
  } catch {
    // metrics are best effort
  }
}

function denied(detail: string): never {
  throw new BatonError('ERR_PERMISSION_DENIED', detail);
}

function freeText(v: string, max: number, name: string): string | undefined {
  if (v.length > max || /[\u0000-\u001f\u007f]/.test(v)) throw new BatonError('ERR_INVALID_ARGUMENT', `${name} too long or not printable`);
  return v === '' ? undefined : v;
}

function checkRevokePermission(caller: Caller, level: RevocationLevelName, reason: RevocationReasonName): void {
  if (SYSTEM_REASONS.includes(reason)) throw new BatonError('ERR_INVALID_ARGUMENT', `reason ${reason} is written by the issuer only`);
  if (caller.kind === 'operator') return;
  const allowed = SERVICE_REVOCATIONS[caller.name][level];
  if (!allowed?.includes(reason)) denied(`service ${caller.name} may not revoke ${level} for ${reason}`);
}

/** The IssuerService handlers over an issuer context. */
export function issuerService(ctx: IssuerContext, auth: Authenticator): ServiceImpl<typeof IssuerService> {
  return {
    async issue(req, call) {
      const started = performance.now();
      const caller = await auth.keyHolder(req, call);
      if (caller.kind !== 'service' || !ISSUING_SERVICES.includes(caller.name)) denied('only identity and delegation issue tokens');
      if (req.delegation && caller.name !== 'delegation') denied('only the delegation service issues delegated tokens');
      const input = parseIssueFields({ ...req, scopes: req.scopes.map(scopeFromProto) }, ctx.trustDomain, ctx.issuer);
      const out = await issueToken(ctx, input, actorOf(caller));
      recordIssuance(started);
      return {
        accessToken: out.accessToken,
        jti: out.jti,
        expiresAt: BigInt(out.expiresAt),
        grantedTtlSeconds: out.grantedTtlSeconds,
        reference: out.reference ?? '',
      };
    },

    async renew(req, call) {
      const started = performance.now();
      const { claims, kid } = await auth.agent(call);
      const out = await renewToken(ctx, claims, kid, { scopes: req.scopes.map(scopeFromProto), requestedTtl: req.requestedTtlSeconds });
      recordIssuance(started);
      return {
        accessToken: out.accessToken,
        expiresAt: BigInt(out.expiresAt),
        grantedTtlSeconds: out.grantedTtlSeconds,
        renewalsLeft: out.renewalsLeft,
        scopes: out.scopes.map(scopeToProto),
      };
    },

    async release(req, call) {
      const { claims, kid } = await auth.agent(call);
      const note = freeText(req.reason, 256, 'reason');
      const state = await tokenState(ctx.db, claims, kid);
      if (!state.ok) throw new BatonError(state.code, state.detail);
      const out = await revoke(ctx, { level: 'agent', target: claims.sub, reason: 'released', actor: `agent:${claims.sub}`, ...(note ? { note } : {}) });
      return { tokensReleased: out.tokensAffected, sequence: BigInt(out.entry.seq) };
    },

    async introspect(req) {
      const r = await introspectToken(ctx, req.token);
      if (!r.active) return { active: false, inactiveCode: r.code };
      const c = r.claims;
      return {
        active: true,
        scope: c.scope,
        sub: c.sub,
        aud: typeof c.aud === 'string' ? [c.aud] : [...c.aud],
        iss: c.iss,
        exp: BigInt(c.exp),
        iat: BigInt(c.iat),
        nbf: BigInt(c.nbf),
        jti: c.jti,
        tokenType: 'DPoP',
        cnfJkt: c.cnf.jkt ?? '',
        taskId: c.task_id,
        workflowId: c.wf,
        principal: c.principal,
      };
    },

    async getKeys() {
      // Guards ask when they meet an unknown kid: answer with what every replica has now.
      await ctx.keyRing.refresh?.().catch(() => undefined);
      return { jwks: JSON.stringify(ctx.keyRing.jwks()), revokedKids: ctx.keyRing.revokedKids() };
    },

    async revoke(req, call) {
      const caller = await auth.keyHolder(req, call);
      const level = LEVELS[req.level];
      const reason = REASONS[req.reason];
      if (level === undefined) throw new BatonError('ERR_INVALID_ARGUMENT', 'revocation level missing or unknown');
      if (reason === undefined) throw new BatonError('ERR_INVALID_ARGUMENT', 'revocation reason missing or unknown');
      checkRevokePermission(caller, level, reason);
      const target = parseRevocationTarget(level, req.target, ctx.trustDomain);
      const note = freeText(req.note, 1024, 'note');
      const actor = actorOf(caller);
      const out =
        level === 'key'
          ? await revokeKey(ctx, target, reason, actor, note)
          : await revoke(ctx, { level, target, reason, actor, ...(note ? { note } : {}) });
      return { sequence: BigInt(out.entry.seq), expiresAt: BigInt(out.entry.expiresAt) };
    },

    async *watchRevocations(req, call) {
      const events = watchRevocations(
        { db: ctx.db, notifier: ctx.notifier, clock: ctx.clock, keepAliveMs: ctx.keepAliveMs, bufferLimit: ctx.subscriberBufferLimit },
        sequenceFromProto(req.fromSequence),
        AbortSignal.any([call.signal, ctx.closing]),
      );
      for await (const ev of events) yield watchEventToProto(ev);
    },

    async resolveReference(req) {
      if (!REFERENCE.test(req.reference)) throw new BatonError('ERR_TOKEN_REFERENCE_UNKNOWN', 'malformed reference');
      const material = await getReference(ctx.db, req.reference, nowSeconds(ctx.clock) - ctx.leewaySeconds);
      if (!material) throw new BatonError('ERR_TOKEN_REFERENCE_UNKNOWN', 'unknown or expired reference');
      return { delegation: delegationToProto(material) };
    },

    async rotateKeys(req, call) {
      const caller = await auth.keyHolder(req, call);
      if (caller.kind !== 'operator') denied('only operators rotate keys');
      const r = await rotateKeys(ctx, req.emergency, actorOf(caller));
      return { newKid: r.newKid, retiredKid: r.retiredKid, sequence: BigInt(r.sequence) };
    },
  };
}
