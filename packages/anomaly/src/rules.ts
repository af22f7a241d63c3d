/**
 * A workflow's anomaly rules as the engine applies them (identity validates and stores
 * them in the workflow policy; the engine reads them through GetWorkflow).
 */
import type { AnomalyRules as ProtoAnomalyRules } from '@baton/proto/baton/identity/v1/identity_pb.js';

/** "count events within windowSeconds"; count 0 = off. */
export interface WindowRule {
  readonly count: number;
  readonly windowSeconds: number;
}

/** The rules of one workflow. */
export interface AnomalyRules {
  /** Scope or constraint denials by one agent instance in a window → revoke the agent. */
  readonly scopeDenials: WindowRule;
  /** Any use of a released token → revoke its task. */
  readonly releasedTokenUse: boolean;
  /** Proof-of-possession failures for one token in a window → revoke the token. */
  readonly proofFailures: WindowRule;
  /** Requests by one agent instance per minute above this → revoke the agent; 0 = no budget. */
  readonly maxRequestsPerMinute: number;
}

/** The rule that fired, named as in audit records and metrics. */
export type AnomalyRuleName = 'scope_denials' | 'released_token_use' | 'proof_failures' | 'request_rate';

const OFF: WindowRule = Object.freeze({ count: 0, windowSeconds: 0 });

function windowOf(r: { count: number; windowSeconds: number } | undefined): WindowRule {
  if (!r || r.count === 0 || r.windowSeconds === 0) return OFF;
  return Object.freeze({ count: r.count, windowSeconds: r.windowSeconds });
}

/** True when at least one rule is on. */
export function anyRuleOn(r: AnomalyRules): boolean {
  return r.scopeDenials.count > 0 || r.releasedTokenUse || r.proofFailures.count > 0 || r.maxRequestsPerMinute > 0;
}

/** The rules in a GetWorkflow response, or undefined when none is on. */
export function rulesFromProto(p: ProtoAnomalyRules | undefined): AnomalyRules | undefined {
  if (!p) return undefined;
  const rules: AnomalyRules = Object.freeze({
    scopeDenials: windowOf(p.scopeDenials),
    releasedTokenUse: p.releasedTokenUse,
    proofFailures: windowOf(p.proofFailures),
    maxRequestsPerMinute: p.maxRequestsPerMinute,
  });
  return anyRuleOn(rules) ? rules : undefined;
}
