/**
 * Storage of hops and chains. A hop is reserved before the issuer is asked for the child
 * token (its hash is unique, so one signed hop yields at most one child token), completed
 * with the child's jti once issued, and dropped again if issuance failed.
 */
import { BatonError, parseJsonStrict } from '@baton/core';
import type { SqlDatabase, SqlExecutor } from '@baton/store';

/** One recorded hop. Times are NumericDate seconds. */
export interface HopRecord {
  readonly hopHash: string;
  readonly chainHash: string;
  readonly parentChainHash: string;
  readonly depth: number;
  readonly delegator: string;
  readonly delegatee: string;
  readonly principal: string;
  readonly workflow: string;
  /** JSON of the hop's scopes. */
  readonly scopes: string;
  readonly exp: number;
}

/** A chain as GetChain serves it. */
export interface ChainRecord {
  readonly chainHash: string;
  readonly rootTokenHash: string;
  readonly rootJti: string;
  readonly hops: readonly string[];
  readonly depth: number;
  readonly exp: number;
}

/**
 * Records the hop and its chain. ERR_ALREADY_EXISTS when this very hop was recorded
 * before (a signed hop is good for one child token).
 */
export async function reserveHop(db: SqlDatabase, hop: HopRecord, chain: ChainRecord, nowSeconds: number): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await tx.run(
      'INSERT INTO delegation_hops (hop_hash, chain_hash, parent_chain_hash, depth, delegator, delegatee, principal, workflow, scopes, exp, child_jti, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?) ON CONFLICT (hop_hash) DO NOTHING',
      [hop.hopHash, hop.chainHash, hop.parentChainHash, hop.depth, hop.delegator, hop.delegatee, hop.principal, hop.workflow, hop.scopes, hop.exp, nowSeconds],
    );
    if (r.changes !== 1) throw new BatonError('ERR_ALREADY_EXISTS', 'this hop was already used for a delegation');
    await tx.run(
      'INSERT INTO delegation_chains (chain_hash, root_token_hash, root_jti, hops, depth, exp, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chain_hash) DO NOTHING',
      [chain.chainHash, chain.rootTokenHash, chain.rootJti, JSON.stringify(chain.hops), chain.depth, chain.exp, nowSeconds],
    );
  });
}

/** Notes the child token issued for a reserved hop. */
export async function completeHop(db: SqlExecutor, hopHash: string, childJti: string): Promise<void> {
  await db.run('UPDATE delegation_hops SET child_jti = ? WHERE hop_hash = ?', [childJti, hopHash]);
}

/** Drops a reservation whose child token was never issued. */
export async function releaseHop(db: SqlDatabase, hopHash: string, chainHash: string): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await tx.run('DELETE FROM delegation_hops WHERE hop_hash = ? AND child_jti IS NULL', [hopHash]);
    if (r.changes === 1) await tx.run('DELETE FROM delegation_chains WHERE chain_hash = ?', [chainHash]);
  });
}

interface ChainRow {
  chain_hash: string;
  root_token_hash: string;
  root_jti: string;
  hops: string;
  depth: number;
  exp: number;
}

/** The chain with this hash, or undefined. */
export async function findChain(db: SqlExecutor, chainHash: string): Promise<ChainRecord | undefined> {
  const row = await db.get<ChainRow>('SELECT chain_hash, root_token_hash, root_jti, hops, depth, exp FROM delegation_chains WHERE chain_hash = ?', [chainHash]);
  if (!row) return undefined;
  return {
    chainHash: row.chain_hash,
    rootTokenHash: row.root_token_hash,
    rootJti: row.root_jti,
    hops: parseJsonStrict(row.hops) as string[],
    depth: Number(row.depth),
    exp: Number(row.exp),
  };
}

/** The recorded hop with this hash, or undefined. */
export async function findHop(db: SqlExecutor, hopHash: string): Promise<(HopRecord & { childJti: string | null }) | undefined> {
  const r = await db.get<Record<string, string | number | null>>(
    'SELECT hop_hash, chain_hash, parent_chain_hash, depth, delegator, delegatee, principal, workflow, scopes, exp, child_jti FROM delegation_hops WHERE hop_hash = ?',
    [hopHash],
  );
  if (!r) return undefined;
  return {
    hopHash: String(r.hop_hash),
    chainHash: String(r.chain_hash),
    parentChainHash: String(r.parent_chain_hash),
    depth: Number(r.depth),
    delegator: String(r.delegator),
    delegatee: String(r.delegatee),
    principal: String(r.principal),
    workflow: String(r.workflow),
    scopes: String(r.scopes),
    exp: Number(r.exp),
    childJti: r.child_jti === null ? null : String(r.child_jti),
  };
}

/** Deletes chains and hops that expired before `cutoff` (seconds). Returns rows removed. */
export async function pruneExpired(db: SqlDatabase, cutoff: number): Promise<number> {
  return db.transaction(async (tx) => {
    const a = await tx.run('DELETE FROM delegation_hops WHERE exp < ?', [cutoff]);
    const b = await tx.run('DELETE FROM delegation_chains WHERE exp < ?', [cutoff]);
    return a.changes + b.changes;
  });
}
