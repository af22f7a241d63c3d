/**
 * Registration challenges: 32 random bytes, 30 s, single use, stored only as their
 * SHA-256. GetChallenge is unauthenticated, so the table is bounded: expired rows are
 * pruned, and when the live ones reach the bound new requests are refused instead of
 * growing the table (or evicting live challenges).
 */
import { BatonError, randomBytes, sha256Hex, type Clock } from '@baton/core';
import type { SqlDatabase, SqlExecutor } from '@baton/store';

/** Bytes in a challenge nonce. */
export const NONCE_BYTES = 32;

/** A stored challenge (by hash). */
export interface ChallengeRecord {
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

/** Challenge table access. Internal. */
export interface ChallengeStore {
  /** A fresh nonce and its expiry (ms); ERR_RATE_LIMITED when the table is full of live challenges. */
  issue(): Promise<{ nonce: Buffer; expiresAt: number }>;
  find(hash: string): Promise<ChallengeRecord | undefined>;
  /** Marks the challenge used; true only for the one caller that won. Run inside the registration transaction. */
  consume(tx: SqlExecutor, hash: string, nowMs: number): Promise<boolean>;
  /** Deletes challenges that expired more than `graceMs` ago; returns how many. */
  prune(nowMs: number, graceMs: number): Promise<number>;
}

/** The stored form of a nonce: SHA-256, hex. */
export function nonceHash(nonce: Uint8Array): string {
  return sha256Hex(nonce);
}

/** Creates the challenge store over `db`. */
export function createChallengeStore(db: SqlDatabase, clock: Clock, opts: { ttlSeconds: number; maxOutstanding: number }): ChallengeStore {
  // Estimate of live rows: exact after each prune, +1 per issue. Avoids a COUNT per call.
  let estimate: number | undefined;

  async function recount(nowMs: number): Promise<number> {
    await db.run('DELETE FROM identity_nonces WHERE expires_at <= ?', [nowMs]);
    const row = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM identity_nonces');
    estimate = Number(row?.n ?? 0);
    return estimate;
  }

  return {
    async issue() {
      const now = clock.now();
      if (estimate === undefined || estimate >= opts.maxOutstanding) {
        if ((await recount(now)) >= opts.maxOutstanding) throw new BatonError('ERR_RATE_LIMITED', 'too many outstanding challenges');
      }
      const nonce = randomBytes(NONCE_BYTES);
      const expiresAt = now + opts.ttlSeconds * 1000;
      await db.run('INSERT INTO identity_nonces (hash, expires_at, used_at) VALUES (?, ?, NULL)', [nonceHash(nonce), expiresAt]);
      estimate = (estimate ?? 0) + 1;
      return { nonce, expiresAt };
    },

    async find(hash) {
      const row = await db.get<{ expires_at: number; used_at: number | null }>('SELECT expires_at, used_at FROM identity_nonces WHERE hash = ?', [hash]);
      return row ? { expiresAt: Number(row.expires_at), usedAt: row.used_at === null ? null : Number(row.used_at) } : undefined;
    },

    async consume(tx, hash, nowMs) {
      const r = await tx.run('UPDATE identity_nonces SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?', [nowMs, hash, nowMs]);
      return r.changes === 1;
    },

    async prune(nowMs, graceMs) {
      const r = await db.run('DELETE FROM identity_nonces WHERE expires_at <= ?', [nowMs - graceMs]);
      estimate = undefined;
      return r.changes;
    },
  };
}
