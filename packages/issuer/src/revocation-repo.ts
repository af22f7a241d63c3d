import type { SqlDatabase, SqlExecutor } from '@baton/store';
import type { RevocationLevelName, RevocationReasonName, RevocationRecord } from './revocation-model.js';

interface Row {
  seq: number;
  level: string;
  target: string;
  reason: string;
  created_at: number;
  expires_at: number;
  not_after_iat: number;
  actor: string;
}

const COLUMNS = 'seq, level, target, reason, created_at, expires_at, not_after_iat, actor';

function fromRow(r: Row): RevocationRecord {
  return {
    seq: Number(r.seq),
    level: r.level as RevocationLevelName,
    target: r.target,
    reason: r.reason as RevocationReasonName,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    notAfterIat: Number(r.not_after_iat),
    actor: r.actor,
  };
}

/** A revocation entry before it has a sequence. */
export type NewRevocation = Omit<RevocationRecord, 'seq'>;

/**
 * Appends an entry inside the caller's transaction. The sequence comes from incrementing
 * one counter row: the UPDATE row-locks it until commit on PostgreSQL (SQLite transactions
 * are exclusive), so sequences are unique and gap-free across replicas, and a rolled-back
 * transaction gives its number back.
 */
export async function appendRevocation(tx: SqlExecutor, entry: NewRevocation): Promise<RevocationRecord> {
  const row = await tx.get<{ value: number }>("UPDATE issuer_counters SET value = value + 1 WHERE name = 'revocation_seq' RETURNING value");
  if (!row) throw new Error('issuer_counters is not initialised');
  const seq = Number(row.value);
  await tx.run(`INSERT INTO issuer_revocations (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
    seq,
    entry.level,
    entry.target,
    entry.reason,
    entry.createdAt,
    entry.expiresAt,
    entry.notAfterIat,
    entry.actor,
  ]);
  return { seq, ...entry };
}

/** The newest sequence handed out and the highest sequence ever pruned. */
export async function revocationCounters(db: SqlExecutor): Promise<{ newest: number; pruned: number }> {
  const rows = await db.all<{ name: string; value: number }>(
    "SELECT name, value FROM issuer_counters WHERE name IN ('revocation_seq', 'revocation_pruned')",
  );
  const get = (n: string) => Number(rows.find((r) => r.name === n)?.value ?? 0);
  return { newest: get('revocation_seq'), pruned: get('revocation_pruned') };
}

/** Entries with `after < seq <= upTo`, in sequence order, at most `limit`. */
export async function listRevocations(db: SqlExecutor, after: number, upTo: number, limit: number): Promise<RevocationRecord[]> {
  const rows = await db.all<Row>(`SELECT ${COLUMNS} FROM issuer_revocations WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, [after, upTo, limit]);
  return rows.map(fromRow);
}

/** What a token looks like to the revocation table. */
export interface TokenCoordinates {
  readonly jti: string;
  readonly sub: string;
  readonly orchId: string;
  readonly taskId: string;
  readonly wf: string;
  readonly kid: string;
  readonly iat: number;
  readonly hops: readonly string[];
  /** Delegating agents of a delegated token: revoking any of them kills the chain. */
  readonly actors: readonly string[];
}

/** Entries that cover a token (any level), newest first. */
export async function coveringRevocations(db: SqlExecutor, t: TokenCoordinates): Promise<RevocationRecord[]> {
  const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  const hopClause = t.hops.length > 0 ? ` OR (level = 'hop' AND target IN (${list(t.hops.length)}))` : '';
  const actorClause = t.actors.length > 0 ? ` OR (level = 'agent' AND target IN (${list(t.actors.length)}))` : '';
  // KEY and HOP entries cover every token of that kid or chain whatever its iat (as guards
  // apply them): a revoked key or hop must not come back in a later token.
  const rows = await db.all<Row>(
    `SELECT ${COLUMNS} FROM issuer_revocations WHERE (level = 'key' AND target = ?)${hopClause} OR (not_after_iat >= ? AND (
      (level = 'token' AND target = ?) OR (level = 'agent' AND target = ?) OR (level = 'task' AND target = ?)
      OR (level = 'workflow' AND target = ?)${actorClause})) ORDER BY seq DESC`,
    [t.kid, ...t.hops, t.iat, t.jti, t.sub, `${t.orchId}/${t.taskId}`, t.wf, ...t.actors],
  );
  return rows.map(fromRow);
}

/**
 * True when a chain about to be embedded is already dead: one of its hops is revoked, its
 * root token is revoked, or one of its delegating agents was revoked or released. (The
 * delegation service checks this too; the issuer refuses to sign over a dead link anyway.)
 */
export async function chainRevoked(db: SqlExecutor, hops: readonly string[], rootJti: string, actors: readonly string[]): Promise<boolean> {
  const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  const row = await db.get(
    `SELECT seq FROM issuer_revocations WHERE (level = 'hop' AND target IN (${list(hops.length)}))
      OR (level = 'token' AND target = ?) OR (level = 'agent' AND target IN (${list(actors.length)})) LIMIT 1`,
    [...hops, rootJti, ...actors],
  );
  return row !== undefined;
}

/**
 * Deletes entries whose expiry passed before `cutoff` (seconds) and raises the pruned
 * watermark in the same transaction, so a watcher never misses that something it had
 * not seen was dropped. Returns how many entries went.
 */
export async function pruneRevocations(db: SqlDatabase, cutoff: number): Promise<number> {
  return db.transaction(async (tx) => {
    const top = await tx.get<{ m: number | null }>('SELECT MAX(seq) AS m FROM issuer_revocations WHERE expires_at < ?', [cutoff]);
    if (top?.m === null || top?.m === undefined) return 0;
    const greatest = tx.dialect === 'postgres' ? 'GREATEST' : 'MAX';
    await tx.run(`UPDATE issuer_counters SET value = ${greatest}(value, ?) WHERE name = 'revocation_pruned'`, [Number(top.m)]);
    const { changes } = await tx.run('DELETE FROM issuer_revocations WHERE expires_at < ? AND seq <= ?', [cutoff, Number(top.m)]);
    return changes;
  });
}

/** Number of stored entries (for tests and metrics). */
export async function countRevocations(db: SqlExecutor): Promise<number> {
  const r = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM issuer_revocations');
  return Number(r?.n ?? 0);
}
