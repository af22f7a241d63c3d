/**
 * The anomaly responder: AnomalyService.ReportDecisions for guards in resource servers,
 * `ingest` for guards in the authority's own process, the rules engine between them, and
 * the revocation it calls for (reason ANOMALY), each audited as `anomaly.revoked` and
 * counted in `baton.anomaly.revocations`.
 */
import { BatonError, ReplayCache, isErrorCode, noopAuditSink, systemClock, type AuditSink, type Clock } from '@baton/core';
import { verifyKeyProof, type Decision, type DecisionInfo, type KeySource } from '@baton/guard';
import type { ServiceImpl } from '@baton/proto';
import type { AnomalyService } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';
import { kpis } from '@baton/telemetry';
import { anomalyRecord } from './anomaly-record.js';
import { createAnomalyEngine, isScopeDenial, type AnomalyAction, type ObservedDecision } from './anomaly-engine.js';
import { confirmsScopeDenial, createEvidenceVerifier, type VerifiedEvidence } from './evidence.js';
import { requestFromProto } from './reported-request.js';
import type { AnomalyRuleName, AnomalyRules } from './rules.js';

/** A resource server allowed to report, keyed by its key's RFC 7638 thumbprint. */
export interface ReporterEntry {
  /** Name for audit and diagnostics, e.g. `payments`. */
  readonly id: string;
  /** Only tokens addressed to one of these count as its evidence. */
  readonly audiences: readonly string[];
}

/** Options of {@link createAnomalyService}. */
export interface AnomalyServiceOptions {
  /** Expected token `iss` (the authority). */
  readonly issuer: string;
  /** The authority's token-signing keys, to verify evidence tokens (e.g. `jwksFromIssuer`). */
  readonly keys: KeySource;
  /** A workflow's anomaly rules (e.g. `workflowRulesFromIdentity`). */
  readonly rulesFor: (workflowId: string) => AnomalyRules | undefined | Promise<AnomalyRules | undefined>;
  /** Makes the revocation (e.g. `issuerRevoker`). A rejection lets the rule fire again later. */
  readonly revoke: (action: AnomalyAction) => Promise<void>;
  /**
   * Online state of a token: its inactive code (e.g. `ERR_TOKEN_RELEASED`), or undefined
   * when active. Confirms reported uses of released tokens; without it they do not count.
   */
  readonly introspect?: (token: string) => Promise<string | undefined>;
  /** Reporter key thumbprints → reporter. Default: none (only `ingest` feeds the engine). */
  readonly reporters?: ReadonlyMap<string, ReporterEntry>;
  /** Where `anomaly.revoked` goes. Default: records nothing. */
  readonly audit?: AuditSink;
  /** Default the system clock. */
  readonly clock?: Clock;
  /** Decisions one reporter may report per second (burst: twice that). Default 2000. */
  readonly maxDecisionsPerSecond?: number;
  /** Largest batch, in decisions. Default 1000. */
  readonly maxBatchDecisions?: number;
  /** Largest batch, in distinct tokens. Default 200. */
  readonly maxBatchTokens?: number;
  /** Agents and tokens tracked per rule. Default 100 000. */
  readonly maxTrackedKeys?: number;
  /** Counts automatic revocations. Default: the `baton.anomaly.revocations` KPI counter. */
  readonly meter?: AnomalyMeter;
  /** Diagnostics (failed revocations, audit, rule lookups). Must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** Where automatic revocations are counted. Must not throw. */
export interface AnomalyMeter {
  anomalyRevocation(rule: AnomalyRuleName, level: AnomalyAction['level']): void;
}

/** The KPI counter `baton.anomaly.revocations`, by rule and level. */
export const kpiAnomalyMeter: AnomalyMeter = {
  anomalyRevocation(rule, level) {
    kpis().anomalyRevocations.add(1, { rule, level });
  },
};

/** The defaults of {@link AnomalyServiceOptions}. */
export const ANOMALY_SERVICE_DEFAULTS = Object.freeze({
  maxDecisionsPerSecond: 2000,
  maxBatchDecisions: 1000,
  maxBatchTokens: 200,
  /** In-process decisions waiting to be evaluated before new ones are dropped. */
  maxPendingIngest: 10_000,
});

/** A running anomaly responder. */
export interface Anomaly {
  /** AnomalyService handlers (`server.addService(AnomalyService, anomaly.service)`). */
  readonly service: ServiceImpl<typeof AnomalyService>;
  /** Feeds a decision made by a guard in this process (trusted: no evidence needed). Never throws. */
  ingest(decision: Decision, info: DecisionInfo): void;
  /** Resolves once every ingested decision was evaluated and acted on. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || x < 1) throw new TypeError(`createAnomalyService: ${name} must be a positive integer`);
  return x;
}

/**
 * Creates the responder.
 *
 * @example
 * const anomaly = createAnomalyService({
 *   issuer: 'spiffe://baton.local/authority',
 *   keys: jwksFromIssuer(issuerClient),
 *   rulesFor: workflowRulesFromIdentity({ client: identityClient, serviceKey }),
 *   revoke: issuerRevoker({ client: issuerClient, serviceKey }),
 *   introspect: async (token) => (await issuerClient.introspect({ token })).inactiveCode || undefined,
 *   reporters: new Map([[paymentsKeyJkt, { id: 'payments', audiences: ['payments'] }]]),
 * });
 * server.addService(AnomalyService, anomaly.service);
 */
export function createAnomalyService(options: AnomalyServiceOptions): Anomaly {
  if (typeof options?.issuer !== 'string' || options.issuer === '') throw new TypeError('createAnomalyService: issuer required');
  if (typeof options.keys?.key !== 'function') throw new TypeError('createAnomalyService: keys must be a KeySource');
  if (typeof options.revoke !== 'function') throw new TypeError('createAnomalyService: revoke required');
  const d = ANOMALY_SERVICE_DEFAULTS;
  const clock = options.clock ?? systemClock;
  const audit = options.audit ?? noopAuditSink;
  const meter = options.meter ?? kpiAnomalyMeter;
  const reporters = options.reporters ?? new Map<string, ReporterEntry>();
  const perSecond = positive(options.maxDecisionsPerSecond, d.maxDecisionsPerSecond, 'maxDecisionsPerSecond');
  const maxDecisions = positive(options.maxBatchDecisions, d.maxBatchDecisions, 'maxBatchDecisions');
  const maxTokens = positive(options.maxBatchTokens, d.maxBatchTokens, 'maxBatchTokens');
  const engine = createAnomalyEngine({
    rulesFor: options.rulesFor,
    clock,
    ...(options.maxTrackedKeys !== undefined ? { maxTrackedKeys: options.maxTrackedKeys } : {}),
  });
  const verifier = createEvidenceVerifier({ keys: options.keys, issuer: options.issuer, clock });
  const replayCache = new ReplayCache();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const report = (err: unknown): void => {
    try {
      options.onError?.(err);
    } catch {
      // diagnostics never break the responder
    }
  };

  /** Token bucket per reporter: refills `perSecond`, holds at most two seconds' worth. */
  function take(reporter: string, n: number): boolean {
    const now = clock.now();
    const b = buckets.get(reporter) ?? { tokens: perSecond * 2, at: now };
    b.tokens = Math.min(perSecond * 2, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    buckets.set(reporter, b);
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  async function act(action: AnomalyAction, source: string): Promise<boolean> {
    try {
      await options.revoke(action);
    } catch (err) {
      engine.forgetAction(action);
      report(err);
      return false;
    }
    try {
      meter.anomalyRevocation(action.rule, action.level);
    } catch {
      // telemetry never throws into the responder
    }
    await audit.emit(anomalyRecord(action, source)).catch(report);
    return true;
  }

  async function observeAndAct(decision: ObservedDecision, source: string): Promise<number> {
    let n = 0;
    for (const action of await engine.observe(decision)) if (await act(action, source)) n++;
    return n;
  }

  /** Whether a reported use of a released token is confirmed by the token's online state. */
  async function confirmReleased(token: string, ev: VerifiedEvidence): Promise<boolean> {
    const rules = await Promise.resolve(options.rulesFor(ev.claims.wf)).catch(() => undefined);
    // Without the rule it changes nothing, so spend no call on it.
    if (!rules?.releasedTokenUse) return true;
    if (!options.introspect) return false;
    try {
      return (await options.introspect(token)) === 'ERR_TOKEN_RELEASED';
    } catch (err) {
      report(err);
      return false;
    }
  }

  let pending = 0;
  let chain: Promise<void> = Promise.resolve();

  const service: ServiceImpl<typeof AnomalyService> = {
    async reportDecisions(req, call) {
      const { jkt } = verifyKeyProof(call, req, { replayCache, clock });
      const reporter = reporters.get(jkt);
      if (reporter === undefined) throw new BatonError('ERR_PERMISSION_DENIED', `key ${jkt} is not a registered reporter`);
      if (req.tokens.length > maxTokens || req.decisions.length > maxDecisions) {
        throw new BatonError('ERR_INVALID_ARGUMENT', `batch over ${maxDecisions} decisions or ${maxTokens} tokens`);
      }
      if (!take(reporter.id, req.decisions.length)) throw new BatonError('ERR_RATE_LIMITED', `reporter ${reporter.id} over ${perSecond} decisions/s`);
      const evidence = await Promise.all(req.tokens.map((t) => verifier.verify(t, reporter.audiences)));
      const released = new Map<number, Promise<boolean>>();
      let accepted = 0;
      let rejected = 0;
      let revocations = 0;
      for (const dec of req.decisions) {
        const ev = evidence[dec.token];
        const code = dec.code === '' ? undefined : dec.code;
        if (ev === undefined || typeof ev === 'string' || (code !== undefined && !isErrorCode(code))) {
          rejected++;
          continue;
        }
        if (isScopeDenial(code)) {
          const request = requestFromProto(dec.request);
          if (request === undefined || !confirmsScopeDenial(ev.scopes, request)) {
            rejected++;
            continue;
          }
        }
        if (code === 'ERR_TOKEN_RELEASED') {
          let confirmed = released.get(dec.token);
          if (confirmed === undefined) released.set(dec.token, (confirmed = confirmReleased(req.tokens[dec.token]!, ev)));
          if (!(await confirmed)) {
            rejected++;
            continue;
          }
        }
        accepted++;
        revocations += await observeAndAct({ token: ev.claims, code }, `reporter:${reporter.id}`);
      }
      return { accepted, rejected, revocations };
    },
  };

  return {
    service,
    ingest(decision, info) {
      const claims = info?.claims;
      if (claims === undefined) return;
      if (pending >= d.maxPendingIngest) return report(new Error('anomaly: ingest queue full, decision dropped'));
      pending++;
      const observed: ObservedDecision = { token: claims, code: decision.allow ? undefined : decision.code };
      chain = chain
        .then(() => observeAndAct(observed, 'authority'))
        .then(
          () => undefined,
          (err: unknown) => report(err),
        )
        .finally(() => {
          pending--;
        });
    },
    idle: () => chain,
    async close() {
      await chain;
    },
  };
}
