/**
 * The anomaly rules of a workflow policy: validated when the operator sets them and
 * stored with every field explicit. A rule whose count is 0 is off; all are off unless
 * set, because an automatic revocation the operator did not ask for is an outage.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError } from '@baton/core';
import { AnomalyRulesSchema, type AnomalyRules, type WindowRule } from '@baton/proto/baton/identity/v1/identity_pb.js';

/** "count events within windowSeconds"; count 0 = off. */
export interface StoredWindowRule {
  readonly count: number;
  readonly windowSeconds: number;
}

/** Anomaly rules as identity stores them. */
export interface StoredAnomalyRules {
  /** Scope/constraint denials by one agent instance in a window → revoke the agent. */
  readonly scopeDenials: StoredWindowRule;
  /** Any use of a released token → revoke its task. */
  readonly releasedTokenUse: boolean;
  /** Proof failures for one token in a window → revoke the token. */
  readonly proofFailures: StoredWindowRule;
  /** Requests per minute by one agent instance above this → revoke the agent; 0 = no budget. */
  readonly maxRequestsPerMinute: number;
}

/** Hard limits of anomaly rules. */
export const ANOMALY_RULE_LIMITS = Object.freeze({
  maxCount: 10_000,
  maxWindowSeconds: 86_400,
  maxRequestsPerMinute: 1_000_000,
});

const OFF: StoredWindowRule = Object.freeze({ count: 0, windowSeconds: 0 });

/** Every rule off. */
export const ANOMALY_RULES_OFF: StoredAnomalyRules = Object.freeze({
  scopeDenials: OFF,
  releasedTokenUse: false,
  proofFailures: OFF,
  maxRequestsPerMinute: 0,
});

function invalid(detail: string): BatonError {
  return new BatonError('ERR_POLICY_INVALID', detail);
}

function windowRule(name: string, r: WindowRule | undefined): StoredWindowRule {
  if (!r || r.count === 0) {
    if (r && r.windowSeconds !== 0) throw invalid(`anomaly.${name}: window_seconds without count`);
    return OFF;
  }
  if (r.count > ANOMALY_RULE_LIMITS.maxCount) throw invalid(`anomaly.${name}.count ${r.count} above ${ANOMALY_RULE_LIMITS.maxCount}`);
  if (r.windowSeconds < 1 || r.windowSeconds > ANOMALY_RULE_LIMITS.maxWindowSeconds) {
    throw invalid(`anomaly.${name}.window_seconds ${r.windowSeconds} outside [1, ${ANOMALY_RULE_LIMITS.maxWindowSeconds}]`);
  }
  return { count: r.count, windowSeconds: r.windowSeconds };
}

/** Validates the rules from CreateWorkflow (ERR_POLICY_INVALID) and makes every field explicit. */
export function validateAnomalyRules(rules: AnomalyRules | undefined): StoredAnomalyRules {
  if (!rules) return ANOMALY_RULES_OFF;
  if (rules.maxRequestsPerMinute > ANOMALY_RULE_LIMITS.maxRequestsPerMinute) {
    throw invalid(`anomaly.max_requests_per_minute above ${ANOMALY_RULE_LIMITS.maxRequestsPerMinute}`);
  }
  return {
    scopeDenials: windowRule('scope_denials', rules.scopeDenials),
    releasedTokenUse: rules.releasedTokenUse,
    proofFailures: windowRule('proof_failures', rules.proofFailures),
    maxRequestsPerMinute: rules.maxRequestsPerMinute,
  };
}

/** The stored rules as the protobuf message GetWorkflow returns. */
export function anomalyRulesToProto(r: StoredAnomalyRules): AnomalyRules {
  return create(AnomalyRulesSchema, {
    scopeDenials: { ...r.scopeDenials },
    releasedTokenUse: r.releasedTokenUse,
    proofFailures: { ...r.proofFailures },
    maxRequestsPerMinute: r.maxRequestsPerMinute,
  });
}
