import { BatonError, assertId, parseAgentSpiffeId, scopeKey, type Scope } from '@baton/core';
import { parseDelegationMaterial, type DelegationMaterial } from './delegation-claims.js';
import { isB64url32 } from './revocation-model.js';

/** IssueRequest after proto decoding (scopes already converted with `scopeFromProto`). */
export interface IssueFields {
  readonly subject: string;
  readonly workflowId: string;
  readonly orchestrationId: string;
  readonly taskId: string;
  readonly principal: string;
  readonly scopes: readonly Scope[];
  readonly audiences: readonly string[];
  readonly keyThumbprint: string;
  readonly certificateThumbprint: string;
  readonly requestedTtlSeconds: number;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  /** NumericDate; 0 = none given. */
  readonly taskDeadline: bigint;
  readonly maxRenewals: number;
  readonly instanceId: string;
  readonly delegation?:
    | {
        readonly hops: readonly string[];
        readonly chainHash: string;
        readonly depth: number;
        readonly actors: readonly string[];
        readonly rootTokenHash: string;
        readonly rootJti: string;
      }
    | undefined;
}

/** A checked issue request. */
export interface IssueInput {
  readonly sub: string;
  readonly iid: string;
  readonly wf: string;
  readonly orchId: string;
  readonly taskId: string;
  readonly principal: string;
  readonly scopes: readonly Scope[];
  /** Resource audiences plus the authority audience, deduplicated. */
  readonly aud: readonly string[];
  /** `''` when the token is bound to a certificate only (`x5t` set). */
  readonly jkt: string;
  readonly x5t?: string;
  readonly requestedTtl: number;
  readonly policyDefaultTtl: number;
  readonly policyMaxTtl: number;
  /** NumericDate, 0 = none given. */
  readonly deadline: number;
  /** 0 = policy did not say. */
  readonly maxRenewals: number;
  readonly delegation?: DelegationMaterial;
}

const MAX_SCOPES = 64;
const MAX_AUDIENCES = 15;
// Printable ASCII without spaces: these strings reach claims and logs.
const VISIBLE = /^[\x21-\x7e]+$/;
/** Year 9999, the largest NumericDate accepted. */
const MAX_NUMERIC_DATE = 253_402_300_799n;
const U32_TTL_LIMIT = 10 * 365 * 86_400;

function invalid(detail: string, cause?: unknown): never {
  throw new BatonError('ERR_INVALID_ARGUMENT', detail, cause === undefined ? undefined : { cause });
}

function checkTtl(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0 || v > U32_TTL_LIMIT) invalid(`${name} out of range`);
  return v;
}

/**
 * Validates every field of an IssueRequest from a trusted service: the subject is an agent
 * SPIFFE id in this trust domain whose orchestration, task and instance match the request;
 * ids follow core's rules; 1..64 distinct scopes; 1..15 audiences; `cnf` thumbprints are
 * base64url SHA-256 values; TTLs and the deadline are in range.
 */
export function parseIssueFields(f: IssueFields, trustDomain: string, authorityAudience: string): IssueInput {
  const id = parseAgentSpiffeId(f.subject);
  if (id.trustDomain !== trustDomain) throw new BatonError('ERR_SPIFFE_ID_INVALID', 'subject from another trust domain');
  const wf = assertId('workflow', f.workflowId);
  const orchId = assertId('orchestration', f.orchestrationId);
  const taskId = assertId('task', f.taskId);
  const iid = assertId('instance', f.instanceId);
  if (id.orchestration !== orchId || id.task !== taskId || id.instance !== iid) invalid('subject does not match orchestration, task and instance');
  if (typeof f.principal !== 'string' || f.principal.length > 256 || !VISIBLE.test(f.principal)) invalid('principal malformed');

  if (f.scopes.length === 0 || f.scopes.length > MAX_SCOPES) throw new BatonError('ERR_SCOPE_INVALID', `1..${MAX_SCOPES} scopes required`);
  const seen = new Map<string, Scope>();
  for (const s of f.scopes) seen.set(scopeKey(s), s);

  if (f.audiences.length === 0 || f.audiences.length > MAX_AUDIENCES) invalid(`1..${MAX_AUDIENCES} audiences required`);
  for (const a of f.audiences) if (typeof a !== 'string' || a.length > 256 || !VISIBLE.test(a)) invalid('audience malformed');
  const aud = [...new Set([...f.audiences, authorityAudience])];

  // A certificate-bound token (RFC 8705) may carry no key binding; every token carries one of the two.
  const certOnly = f.keyThumbprint === '' && f.certificateThumbprint !== '';
  if (!certOnly && !isB64url32(f.keyThumbprint)) invalid('key_thumbprint is not an RFC 7638 SHA-256 thumbprint');
  if (f.certificateThumbprint !== '' && !isB64url32(f.certificateThumbprint)) invalid('certificate_thumbprint is not a base64url SHA-256');

  if (f.taskDeadline < 0n || f.taskDeadline > MAX_NUMERIC_DATE) invalid('task_deadline out of range');
  if (!Number.isInteger(f.maxRenewals) || f.maxRenewals < 0) invalid('max_renewals out of range');

  return {
    sub: id.uri,
    iid,
    wf,
    orchId,
    taskId,
    principal: f.principal,
    scopes: [...seen.values()],
    aud,
    jkt: f.keyThumbprint,
    ...(f.certificateThumbprint !== '' ? { x5t: f.certificateThumbprint } : {}),
    requestedTtl: checkTtl(f.requestedTtlSeconds, 'requested_ttl_seconds'),
    policyDefaultTtl: checkTtl(f.defaultTtlSeconds, 'default_ttl_seconds'),
    policyMaxTtl: checkTtl(f.maxTtlSeconds, 'max_ttl_seconds'),
    deadline: Number(f.taskDeadline),
    maxRenewals: f.maxRenewals,
    ...(f.delegation ? { delegation: parseDelegationMaterial(f.delegation) } : {}),
  };
}
