import type { AuditSink, Clock } from '@baton/core';
import type { Decision, DecisionInfo } from '@baton/guard';
import type { SqlDatabase } from '@baton/store';
import type { KeyRing } from './key-ring.js';
import type { RevocationNotifier } from './revocation-notifier.js';

/** Which Baton service a trusted service key belongs to. */
export type BatonServiceName = 'identity' | 'delegation' | 'audit' | 'anomaly';

/** TTL bounds applied when a request (or workflow policy) leaves one unset (0). */
export interface TokenTtlDefaults {
  /** TTL when neither the request nor the policy asks for one. Default 300 s. */
  readonly defaultTtlSeconds?: number;
  /** Hard ceiling on any token's lifetime, whatever the policy says. Default 3600 s. */
  readonly maxTtlSeconds?: number;
  /** Renewals allowed when the policy sends 0. Default 12 (one hour at 300 s). */
  readonly maxRenewals?: number;
  /** Hard ceiling on renewals, whatever the policy says. Default 1000. */
  readonly maxRenewalsCeiling?: number;
  /** Task lifetime assumed when a request carries no deadline (0). Default 86 400 s. */
  readonly taskLifetimeSeconds?: number;
}

/** Options of {@link createIssuer}. */
export interface IssuerOptions {
  /** Shared store; the issuer keeps its own `issuer_` tables in it. */
  readonly db: SqlDatabase;
  /** Token-signing keys (see `openFileKeyRing`, `memoryKeyRing`). */
  readonly keyRing: KeyRing;
  /** Token `iss`, also the authority audience every token carries, e.g. `spiffe://baton.local/authority`. */
  readonly issuer: string;
  /** Trust domain every subject must belong to, e.g. `baton.local`. */
  readonly trustDomain: string;
  /** Operator key thumbprints (RFC 7638) → operator id. Operators may revoke anything and rotate keys. */
  readonly operators: ReadonlyMap<string, string>;
  /** Trusted Baton service key thumbprints → service name. */
  readonly services: ReadonlyMap<string, BatonServiceName>;
  /** Where credential events go. Default: records nothing. */
  readonly audit?: AuditSink;
  /** Injected time. Default: the system clock. */
  readonly clock?: Clock;
  /** TTL and renewal bounds. */
  readonly tokenTtlDefaults?: TokenTtlDefaults;
  /** Interval between revocation-feed keep-alives. Default 5000 ms. */
  readonly keepAliveMs?: number;
  /** Live entries buffered for one slow subscriber before it is dropped. Default 1024. */
  readonly subscriberBufferLimit?: number;
  /** Interval of the pruning task; 0 disables the timer (call `prune()` yourself). Default 60 000 ms. */
  readonly pruneIntervalMs?: number;
  /**
   * Seconds past `exp` that verifiers still accept a token (their clock leeway). Revocation
   * entries, token rows and retired keys live this much longer. Default 30.
   */
  readonly leewaySeconds?: number;
  /** Encoded-token size above which delegation material goes by reference. Default 4096 bytes. */
  readonly referenceThresholdBytes?: number;
  /** Fan-out of new revocation entries to subscribers. Default: in-process only. */
  readonly notifier?: RevocationNotifier;
  /**
   * Called after every check of an agent's credentials (Renew, Release), e.g. to feed
   * the anomaly engine. Must not throw; never awaited.
   */
  readonly onAgentDecision?: (decision: Decision, info: DecisionInfo) => void;
}

/** The defaults of {@link IssuerOptions}; each is the safe choice. */
export const ISSUER_DEFAULTS = Object.freeze({
  defaultTtlSeconds: 300,
  maxTtlSeconds: 3600,
  maxRenewals: 12,
  maxRenewalsCeiling: 1000,
  taskLifetimeSeconds: 86_400,
  keepAliveMs: 5000,
  subscriberBufferLimit: 1024,
  pruneIntervalMs: 60_000,
  leewaySeconds: 30,
  referenceThresholdBytes: 4096,
});

/** Options after defaults were applied and checked. */
export interface ResolvedTtl {
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly maxRenewals: number;
  readonly maxRenewalsCeiling: number;
  readonly taskLifetimeSeconds: number;
}

function positiveInt(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < (allowZero ? 0 : 1)) throw new TypeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return v;
}

/** Applies defaults to the TTL options and checks they are coherent (TypeError otherwise). */
export function resolveTtlDefaults(t: TokenTtlDefaults = {}): ResolvedTtl {
  const out = {
    defaultTtlSeconds: positiveInt(t.defaultTtlSeconds, ISSUER_DEFAULTS.defaultTtlSeconds, 'defaultTtlSeconds'),
    maxTtlSeconds: positiveInt(t.maxTtlSeconds, ISSUER_DEFAULTS.maxTtlSeconds, 'maxTtlSeconds'),
    maxRenewals: positiveInt(t.maxRenewals, ISSUER_DEFAULTS.maxRenewals, 'maxRenewals', true),
    maxRenewalsCeiling: positiveInt(t.maxRenewalsCeiling, ISSUER_DEFAULTS.maxRenewalsCeiling, 'maxRenewalsCeiling', true),
    taskLifetimeSeconds: positiveInt(t.taskLifetimeSeconds, ISSUER_DEFAULTS.taskLifetimeSeconds, 'taskLifetimeSeconds'),
  };
  if (out.defaultTtlSeconds > out.maxTtlSeconds) throw new TypeError('defaultTtlSeconds must not exceed maxTtlSeconds');
  if (out.maxRenewals > out.maxRenewalsCeiling) throw new TypeError('maxRenewals must not exceed maxRenewalsCeiling');
  return Object.freeze(out);
}

/** Reads an optional numeric option, applying its default and checking it (TypeError). */
export function intOption(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  return positiveInt(value, fallback, name, allowZero);
}
