// @baton/anomaly: automatic revocation on anomalies seen by guards and the authority.
// The rules engine, the AnomalyService responder, and the guard-side decision reporter.

// rules and engine (no I/O)
export { anyRuleOn, rulesFromProto } from './rules.js';
export type { AnomalyRuleName, AnomalyRules, WindowRule } from './rules.js';
export { ANOMALY_ENGINE_DEFAULTS, createAnomalyEngine, isProofFailure, isScopeDenial } from './anomaly-engine.js';
export type { AnomalyAction, AnomalyEngine, AnomalyEngineOptions, ObservedDecision, ObservedToken } from './anomaly-engine.js';
export { anomalyRecord } from './anomaly-record.js';

// the responder (authority side)
export { ANOMALY_SERVICE_DEFAULTS, createAnomalyService, kpiAnomalyMeter } from './anomaly-service.js';
export type { Anomaly, AnomalyMeter, AnomalyServiceOptions, ReporterEntry } from './anomaly-service.js';
export { createEvidenceVerifier, confirmsScopeDenial } from './evidence.js';
export type { EvidenceVerifier, EvidenceVerifierOptions, VerifiedEvidence } from './evidence.js';
export { workflowRulesFromIdentity } from './rules-source.js';
export type { WorkflowRulesOptions } from './rules-source.js';
export { issuerRevoker } from './issuer-revoker.js';
export type { IssuerRevokerOptions } from './issuer-revoker.js';

// the reporter (resource-server side)
export { DECISION_REPORTER_DEFAULTS, createDecisionReporter } from './decision-reporter.js';
export type { DecisionReporter, DecisionReporterOptions, DecisionReporterStats } from './decision-reporter.js';
export { requestFromProto, requestToProto } from './reported-request.js';
