// @baton/guard: the resource-server enforcement point and the caller-authentication
// helpers every Baton service reuses. See README.md.

// the pipeline
export { createGuard } from './create-guard.js';
export type { Guard } from './create-guard.js';
export { DEFAULT_GUARD_OPTIONS } from './guard-options.js';
export type { DecisionMetric, GuardMeter, GuardOptions, ProofMode, ResolvedGuardOptions, RouteOptions } from './guard-options.js';
export type { AllowDecision, Decision, DecisionInfo, DenyDecision, GuardCheckInput } from './decision.js';
export type { ChainInput, ChainResult, ChainVerifier, Introspector, IntrospectionResult, RevocationContext, RevocationView } from './plugins.js';
export { kpiGuardMeter } from './kpi-meter.js';
export { auditDecisions, decisionAuditRecord } from './audit-decisions.js';

// signing keys
export { isWellFormedKid, parseJwks, staticKeys } from './key-source.js';
export type { KeyLookup, KeySource } from './key-source.js';
export { jwksFromIssuer } from './jwks-from-issuer.js';
export type { IssuerKeySource, JwksFromIssuerOptions } from './jwks-from-issuer.js';

// revocation and online checks
export { DEFAULT_REVOCATION_FEED_OPTIONS, createRevocationFeed } from './revocation-feed.js';
export { revocationRecordOf } from './revocation-record.js';
export type { RevocationFeed, RevocationFeedOptions } from './revocation-feed.js';
export { RevocationState, describeMatch } from './revocation-state.js';
export type { RevocationLevelName, RevocationMatch, RevocationReasonName, RevocationRecord } from './revocation-state.js';
export { issuerIntrospector } from './issuer-introspector.js';
export type { IssuerIntrospectorOptions } from './issuer-introspector.js';

// framework bindings
export { authenticateCall, credentialsOf, decisionOf, guardGrpcService, singleMetadataValue } from './guard-grpc.js';
export type { GuardGrpcOptions } from './guard-grpc.js';
export { guardHttp, httpDecisionOf, httpTargetOf, sendProblem } from './guard-http.js';
export type { GuardHttpOptions, HttpMiddleware } from './guard-http.js';

// caller authentication (server and client side)
export { verifyKeyProof } from './key-proof.js';
export type { KeyProofOptions, KeyProofResult } from './key-proof.js';
export { dpopMetadata, keyProofMetadata, methodPathOf } from './proof-metadata.js';
export { keyHolderClient } from './key-holder-client.js';
export type { KeyHolderClientOptions } from './key-holder-client.js';
export type { MethodRef } from './proof-metadata.js';

// utilities
export { LruMap } from './lru.js';
