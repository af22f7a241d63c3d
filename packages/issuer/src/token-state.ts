import type { AccessTokenClaims, ErrorCode } from '@baton/core';
import type { SqlExecutor } from '@baton/store';
import { codeForReason } from './revocation-model.js';
import { coveringRevocations } from './revocation-repo.js';
import { getToken, hopsOfToken, type TokenRecord } from './token-repo.js';

/** The issuer's own verdict on a signature-verified token. */
export type TokenState = { readonly ok: true; readonly record: TokenRecord } | { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

const SEVERITY: readonly ErrorCode[] = ['ERR_TOKEN_KEY_REVOKED', 'ERR_TOKEN_REVOKED', 'ERR_TOKEN_RELEASED'];

/**
 * Checks a verified token against the issuer's records: it must be one the issuer
 * recorded (same jti, sub and key binding), still `active`, and not covered by any
 * revocation entry at any level. Released tokens report ERR_TOKEN_RELEASED, key
 * revocations ERR_TOKEN_KEY_REVOKED, everything else (renewed, revoked, unknown)
 * ERR_TOKEN_REVOKED.
 */
export async function tokenState(db: SqlExecutor, claims: AccessTokenClaims, kid: string): Promise<TokenState> {
  const record = await getToken(db, claims.jti);
  // A validly signed token without a row was pruned (expired) or never recorded: fail closed.
  if (!record) return { ok: false, code: 'ERR_TOKEN_REVOKED', detail: 'token not on record' };
  if (record.sub !== claims.sub || record.cnfJkt !== (claims.cnf.jkt ?? '') || record.kid !== kid) {
    return { ok: false, code: 'ERR_TOKEN_REVOKED', detail: 'token does not match its record' };
  }
  const hops = record.delegation ? await hopsOfToken(db, record.jti) : [];
  const entries = await coveringRevocations(db, {
    jti: record.jti,
    sub: record.sub,
    orchId: record.orchId,
    taskId: record.taskId,
    wf: record.wf,
    kid: record.kid,
    iat: record.iat,
    hops,
    actors: record.delegation?.actors ?? [],
  });
  const codes = entries.map((e) => codeForReason(e.level, e.reason));
  if (record.status === 'released') codes.push('ERR_TOKEN_RELEASED');
  else if (record.status !== 'active') codes.push('ERR_TOKEN_REVOKED');
  const worst = SEVERITY.find((c) => codes.includes(c as (typeof codes)[number]));
  if (worst) {
    const e = entries[0];
    return { ok: false, code: worst, detail: e ? `${e.level} ${e.reason} entry ${e.seq}` : `token ${record.status}` };
  }
  return { ok: true, record };
}
