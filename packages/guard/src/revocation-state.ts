/**
 * The in-memory revocation view: entries indexed by level and target for O(1) checks,
 * deduplicated by sequence, pruned when everything they cover has expired, and bounded.
 * Pure data structure: the feed ({@link createRevocationFeed}) drives it.
 */
import type { AccessTokenClaims, ErrorCode } from '@baton/core';
import type { RevocationContext } from './plugins.js';

/** What a revocation targets. */
export type RevocationLevelName = 'token' | 'agent' | 'task' | 'workflow' | 'key' | 'hop';

/** Why it was revoked (mirrors the issuer's reasons). */
export type RevocationReasonName = 'unspecified' | 'manual' | 'released' | 'superseded' | 'anomaly' | 'heartbeat' | 'key-compromise' | 'renewed';

/** One revocation as the view keeps it. Times are Unix seconds. */
export interface RevocationRecord {
  readonly sequence: bigint;
  readonly level: RevocationLevelName;
  /** jti, SPIFFE id, `orch/task`, workflow id, kid or hop hash. */
  readonly target: string;
  readonly reason: RevocationReasonName;
  readonly createdAt: number;
  /** After this, everything it covers has expired: the entry is pruned. 0 = never. */
  readonly expiresAt: number;
  /** Tokens with `iat` ≤ this are covered; 0 = every token (always so for key and hop). */
  readonly notAfterIat: number;
}

/** A min-heap of (expiresAt, sequence) so pruning costs O(log n) per entry. */
class ExpiryHeap {
  readonly #a: { t: number; s: bigint }[] = [];
  get size(): number {
    return this.#a.length;
  }
  push(t: number, s: bigint): void {
    const a = this.#a;
    a.push({ t, s });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.t <= a[i]!.t) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  peek(): { t: number; s: bigint } | undefined {
    return this.#a[0];
  }
  pop(): void {
    const a = this.#a;
    const last = a.pop();
    if (a.length === 0 || last === undefined) return;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]!.t < a[m]!.t) m = l;
      if (r < a.length && a[r]!.t < a[m]!.t) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
  }
}

const LEVELS: readonly RevocationLevelName[] = ['token', 'agent', 'task', 'workflow', 'key', 'hop'];

/** A revocation hit: the stable code plus the precise why for the audit log. */
export interface RevocationMatch {
  readonly code: ErrorCode;
  readonly record: RevocationRecord;
}

/** Indexed, bounded, expiry-pruned set of revocation records. */
export class RevocationState {
  readonly #bySeq = new Map<bigint, RevocationRecord>();
  readonly #index = new Map<RevocationLevelName, Map<string, RevocationRecord[]>>(LEVELS.map((l) => [l, new Map()]));
  readonly #expiry = new ExpiryHeap();

  /** Live records held. */
  get size(): number {
    return this.#bySeq.size;
  }

  /** True when the record with this sequence is held. */
  has(sequence: bigint): boolean {
    return this.#bySeq.has(sequence);
  }

  /**
   * Adds a record. Idempotent by sequence (a replayed entry changes nothing); a record
   * already expired at `nowSec` is not stored (it covers only expired tokens).
   * Returns true when it was stored.
   */
  add(r: RevocationRecord, nowSec: number): boolean {
    if (this.#bySeq.has(r.sequence)) return false;
    if (r.expiresAt > 0 && r.expiresAt < nowSec) return false;
    this.#bySeq.set(r.sequence, r);
    const byTarget = this.#index.get(r.level)!;
    const list = byTarget.get(r.target);
    if (list) list.push(r);
    else byTarget.set(r.target, [r]);
    if (r.expiresAt > 0) this.#expiry.push(r.expiresAt, r.sequence);
    return true;
  }

  /** Drops every record whose `expiresAt` is before `nowSec`. Returns how many. */
  prune(nowSec: number): number {
    let n = 0;
    for (let top = this.#expiry.peek(); top !== undefined && top.t < nowSec; top = this.#expiry.peek()) {
      this.#expiry.pop();
      if (this.#remove(top.s)) n++;
    }
    return n;
  }

  #remove(seq: bigint): boolean {
    const r = this.#bySeq.get(seq);
    if (r === undefined) return false;
    this.#bySeq.delete(seq);
    const byTarget = this.#index.get(r.level)!;
    const list = byTarget.get(r.target);
    if (list) {
      const rest = list.filter((x) => x.sequence !== seq);
      if (rest.length === 0) byTarget.delete(r.target);
      else byTarget.set(r.target, rest);
    }
    return true;
  }

  /** The first record revoking the token, preferring a revocation over a release. */
  match(claims: AccessTokenClaims, ctx: RevocationContext | undefined, nowSec: number): RevocationMatch | undefined {
    let released: RevocationMatch | undefined;
    const consider = (level: RevocationLevelName, target: string | undefined, useIat: boolean): RevocationMatch | undefined => {
      if (target === undefined) return undefined;
      const list = this.#index.get(level)!.get(target);
      if (list === undefined) return undefined;
      for (const r of list) {
        if (r.expiresAt > 0 && r.expiresAt < nowSec) continue;
        if (useIat && r.notAfterIat > 0 && claims.iat > r.notAfterIat) continue;
        const m: RevocationMatch = { code: codeFor(r), record: r };
        if (m.code !== 'ERR_TOKEN_RELEASED') return m;
        released ??= m;
      }
      return undefined;
    };
    const hit =
      consider('token', claims.jti, true) ??
      consider('agent', claims.sub, true) ??
      consider('task', `${claims.orch_id}/${claims.task_id}`, true) ??
      consider('workflow', claims.wf, true) ??
      consider('key', ctx?.kid, false) ??
      firstOf(ctx?.hopHashes, (h) => consider('hop', h, false)) ??
      firstOf(ctx?.agents, (a) => consider('agent', a, true));
    return hit ?? released;
  }

  /** Every record, oldest sequence first (for tests and diagnostics). */
  records(): RevocationRecord[] {
    return [...this.#bySeq.values()].sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
  }
}

function firstOf<T, R>(xs: readonly T[] | undefined, f: (x: T) => R | undefined): R | undefined {
  if (xs === undefined) return undefined;
  for (const x of xs) {
    const r = f(x);
    if (r !== undefined) return r;
  }
  return undefined;
}

function codeFor(r: RevocationRecord): ErrorCode {
  if (r.level === 'key') return 'ERR_TOKEN_KEY_REVOKED';
  if (r.level === 'hop') return 'ERR_CHAIN_REVOKED';
  if (r.reason === 'released') return 'ERR_TOKEN_RELEASED';
  return 'ERR_TOKEN_REVOKED';
}

/** `AGENT spiffe://… (superseded, #17)`: the audit-log reason for a match. */
export function describeMatch(m: RevocationMatch): string {
  const r = m.record;
  return `${r.level} ${r.target} revoked (${r.reason}, sequence ${r.sequence})`;
}
