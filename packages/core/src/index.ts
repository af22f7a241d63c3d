// @baton/core: pure primitives (no I/O). See README.md for the contract.

// errors
export {
  BatonError,
  ERROR_CODES,
  GrpcStatus,
  codeFromGrpcStatus,
  codeFromProblemType,
  grpcStatusOf,
  httpStatusOf,
  isBatonError,
  isErrorCode,
  problemType,
  toProblem,
} from './errors.js';
export type { ErrorCode, Problem } from './errors.js';

// --- core-crypto section: encoding, hashing, randomness, keys, JWS, tokens, proofs, clock ---
export { b64urlDecode, b64urlEncode } from './encoding.js';
export { keyedHash, sha256, sha256B64url, sha256Hex } from './hash.js';
export { randomBytes, randomId, timingSafeEqualStr } from './random.js';
export {
  exportPrivateJwk,
  generateKeyPair,
  importPrivateJwk,
  importPublicJwk,
  jwkThumbprint,
  publicJwkOf,
  publicKeyFromRaw,
  rawPublicKeyOf,
  signBytes,
  verifyBytes,
} from './keys.js';
export type { KeyPair, PublicJwk } from './keys.js';
export { decodeJws, signJws, verifyJws } from './jws.js';
export type { DecodedJws } from './jws.js';
export { ACCESS_TOKEN_TYP, DEFAULT_LEEWAY_SECONDS, checkTokenTimes, parseAccessTokenClaims, scopesOfClaims } from './token.js';
export type { AccessTokenClaims, ActClaim, Cnf, DelegationClaim } from './token.js';
export { PROOF_TYP, createProof, verifyProof } from './pop.js';
export type { VerifiedProof, VerifyProofOptions } from './pop.js';
export { ReplayCache } from './replay-cache.js';
export { manualClock, nowSeconds, systemClock } from './clock.js';
export type { Clock, ManualClock } from './clock.js';

// --- core-scope section: JSON, identifiers, SPIFFE, scope language ---
export { canonicalHash, canonicalJson, parseJsonStrict } from './json.js';
export { assertId } from './ids.js';
export type { IdKind } from './ids.js';
export { agentSpiffeId, formatSpiffeId, matchSpiffePattern, parseAgentSpiffeId, parseSpiffeId } from './spiffe.js';
export type { AgentSpiffeId, SpiffeId } from './spiffe.js';
export {
  checkRequest,
  covers,
  coversAll,
  explainCovers,
  formatScope,
  parseScope,
  parseScopes,
  permits,
  scopeKey,
} from './scope.js';
export type { Constraint, ConstraintValue, Scope, ScopeRequest } from './scope.js';

// delegation hop wire format (signed by the agent SDK, packed by the issuer, verified by @baton/delegation)
export {
  HOP_TYP,
  MAX_HOP_BYTES,
  assembleHop,
  checkHopClaims,
  decodeHop,
  decodeHopScopes,
  encodeHopScopes,
  hopHash,
  signHop,
  thumbprintOfX,
} from './hop.js';
export type { Hop, HopClaims, HopRoot, HopScope } from './hop.js';
export { chainHash, chainStep } from './chain-hash.js';
export { nextHopClaims, rootTaskOf } from './next-hop-claims.js';
export type { NextHopInput } from './next-hop-claims.js';
export { hopContextOf, packHops, unpackHops } from './hop-transport.js';
export type { HopContext, PackedHop } from './hop-transport.js';

// audit contract (implemented by @baton/audit)
export { noopAuditSink } from './audit-sink.js';
export type { AuditOutcome, AuditRecord, AuditSink } from './audit-sink.js';

// registration message (signed by the agent SDK, verified by identity)
export { REGISTRATION_CONTEXT, registrationMessage } from './registration.js';

// authenticated encryption for key material at rest
export { openSealedBytes, sealBytes } from './aead.js';
