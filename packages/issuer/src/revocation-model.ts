import { BatonError, assertId, b64urlDecode, parseAgentSpiffeId } from '@baton/core';

/** What a revocation entry targets. */
export type RevocationLevelName = 'token' | 'agent' | 'task' | 'hop' | 'workflow' | 'key';

/** Why it was written. `released` and `renewed` are written by the issuer itself only. */
export type RevocationReasonName = 'manual' | 'released' | 'superseded' | 'anomaly' | 'heartbeat' | 'key_compromise' | 'renewed';

/** One revocation entry as stored and streamed. Times are Unix seconds. */
export interface RevocationRecord {
  /** Gap-free, monotonic across replicas. */
  readonly seq: number;
  readonly level: RevocationLevelName;
  readonly target: string;
  readonly reason: RevocationReasonName;
  readonly createdAt: number;
  /** After this, everything the entry covers has expired (leeway included); it is pruned. */
  readonly expiresAt: number;
  /** Tokens issued at or before this instant are covered. */
  readonly notAfterIat: number;
  /** Who wrote it (`operator:<id>`, `service:<name>`, `agent:<spiffe id>`, `issuer`). */
  readonly actor: string;
}

/** Levels in proto enum order (index = enum value). */
export const LEVELS: readonly (RevocationLevelName | undefined)[] = [undefined, 'token', 'agent', 'task', 'hop', 'workflow', 'key'];
/** Reasons in proto enum order (index = enum value). */
export const REASONS: readonly (RevocationReasonName | undefined)[] = [
  undefined,
  'manual',
  'released',
  'superseded',
  'anomaly',
  'heartbeat',
  'key_compromise',
  'renewed',
];

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;
const JTI = /^[A-Za-z0-9_-]{22,64}$/;

function invalid(detail: string, cause?: unknown): never {
  throw new BatonError('ERR_INVALID_ARGUMENT', detail, cause === undefined ? undefined : { cause });
}

function wrap<T>(fn: () => T, detail: string): T {
  try {
    return fn();
  } catch (err) {
    invalid(detail, err);
  }
}

/** True when `s` is an unpadded base64url encoding of exactly 32 bytes (a SHA-256 or thumbprint). */
export function isB64url32(s: unknown): s is string {
  if (typeof s !== 'string' || !B64URL_32.test(s)) return false;
  try {
    return b64urlDecode(s).length === 32;
  } catch {
    return false;
  }
}

/** True when `s` looks like a token id Baton issues (≥ 128 bits, base64url). */
export function isJti(s: unknown): s is string {
  return typeof s === 'string' && JTI.test(s);
}

/**
 * Checks a revocation target for its level and returns its canonical form. Any malformed
 * target is ERR_INVALID_ARGUMENT (whatever the underlying parser said), so callers get
 * one code for "bad target".
 */
export function parseRevocationTarget(level: RevocationLevelName, target: unknown, trustDomain: string): string {
  if (typeof target !== 'string' || target.length === 0 || target.length > 2048) invalid(`empty or oversized ${level} target`);
  switch (level) {
    case 'token':
      if (!isJti(target)) invalid('token target is not a jti');
      return target;
    case 'agent': {
      const id = wrap(() => parseAgentSpiffeId(target), 'agent target is not an agent SPIFFE id');
      if (id.trustDomain !== trustDomain) invalid('agent target from another trust domain');
      return id.uri;
    }
    case 'task': {
      const parts = target.split('/');
      if (parts.length !== 2) invalid('task target must be <orchestration>/<task>');
      return wrap(() => `${assertId('orchestration', parts[0])}/${assertId('task', parts[1])}`, 'task target has a malformed id');
    }
    case 'workflow':
      return wrap(() => assertId('workflow', target), 'workflow target is not a workflow id');
    case 'hop':
      if (!isB64url32(target)) invalid('hop target is not a base64url SHA-256');
      return target;
    case 'key':
      if (!isB64url32(target)) invalid('key target is not a kid (RFC 7638 thumbprint)');
      return target;
  }
}

/** The error a covering entry means for a token holder. */
export function codeForReason(level: RevocationLevelName, reason: RevocationReasonName): 'ERR_TOKEN_KEY_REVOKED' | 'ERR_TOKEN_RELEASED' | 'ERR_TOKEN_REVOKED' {
  if (level === 'key') return 'ERR_TOKEN_KEY_REVOKED';
  return reason === 'released' ? 'ERR_TOKEN_RELEASED' : 'ERR_TOKEN_REVOKED';
}
