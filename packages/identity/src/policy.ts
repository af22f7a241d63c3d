/**
 * Workflow policy: validation of what an operator sends, with every default applied and
 * stored explicitly, so a later change of defaults never silently changes a workflow.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, isBatonError, parseSpiffeId, scopeKey, type Scope } from '@baton/core';
import { HeartbeatPolicySchema, WorkflowPolicySchema, scopeFromProto, scopeToProto, type ProtoScope, type WorkflowPolicy } from './proto.js';
import { ANOMALY_RULES_OFF, anomalyRulesToProto, validateAnomalyRules, type StoredAnomalyRules } from './anomaly-policy.js';

/** Heartbeat rules of a workflow, defaults applied. */
export interface StoredHeartbeatPolicy {
  readonly intervalSeconds: number;
  readonly missesBeforeFlag: number;
  readonly revokeOnFlag: boolean;
}

/** A workflow policy as identity stores and enforces it (every field explicit). */
export interface StoredPolicy {
  readonly scopeCeiling: readonly Scope[];
  readonly defaultTokenTtlSeconds: number;
  readonly maxTokenTtlSeconds: number;
  readonly maxTaskTtlSeconds: number;
  readonly maxRenewals: number;
  readonly maxDelegationDepth: number;
  readonly allowRedelegation: boolean;
  readonly allowedDelegationTargets: readonly string[];
  readonly heartbeat: StoredHeartbeatPolicy;
  readonly auditFailClosed: boolean;
  readonly audiences: readonly string[];
  /** Automatic revocation rules (every rule off unless the operator set it). */
  readonly anomaly: StoredAnomalyRules;
}

/**
 * Defaults and hard limits of a workflow policy. A field left at 0 takes its default;
 * a value beyond a hard limit is refused with ERR_POLICY_INVALID.
 */
export const POLICY_DEFAULTS = Object.freeze({
  /** Access-token TTL when none is asked for: 300 s (DESIGN.md §2). */
  defaultTokenTtlSeconds: 300,
  /** Longest access-token TTL: 300 s. */
  maxTokenTtlSeconds: 300,
  /** Longest task lifetime: 3600 s. */
  maxTaskTtlSeconds: 3600,
  /** Renewals per token lineage: 100. */
  maxRenewals: 100,
  /** Delegation depth: 5, which is also the hard cap. */
  maxDelegationDepth: 5,
  /** Heartbeat interval: 30 s. */
  heartbeatIntervalSeconds: 30,
  /** Misses before an agent is flagged: 3. */
  missesBeforeFlag: 3,
  /** Whether a delegatee may delegate further: yes, within the depth cap. */
  allowRedelegation: true,
});

/** Hard limits no policy may exceed. */
export const POLICY_LIMITS = Object.freeze({
  maxTokenTtlSeconds: 3600,
  maxTaskTtlSeconds: 7 * 24 * 3600,
  maxRenewals: 1000,
  maxDelegationDepth: 5,
  minHeartbeatIntervalSeconds: 5,
  maxHeartbeatIntervalSeconds: 3600,
  maxMissesBeforeFlag: 100,
  maxScopes: 64,
  maxAudiences: 15,
  maxDelegationTargets: 32,
});

const AUDIENCE_RE = /^[\x21-\x7e]{1,256}$/;

function invalid(detail: string): BatonError {
  return new BatonError('ERR_POLICY_INVALID', detail);
}

function orDefault(value: number, fallback: number): number {
  return value === 0 ? fallback : value;
}

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(`${name} ${value} outside [${min}, ${max}]`);
  return value;
}

/** Validates one audience string (printable ASCII, no spaces, ≤ 256). */
export function assertAudience(value: unknown): string {
  if (typeof value !== 'string' || !AUDIENCE_RE.test(value)) throw new BatonError('ERR_INVALID_ARGUMENT', 'malformed audience');
  return value;
}

function validateAudiences(list: readonly string[]): string[] {
  if (list.length > POLICY_LIMITS.maxAudiences) throw invalid(`more than ${POLICY_LIMITS.maxAudiences} audiences`);
  const out = new Set<string>();
  for (const a of list) {
    if (typeof a !== 'string' || !AUDIENCE_RE.test(a)) throw invalid('malformed audience');
    out.add(a);
  }
  return [...out].sort();
}

function validateTargets(list: readonly string[]): string[] {
  if (list.length > POLICY_LIMITS.maxDelegationTargets) throw invalid('too many delegation targets');
  return list.map((pattern) => {
    // A pattern is a SPIFFE id in which whole segments may be `*`.
    const probe = typeof pattern === 'string' ? pattern.replace(/(?<=\/)\*(?=\/|$)/g, 'x') : pattern;
    try {
      parseSpiffeId(probe);
    } catch {
      throw invalid('malformed delegation target pattern');
    }
    return pattern;
  });
}

/** Parses protobuf scopes, mapping any scope error to `code` (detail keeps the index). */
export function scopesFromProto(list: readonly ProtoScope[], code: 'ERR_POLICY_INVALID' | 'ERR_SCOPE_INVALID'): Scope[] {
  if (list.length > POLICY_LIMITS.maxScopes) throw new BatonError(code, `more than ${POLICY_LIMITS.maxScopes} scopes`);
  const seen = new Set<string>();
  const out: Scope[] = [];
  list.forEach((p, i) => {
    let s: Scope;
    try {
      s = scopeFromProto(p);
    } catch (err) {
      if (isBatonError(err)) throw new BatonError(code, `scope ${i}: ${err.detail}`);
      throw err;
    }
    const k = scopeKey(s);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(s);
    }
  });
  return out;
}

/**
 * Validates a policy from CreateWorkflow and fills in every default. An absent policy
 * is refused: a workflow without a scope ceiling could grant nothing.
 */
export function validatePolicy(policy: WorkflowPolicy | undefined): StoredPolicy {
  if (!policy) throw invalid('policy is required');
  const scopeCeiling = scopesFromProto(policy.scopeCeiling, 'ERR_POLICY_INVALID');
  if (scopeCeiling.length === 0) throw invalid('scope_ceiling is empty');

  const maxTokenTtl = inRange('max_token_ttl_seconds', orDefault(policy.maxTokenTtlSeconds, POLICY_DEFAULTS.maxTokenTtlSeconds), 1, POLICY_LIMITS.maxTokenTtlSeconds);
  // An unset default follows a lowered maximum instead of contradicting it.
  const defaultTokenTtl = inRange(
    'default_token_ttl_seconds',
    orDefault(policy.defaultTokenTtlSeconds, Math.min(POLICY_DEFAULTS.defaultTokenTtlSeconds, maxTokenTtl)),
    1,
    maxTokenTtl,
  );
  const maxTaskTtl = inRange('max_task_ttl_seconds', orDefault(policy.maxTaskTtlSeconds, POLICY_DEFAULTS.maxTaskTtlSeconds), 1, POLICY_LIMITS.maxTaskTtlSeconds);
  const maxRenewals = inRange('max_renewals', orDefault(policy.maxRenewals, POLICY_DEFAULTS.maxRenewals), 1, POLICY_LIMITS.maxRenewals);
  const maxDelegationDepth = inRange(
    'max_delegation_depth',
    orDefault(policy.maxDelegationDepth, POLICY_DEFAULTS.maxDelegationDepth),
    1,
    POLICY_LIMITS.maxDelegationDepth,
  );

  const hb = policy.heartbeat;
  const heartbeat: StoredHeartbeatPolicy = {
    intervalSeconds: inRange(
      'heartbeat.interval_seconds',
      orDefault(hb?.intervalSeconds ?? 0, POLICY_DEFAULTS.heartbeatIntervalSeconds),
      POLICY_LIMITS.minHeartbeatIntervalSeconds,
      POLICY_LIMITS.maxHeartbeatIntervalSeconds,
    ),
    missesBeforeFlag: inRange('heartbeat.misses_before_flag', orDefault(hb?.missesBeforeFlag ?? 0, POLICY_DEFAULTS.missesBeforeFlag), 1, POLICY_LIMITS.maxMissesBeforeFlag),
    revokeOnFlag: hb?.revokeOnFlag ?? false,
  };

  return {
    scopeCeiling,
    defaultTokenTtlSeconds: defaultTokenTtl,
    maxTokenTtlSeconds: maxTokenTtl,
    maxTaskTtlSeconds: maxTaskTtl,
    maxRenewals,
    maxDelegationDepth,
    allowRedelegation: policy.allowRedelegation ?? POLICY_DEFAULTS.allowRedelegation,
    allowedDelegationTargets: validateTargets(policy.allowedDelegationTargets),
    heartbeat,
    auditFailClosed: policy.auditFailClosed,
    audiences: validateAudiences(policy.audiences),
    anomaly: validateAnomalyRules(policy.anomaly),
  };
}

/** The stored policy as the protobuf message returned by GetWorkflow / ListWorkflows. */
export function policyToProto(p: StoredPolicy): WorkflowPolicy {
  return create(WorkflowPolicySchema, {
    scopeCeiling: p.scopeCeiling.map((s) => scopeToProto(s)),
    defaultTokenTtlSeconds: p.defaultTokenTtlSeconds,
    maxTokenTtlSeconds: p.maxTokenTtlSeconds,
    maxTaskTtlSeconds: p.maxTaskTtlSeconds,
    maxRenewals: p.maxRenewals,
    maxDelegationDepth: p.maxDelegationDepth,
    allowRedelegation: p.allowRedelegation,
    allowedDelegationTargets: [...p.allowedDelegationTargets],
    heartbeat: create(HeartbeatPolicySchema, { ...p.heartbeat }),
    auditFailClosed: p.auditFailClosed,
    audiences: [...p.audiences],
    anomaly: anomalyRulesToProto(p.anomaly),
  });
}

/** Serialised form for the database (scopes in their structured form). */
export function policyToJson(p: StoredPolicy): string {
  return JSON.stringify(p);
}

/** Reads a policy written by {@link policyToJson}; the database is trusted. */
export function policyFromJson(text: string): StoredPolicy {
  const p = JSON.parse(text) as Omit<StoredPolicy, 'anomaly'> & { anomaly?: StoredAnomalyRules };
  // Workflows stored before anomaly rules existed have them off.
  return { ...p, anomaly: p.anomaly ?? ANOMALY_RULES_OFF };
}
