import type { SqlDatabase, SqlExecutor } from '@baton/store';
import type { DelegationMaterial } from './delegation-claims.js';

/**
 * By-reference delegation material: a token that would pass the size threshold carries
 * `del.ref` (128 random bits) instead of its hops, and ResolveReference serves them until
 * the last token using the reference expired.
 */
export async function putReference(tx: SqlExecutor, ref: string, material: DelegationMaterial, exp: number): Promise<void> {
  await tx.run('INSERT INTO issuer_references (ref, delegation, exp) VALUES (?, ?, ?)', [ref, JSON.stringify(material), exp]);
}

/** Keeps a reference alive as long as a renewed token that uses it. */
export async function extendReference(tx: SqlExecutor, ref: string, exp: number): Promise<void> {
  await tx.run('UPDATE issuer_references SET exp = ? WHERE ref = ? AND exp < ?', [exp, ref, exp]);
}

/** The material behind a live reference, or undefined (unknown or expired before `now`). */
export async function getReference(db: SqlExecutor, ref: string, now: number): Promise<DelegationMaterial | undefined> {
  const row = await db.get<{ delegation: string; exp: number }>('SELECT delegation, exp FROM issuer_references WHERE ref = ?', [ref]);
  if (!row || Number(row.exp) < now) return undefined;
  return JSON.parse(row.delegation) as DelegationMaterial;
}

/** Deletes references whose exp passed before `cutoff`. */
export async function pruneReferences(db: SqlDatabase, cutoff: number): Promise<number> {
  return (await db.run('DELETE FROM issuer_references WHERE exp < ?', [cutoff])).changes;
}
