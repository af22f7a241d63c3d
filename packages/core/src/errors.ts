/**
 * One coded error type for every untrusted-input failure in Baton, and the one place
 * codes map to a gRPC status and an RFC 7807 problem.
 *
 * Callers see the code and a generic title; the precise reason (`detail`) is for the
 * audit log only and never leaves the process in a response.
 */

/** gRPC status codes (numeric, so this module needs no gRPC dependency). */
export const GrpcStatus = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const);

interface CodeInfo {
  readonly grpc: number;
  readonly http: number;
  readonly title: string;
}

const c = (grpc: number, http: number, title: string): CodeInfo => ({ grpc, http, title });
const S = GrpcStatus;

/** Every stable error code, with its gRPC status, HTTP status and generic title. */
export const ERROR_CODES = Object.freeze({
  // generic
  ERR_INVALID_ARGUMENT: c(S.INVALID_ARGUMENT, 400, 'The request is invalid'),
  ERR_JSON_INVALID: c(S.INVALID_ARGUMENT, 400, 'Malformed JSON'),
  ERR_ID_INVALID: c(S.INVALID_ARGUMENT, 400, 'Malformed identifier'),
  ERR_SPIFFE_ID_INVALID: c(S.INVALID_ARGUMENT, 400, 'Malformed SPIFFE ID'),
  ERR_SCOPE_INVALID: c(S.INVALID_ARGUMENT, 400, 'Malformed scope'),
  ERR_POLICY_INVALID: c(S.INVALID_ARGUMENT, 400, 'Invalid workflow policy'),
  ERR_KEY_INVALID: c(S.INVALID_ARGUMENT, 400, 'Malformed key'),
  ERR_MESSAGE_TOO_LARGE: c(S.RESOURCE_EXHAUSTED, 413, 'Message too large'),
  ERR_METADATA_TOO_LARGE: c(S.RESOURCE_EXHAUSTED, 431, 'Metadata too large'),
  ERR_RATE_LIMITED: c(S.RESOURCE_EXHAUSTED, 429, 'Too many requests'),
  ERR_UNAUTHENTICATED: c(S.UNAUTHENTICATED, 401, 'Authentication required'),
  ERR_PERMISSION_DENIED: c(S.PERMISSION_DENIED, 403, 'Permission denied'),
  ERR_NOT_FOUND: c(S.NOT_FOUND, 404, 'Not found'),
  ERR_ALREADY_EXISTS: c(S.ALREADY_EXISTS, 409, 'Already exists'),
  ERR_INTERNAL: c(S.INTERNAL, 500, 'Internal error'),
  ERR_UNAVAILABLE: c(S.UNAVAILABLE, 503, 'Service unavailable'),
  ERR_DEADLINE_EXCEEDED: c(S.DEADLINE_EXCEEDED, 504, 'Deadline exceeded'),
  ERR_CANCELLED: c(S.CANCELLED, 499, 'Cancelled'),

  // JWS and keys
  ERR_JWS_INVALID: c(S.UNAUTHENTICATED, 401, 'Malformed signed object'),
  ERR_ALG_NOT_ALLOWED: c(S.UNAUTHENTICATED, 401, 'Algorithm not allowed'),

  // access tokens
  ERR_TOKEN_MISSING: c(S.UNAUTHENTICATED, 401, 'Access token required'),
  ERR_TOKEN_MALFORMED: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_SIGNATURE_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_KID_UNKNOWN: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_KEY_REVOKED: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_TYPE_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_ISSUER_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_AUDIENCE_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_CLAIMS_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),
  ERR_TOKEN_EXPIRED: c(S.UNAUTHENTICATED, 401, 'Access token expired'),
  ERR_TOKEN_NOT_YET_VALID: c(S.UNAUTHENTICATED, 401, 'Access token not yet valid'),
  ERR_TOKEN_REVOKED: c(S.UNAUTHENTICATED, 401, 'Access token revoked'),
  ERR_TOKEN_RELEASED: c(S.UNAUTHENTICATED, 401, 'Access token released'),
  ERR_TOKEN_TOO_LARGE: c(S.RESOURCE_EXHAUSTED, 431, 'Access token too large'),
  ERR_TOKEN_REFERENCE_UNKNOWN: c(S.UNAUTHENTICATED, 401, 'Invalid access token'),

  // proof of possession
  ERR_PROOF_MISSING: c(S.UNAUTHENTICATED, 401, 'Proof of possession required'),
  ERR_PROOF_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_PROOF_SIGNATURE_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_PROOF_KEY_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_PROOF_REPLAYED: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_PROOF_METHOD_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_PROOF_STALE: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_PROOF_TOKEN_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_PROOF_REQUEST_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),
  ERR_CERT_BINDING_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Invalid proof of possession'),

  // authorization decisions
  ERR_SCOPE_DENIED: c(S.PERMISSION_DENIED, 403, 'Not permitted by the token scope'),
  ERR_CONSTRAINT_VIOLATED: c(S.PERMISSION_DENIED, 403, 'Request violates a scope constraint'),
  ERR_SCOPE_ESCALATION: c(S.PERMISSION_DENIED, 403, 'Requested authority exceeds what is held'),

  // identity
  ERR_LAUNCH_TOKEN_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid launch token'),
  ERR_LAUNCH_TOKEN_EXPIRED: c(S.UNAUTHENTICATED, 401, 'Invalid launch token'),
  ERR_LAUNCH_TOKEN_REPLAYED: c(S.UNAUTHENTICATED, 401, 'Invalid launch token'),
  ERR_NONCE_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid challenge'),
  ERR_NONCE_EXPIRED: c(S.UNAUTHENTICATED, 401, 'Invalid challenge'),
  ERR_NONCE_REPLAYED: c(S.UNAUTHENTICATED, 401, 'Invalid challenge'),
  ERR_REGISTRATION_SIGNATURE_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid registration proof'),
  ERR_WORKFLOW_NOT_FOUND: c(S.NOT_FOUND, 404, 'Workflow not found'),
  ERR_WORKFLOW_EXISTS: c(S.ALREADY_EXISTS, 409, 'Workflow already exists'),
  ERR_AGENT_NOT_FOUND: c(S.NOT_FOUND, 404, 'Agent not found'),
  ERR_AGENT_SUPERSEDED: c(S.UNAUTHENTICATED, 401, 'Agent instance superseded'),
  ERR_TASK_DEADLINE_PASSED: c(S.FAILED_PRECONDITION, 412, 'Task deadline passed'),
  ERR_RENEWAL_LIMIT: c(S.FAILED_PRECONDITION, 412, 'Renewal limit reached'),
  ERR_NAME_TAKEN: c(S.PERMISSION_DENIED, 403, 'Name is published by another identity'),

  // delegation
  ERR_DELEGATION_DEPTH_EXCEEDED: c(S.PERMISSION_DENIED, 403, 'Delegation depth exceeded'),
  ERR_DELEGATION_TARGET_NOT_ALLOWED: c(S.PERMISSION_DENIED, 403, 'Delegation target not allowed'),
  ERR_DELEGATION_EXPIRY_EXCEEDED: c(S.PERMISSION_DENIED, 403, 'Delegation outlives its parent'),
  ERR_REDELEGATION_NOT_ALLOWED: c(S.PERMISSION_DENIED, 403, 'Re-delegation not allowed'),
  ERR_SELF_DELEGATION: c(S.PERMISSION_DENIED, 403, 'Self-delegation not allowed'),
  ERR_DELEGATEE_UNKNOWN: c(S.NOT_FOUND, 404, 'Delegatee not found'),
  ERR_CHAIN_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid delegation chain'),
  ERR_CHAIN_SIGNATURE_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid delegation chain'),
  ERR_CHAIN_KEY_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Invalid delegation chain'),
  ERR_CHAIN_LINK_BROKEN: c(S.UNAUTHENTICATED, 401, 'Invalid delegation chain'),
  ERR_CHAIN_HASH_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Invalid delegation chain'),
  ERR_CHAIN_CYCLE: c(S.UNAUTHENTICATED, 401, 'Invalid delegation chain'),
  ERR_CHAIN_REVOKED: c(S.UNAUTHENTICATED, 401, 'Delegation chain revoked'),

  // revocation and enforcement
  ERR_REVOCATION_STALE: c(S.UNAVAILABLE, 503, 'Revocation state is stale'),
  ERR_INTROSPECTION_FAILED: c(S.UNAVAILABLE, 503, 'Online check unavailable'),

  // audit
  ERR_AUDIT_EVENT_INVALID: c(S.INVALID_ARGUMENT, 400, 'Invalid audit event'),
  ERR_AUDIT_UNAVAILABLE: c(S.UNAVAILABLE, 503, 'Audit log unavailable'),
  ERR_CHECKPOINT_INVALID: c(S.DATA_LOSS, 422, 'Invalid checkpoint'),
  ERR_MERKLE_PROOF_INVALID: c(S.DATA_LOSS, 422, 'Invalid Merkle proof'),
  ERR_LOG_TAMPERED: c(S.DATA_LOSS, 422, 'Audit log failed verification'),

  // mTLS
  ERR_PEER_CERT_INVALID: c(S.UNAUTHENTICATED, 401, 'Invalid peer certificate'),
  ERR_PEER_IDENTITY_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Peer identity mismatch'),
  ERR_TRUST_DOMAIN_MISMATCH: c(S.UNAUTHENTICATED, 401, 'Peer from another trust domain'),
} satisfies Record<string, CodeInfo>);

/** A stable Baton error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of Baton's stable error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/**
 * Untrusted input failed a check. `code` is stable and safe to show callers; `detail`
 * is the precise why-denied for the audit log and must never be sent to a caller.
 */
export class BatonError extends Error {
  override readonly name = 'BatonError';
  readonly code: ErrorCode;
  /** Precise reason for the audit log, e.g. "hop 2 widened max_amount 10000 → 50000". */
  readonly detail: string;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(ERROR_CODES[code].title, options);
    this.code = code;
    this.detail = detail ?? ERROR_CODES[code].title;
  }
}

/** True when `err` is a {@link BatonError} (also across module copies). */
export function isBatonError(err: unknown): err is BatonError {
  return err instanceof BatonError || (err instanceof Error && err.name === 'BatonError' && isErrorCode((err as { code?: unknown }).code));
}

/** RFC 7807 problem details as Baton sends them to callers. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail?: string;
  readonly instance?: string;
  readonly traceId?: string;
}

/** `ERR_TOKEN_EXPIRED` → `urn:baton:error:token-expired`. */
export function problemType(code: ErrorCode): string {
  return `urn:baton:error:${code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, '-')}`;
}

/** `urn:baton:error:token-expired` → `ERR_TOKEN_EXPIRED`, or undefined if not a Baton type. */
export function codeFromProblemType(type: string): ErrorCode | undefined {
  const m = /^urn:baton:error:([a-z0-9-]+)$/.exec(type);
  if (!m) return undefined;
  const code = `ERR_${m[1]!.toUpperCase().replace(/-/g, '_')}`;
  return isErrorCode(code) ? code : undefined;
}

/**
 * The caller-facing view of any failure: a Baton error keeps its code and generic title;
 * anything else becomes ERR_INTERNAL so no internal message leaks.
 */
export function toProblem(err: unknown, extra?: { instance?: string; traceId?: string }): Problem {
  const code: ErrorCode = isBatonError(err) ? err.code : 'ERR_INTERNAL';
  const info = ERROR_CODES[code];
  return {
    type: problemType(code),
    title: info.title,
    status: info.http,
    code,
    ...(extra?.instance ? { instance: extra.instance } : {}),
    ...(extra?.traceId ? { traceId: extra.traceId } : {}),
  };
}

/** The gRPC status code for a Baton error code. */
export function grpcStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].grpc;
}

/** The HTTP status for a Baton error code. */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].http;
}

/** Fallback code for a gRPC status received without Baton problem details. */
export function codeFromGrpcStatus(status: number): ErrorCode {
  switch (status) {
    case S.INVALID_ARGUMENT:
    case S.OUT_OF_RANGE:
      return 'ERR_INVALID_ARGUMENT';
    case S.DEADLINE_EXCEEDED:
      return 'ERR_DEADLINE_EXCEEDED';
    case S.NOT_FOUND:
      return 'ERR_NOT_FOUND';
    case S.ALREADY_EXISTS:
      return 'ERR_ALREADY_EXISTS';
    case S.PERMISSION_DENIED:
      return 'ERR_PERMISSION_DENIED';
    case S.RESOURCE_EXHAUSTED:
      return 'ERR_MESSAGE_TOO_LARGE';
    case S.UNAUTHENTICATED:
      return 'ERR_UNAUTHENTICATED';
    case S.UNAVAILABLE:
      return 'ERR_UNAVAILABLE';
    case S.CANCELLED:
      return 'ERR_CANCELLED';
    default:
      return 'ERR_INTERNAL';
  }
}
