/**
 * The issuer's audit events, shaped for the audit log's validator and sanitizer:
 * snake_case allowlisted attribute keys, who/what/why in action, resource, reasonCode and
 * reasonDetail, free text (operator notes) only in `note` (stored as a keyed hash).
 */
import type { AuditRecord } from '@baton/core';
import type { DelegationMaterial } from './delegation-claims.js';
import type { RevocationLevelName, RevocationReasonName } from './revocation-model.js';

/** Bounds a value for reasonDetail (the log caps that field at 2 KB). */
const short = (s: string, max = 600): string => (s.length > max ? `${s.slice(0, max)}…` : s);

/** Facts every token event carries. */
export interface TokenFacts {
  readonly sub: string;
  readonly taskId: string;
  readonly orchId: string;
  readonly wf: string;
  readonly principal: string;
  readonly jti: string;
  readonly kid: string;
  readonly scope: string;
  readonly ttl: number;
  readonly exp: number;
  readonly tokenBytes: number;
  readonly reference?: string;
  readonly delegation?: DelegationMaterial;
}

function tokenBase(f: TokenFacts): Omit<AuditRecord, 'type' | 'outcome'> {
  return {
    agent: f.sub,
    task: f.taskId,
    orchestration: f.orchId,
    workflow: f.wf,
    principal: f.principal,
    resource: 'access_token',
    tokenBytes: f.tokenBytes,
    ...(f.delegation ? { delegationDepth: f.delegation.depth, chainHash: f.delegation.chainHash, intermediateAgents: f.delegation.actors } : {}),
  };
}

function tokenAttributes(f: TokenFacts): Record<string, string> {
  return {
    jti: f.jti,
    kid: f.kid,
    scope: f.scope,
    ttl_s: String(f.ttl),
    expires_at: String(f.exp),
    ...(f.reference ? { token_ref: f.reference } : {}),
  };
}

/** `token.issued`: who asked for it, and what was granted. */
export function issuedRecord(f: TokenFacts, caller: string): AuditRecord {
  return {
    type: 'token.issued',
    outcome: 'allow',
    ...tokenBase(f),
    action: 'issue',
    reasonDetail: short(`issued at the request of ${caller}`),
    attributes: tokenAttributes(f),
  };
}

/** `token.renewed`: the new token, the one it replaced, and the RENEWED entry. */
export function renewedRecord(f: TokenFacts, previousJti: string, rnw: number, sequence: number): AuditRecord {
  return {
    type: 'token.renewed',
    outcome: 'allow',
    ...tokenBase(f),
    action: 'renew',
    reasonCode: 'revocation.renewed',
    reasonDetail: `renewal ${rnw} replaces ${previousJti} (revocation sequence ${sequence})`,
    attributes: { ...tokenAttributes(f), renewal: String(rnw) },
  };
}

/** What a revocation event records. */
export interface RevocationFacts {
  readonly level: RevocationLevelName;
  readonly target: string;
  readonly reason: RevocationReasonName;
  readonly actor: string;
  readonly note?: string;
  readonly sequence: number;
  readonly expiresAt: number;
  readonly tokensAffected: number;
}

/** `token.revoked` / `token.released`: who revoked what, and why. */
export function revocationRecord(f: RevocationFacts): AuditRecord {
  const task = f.level === 'task' ? f.target.split('/') : undefined;
  const verb = f.reason === 'released' ? 'released' : 'revoked';
  return {
    type: f.reason === 'released' ? 'token.released' : 'token.revoked',
    outcome: 'info',
    ...(f.level === 'agent' ? { agent: f.target } : {}),
    ...(task ? { orchestration: task[0]!, task: task[1]! } : {}),
    ...(f.level === 'workflow' ? { workflow: f.target } : {}),
    action: f.reason === 'released' ? 'release' : 'revoke',
    resource: `revocation:${f.level}`,
    reasonCode: `revocation.${f.reason}`,
    reasonDetail: `${short(f.actor)} ${verb} ${f.level} ${short(f.target)} (${f.reason}): ${f.tokensAffected} tokens, sequence ${f.sequence}`,
    attributes: {
      revocation_kind: f.level,
      expires_at: String(f.expiresAt),
      ...(f.level === 'token' ? { jti: f.target } : {}),
      ...(f.level === 'key' ? { kid: f.target } : {}),
      ...(f.level === 'hop' ? { hop: f.target } : {}),
      ...(f.note ? { note: f.note } : {}),
    },
  };
}

/** `key.rotated`. */
export function rotationRecord(newKid: string, retiredKid: string, emergency: boolean, actor: string, sequence: number): AuditRecord {
  return {
    type: 'key.rotated',
    outcome: 'info',
    action: 'rotate',
    resource: 'signing_key',
    ...(emergency ? { reasonCode: 'revocation.key_compromise' } : {}),
    reasonDetail: `${short(actor)} rotated ${retiredKid} → ${newKid}${emergency ? ` (emergency, revocation sequence ${sequence})` : ''}`,
    attributes: { kid: newKid, key_kind: emergency ? 'emergency' : 'scheduled' },
  };
}
