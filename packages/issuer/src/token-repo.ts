import type { Scope } from '@baton/core';
import type { SqlDatabase, SqlExecutor } from '@baton/store';
import type { DelegationMaterial } from './delegation-claims.js';

/** Lifecycle of an issued token. */
export type TokenStatus = 'active' | 'renewed' | 'released' | 'revoked';

/** One issued token as the issuer remembers it (enough to renew, introspect and revoke it). */
export interface TokenRecord {
  readonly jti: string;
  readonly sub: string;
  readonly iid: string;
  readonly taskId: string;
  readonly orchId: string;
  readonly wf: string;
  readonly principal: string;
  readonly scopes: readonly Scope[];
  readonly aud: readonly string[];
  readonly cnfJkt: string;
  readonly cnfX5t?: string;
  readonly kid: string;
  readonly iat: number;
  readonly exp: number;
  /** Task deadline (seconds). */
  readonly tdl: number;
  /** Latest exp a renewal may reach besides the deadline (delegated tokens), if any. */
  readonly capExp?: number;
  readonly rnw: number;
  readonly maxRenewals: number;
  readonly defaultTtl: number;
  readonly maxTtl: number;
  readonly status: TokenStatus;
  /** jti of the first token of a renewal line. */
  readonly lineage: string;
  readonly delegation?: DelegationMaterial;
  readonly reference?: string;
}

interface Row {
  jti: string;
  sub: string;
  iid: string;
  task_id: string;
  orch_id: string;
  wf: string;
  principal: string;
  scopes: string;
  aud: string;
  cnf_jkt: string;
  cnf_x5t: string | null;
  kid: string;
  iat: number;
  exp: number;
  tdl: number;
  cap_exp: number | null;
  rnw: number;
  max_renewals: number;
  default_ttl: number;
  max_ttl: number;
  status: string;
  lineage: string;
  delegation: string | null;
  reference: string | null;
}

const COLUMNS =
  'jti, sub, iid, task_id, orch_id, wf, principal, scopes, aud, cnf_jkt, cnf_x5t, kid, iat, exp, tdl, cap_exp, rnw, max_renewals, default_ttl, max_ttl, status, lineage, delegation, reference';

function fromRow(r: Row): TokenRecord {
  return {
    jti: r.jti,
    sub: r.sub,
    iid: r.iid,
    taskId: r.task_id,
    orchId: r.orch_id,
    wf: r.wf,
    principal: r.principal,
    scopes: JSON.parse(r.scopes) as Scope[],
    aud: JSON.parse(r.aud) as string[],
    cnfJkt: r.cnf_jkt,
    ...(r.cnf_x5t ? { cnfX5t: r.cnf_x5t } : {}),
    kid: r.kid,
    iat: Number(r.iat),
    exp: Number(r.exp),
    tdl: Number(r.tdl),
    ...(r.cap_exp !== null ? { capExp: Number(r.cap_exp) } : {}),
    rnw: Number(r.rnw),
    maxRenewals: Number(r.max_renewals),
    defaultTtl: Number(r.default_ttl),
    maxTtl: Number(r.max_ttl),
    status: r.status as TokenStatus,
    lineage: r.lineage,
    ...(r.delegation ? { delegation: JSON.parse(r.delegation) as DelegationMaterial } : {}),
    ...(r.reference ? { reference: r.reference } : {}),
  };
}

/** Records a token (and the hop hashes a HOP revocation may target) inside a transaction. */
export async function insertToken(tx: SqlExecutor, t: TokenRecord, hopHashes: readonly string[]): Promise<void> {
  await tx.run(`INSERT INTO issuer_tokens (${COLUMNS}) VALUES (${COLUMNS.split(',').map(() => '?').join(', ')})`, [
    t.jti,
    t.sub,
    t.iid,
    t.taskId,
    t.orchId,
    t.wf,
    t.principal,
    JSON.stringify(t.scopes),
    JSON.stringify(t.aud),
    t.cnfJkt,
    t.cnfX5t ?? null,
    t.kid,
    t.iat,
    t.exp,
    t.tdl,
    t.capExp ?? null,
    t.rnw,
    t.maxRenewals,
    t.defaultTtl,
    t.maxTtl,
    t.status,
    t.lineage,
    t.delegation ? JSON.stringify(t.delegation) : null,
    t.reference ?? null,
  ]);
  for (const hop of new Set(hopHashes)) await tx.run('INSERT INTO issuer_token_hops (jti, hop) VALUES (?, ?)', [t.jti, hop]);
}

/** A token by jti, or undefined. */
export async function getToken(db: SqlExecutor, jti: string): Promise<TokenRecord | undefined> {
  const row = await db.get<Row>(`SELECT ${COLUMNS} FROM issuer_tokens WHERE jti = ?`, [jti]);
  return row ? fromRow(row) : undefined;
}

/** Hop hashes recorded for a token. */
export async function hopsOfToken(db: SqlExecutor, jti: string): Promise<string[]> {
  return (await db.all<{ hop: string }>('SELECT hop FROM issuer_token_hops WHERE jti = ?', [jti])).map((r) => r.hop);
}

/**
 * Atomically moves one token from `active` to `status`. False when it was not active any
 * more (a concurrent renew/release/revoke won): the single-use guarantee of renewal.
 */
export async function retireToken(tx: SqlExecutor, jti: string, status: Exclude<TokenStatus, 'active'>): Promise<boolean> {
  return (await tx.run("UPDATE issuer_tokens SET status = ? WHERE jti = ? AND status = 'active'", [status, jti])).changes === 1;
}

/** SQL condition (and parameters) selecting the tokens a revocation target covers. */
export function targetCondition(level: 'token' | 'agent' | 'task' | 'hop' | 'workflow' | 'key', target: string): [string, string[]] {
  switch (level) {
    case 'token':
      return ['jti = ?', [target]];
    case 'agent':
      return ['sub = ?', [target]];
    case 'task': {
      const [orch, task] = target.split('/') as [string, string];
      return ['orch_id = ? AND task_id = ?', [orch, task]];
    }
    case 'workflow':
      return ['wf = ?', [target]];
    case 'key':
      return ['kid = ?', [target]];
    case 'hop':
      return ['jti IN (SELECT jti FROM issuer_token_hops WHERE hop = ?)', [target]];
  }
}

/** Latest exp of the tokens a target covers that were issued at or before `notAfterIat`, or 0. */
export async function maxExpCovered(db: SqlExecutor, where: [string, string[]], notAfterIat: number): Promise<number> {
  const r = await db.get<{ m: number | null }>(`SELECT MAX(exp) AS m FROM issuer_tokens WHERE (${where[0]}) AND iat <= ?`, [...where[1], notAfterIat]);
  return r?.m === null || r?.m === undefined ? 0 : Number(r.m);
}

/** Marks every still-active covered token with `status`; returns how many changed. */
export async function retireCovered(tx: SqlExecutor, where: [string, string[]], notAfterIat: number, status: Exclude<TokenStatus, 'active'>): Promise<number> {
  return (await tx.run(`UPDATE issuer_tokens SET status = ? WHERE (${where[0]}) AND iat <= ? AND status = 'active'`, [status, ...where[1], notAfterIat]))
    .changes;
}

/** Latest exp per kid (seeds a key ring after a restart). */
export async function maxExpByKid(db: SqlExecutor): Promise<{ kid: string; exp: number }[]> {
  return (await db.all<{ kid: string; m: number }>('SELECT kid, MAX(exp) AS m FROM issuer_tokens GROUP BY kid')).map((r) => ({ kid: r.kid, exp: Number(r.m) }));
}

/** Deletes token rows (their hop rows cascade) whose exp passed before `cutoff`. */
export async function pruneTokens(db: SqlDatabase, cutoff: number): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.run('DELETE FROM issuer_token_hops WHERE jti IN (SELECT jti FROM issuer_tokens WHERE exp < ?)', [cutoff]);
    return (await tx.run('DELETE FROM issuer_tokens WHERE exp < ?', [cutoff])).changes;
  });
}

/** Number of stored tokens (for tests and metrics). */
export async function countTokens(db: SqlExecutor): Promise<number> {
  const r = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM issuer_tokens');
  return Number(r?.n ?? 0);
}
