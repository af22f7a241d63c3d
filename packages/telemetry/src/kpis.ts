import { metrics } from '@opentelemetry/api';
import type { Counter, Gauge, Histogram, Meter, MeterProvider } from '@opentelemetry/api';

/** Instrumentation scope of the KPI instruments. */
export const KPI_METER_NAME = 'baton';

/** Attributes of a validation decision. */
export interface DecisionAttributes {
  /** `allow` or `deny`. */
  readonly outcome: 'allow' | 'deny';
  /** `ok` for allows, else the stable error code, e.g. `ERR_TOKEN_EXPIRED`. */
  readonly reason: string;
  [key: string]: string;
}

/**
 * The key performance indicators of DESIGN.md §11. Durations and delays are in seconds
 * (OTel convention); Prometheus names get the unit suffix, counters `_total`.
 */
export interface Kpis {
  /** Time to issue an access token (`baton.issuance.duration`, s). */
  readonly issuanceDuration: Histogram;
  /** Guard decisions by `outcome` and `reason` (`baton.validation.decisions`). */
  readonly validationDecisions: Counter<DecisionAttributes>;
  /** Age of the newest revocation state a guard holds (`baton.revocation.staleness`, s). */
  readonly revocationStaleness: Gauge;
  /** Revocation lookups answered from the local cache (`baton.revocation.cache.hits`). */
  readonly revocationCacheHits: Counter;
  /** Revocation lookups that missed the local cache (`baton.revocation.cache.misses`). */
  readonly revocationCacheMisses: Counter;
  /** Tokens or proofs whose times showed clock skew beyond leeway (`baton.clock_skew.detections`). */
  readonly clockSkewDetections: Counter;
  /** Delegation depth of validated or issued tokens (`baton.delegation.depth`). */
  readonly delegationDepth: Histogram;
  /** Revocations triggered by anomaly detection (`baton.anomaly.revocations`). */
  readonly anomalyRevocations: Counter;
  /** Heartbeats an agent failed to send in time (`baton.heartbeat.misses`). */
  readonly heartbeatMisses: Counter;
  /** Time from a revocation to a guard applying it (`baton.revocation.propagation_delay`, s). */
  readonly revocationPropagationDelay: Histogram;
  /** Attempts to reuse a launch token (`baton.launch_token.replays`). */
  readonly launchTokenReplays: Counter;
  /** Audit events waiting in the durable client spool (`baton.audit.spool.depth`). */
  readonly auditSpoolDepth: Gauge;
  /** Audit events the spool could not keep (`baton.audit.spool.overflows`). */
  readonly auditSpoolOverflows: Counter;
  /** Requests accepted as plain bearer tokens where a resource opted in (`baton.bearer_mode.uses`). */
  readonly bearerModeUses: Counter;
}

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const PROPAGATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const DEPTH_BUCKETS = [0, 1, 2, 3, 4, 5];

/** Create the KPI instruments on `meter`. */
export function createKpis(meter: Meter): Kpis {
  return Object.freeze({
    issuanceDuration: meter.createHistogram('baton.issuance.duration', {
      description: 'Time to issue an access token',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    }),
    validationDecisions: meter.createCounter<DecisionAttributes>('baton.validation.decisions', {
      description: 'Validation decisions by outcome and reason',
    }),
    revocationStaleness: meter.createGauge('baton.revocation.staleness', {
      description: 'Age of the newest revocation state held',
      unit: 's',
    }),
    revocationCacheHits: meter.createCounter('baton.revocation.cache.hits', { description: 'Revocation cache hits' }),
    revocationCacheMisses: meter.createCounter('baton.revocation.cache.misses', { description: 'Revocation cache misses' }),
    clockSkewDetections: meter.createCounter('baton.clock_skew.detections', {
      description: 'Clock skew beyond leeway detected in tokens or proofs',
    }),
    delegationDepth: meter.createHistogram('baton.delegation.depth', {
      description: 'Delegation depth of tokens',
      advice: { explicitBucketBoundaries: DEPTH_BUCKETS },
    }),
    anomalyRevocations: meter.createCounter('baton.anomaly.revocations', { description: 'Revocations triggered by anomalies' }),
    heartbeatMisses: meter.createCounter('baton.heartbeat.misses', { description: 'Missed agent heartbeats' }),
    revocationPropagationDelay: meter.createHistogram('baton.revocation.propagation_delay', {
      description: 'Time from revocation to a guard applying it',
      unit: 's',
      advice: { explicitBucketBoundaries: PROPAGATION_BUCKETS_S },
    }),
    launchTokenReplays: meter.createCounter('baton.launch_token.replays', { description: 'Launch token reuse attempts' }),
    auditSpoolDepth: meter.createGauge('baton.audit.spool.depth', { description: 'Audit events waiting in the spool' }),
    auditSpoolOverflows: meter.createCounter('baton.audit.spool.overflows', { description: 'Audit events dropped by a full spool' }),
    bearerModeUses: meter.createCounter('baton.bearer_mode.uses', { description: 'Requests accepted in bearer mode' }),
  });
}

const byProvider = new WeakMap<MeterProvider, Kpis>();

/**
 * The KPI instruments of the globally registered meter provider, created on first use per
 * provider. Call it where you record (not at import time): before `setupMetrics` runs,
 * the global provider is a no-op and so are its instruments.
 *
 * @example
 * ```ts
 * kpis().validationDecisions.add(1, { outcome: 'deny', reason: 'ERR_TOKEN_EXPIRED' });
 * ```
 */
export function kpis(): Kpis {
  return kpisFor(metrics.getMeterProvider());
}

/** The KPI instruments of `provider`, created once per provider. */
export function kpisFor(provider: MeterProvider): Kpis {
  let k = byProvider.get(provider);
  if (!k) {
    k = createKpis(provider.getMeter(KPI_METER_NAME));
    byProvider.set(provider, k);
  }
  return k;
}
