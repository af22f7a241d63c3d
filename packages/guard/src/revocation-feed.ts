/**
 * The guard's revocation view fed by the issuer's WatchRevocations stream: a snapshot,
 * then live entries and keep-alives. Resumes after a disconnect from the last sequence
 * it holds completely, applies replayed or reordered entries idempotently, takes a reset
 * snapshot as the whole state, prunes expired entries, and fails closed
 * (ERR_REVOCATION_STALE) once it has heard nothing for `maxStalenessMs`.
 */
import { randomInt } from 'node:crypto';
import { systemClock, type AccessTokenClaims, type Clock, type ErrorCode } from '@baton/core';
import type { Client } from '@baton/proto';
import { kpis } from '@baton/telemetry';
import type { IssuerService, RevocationEntry, WatchRevocationsResponse } from './issuer-types.js';
import type { RevocationContext, RevocationView } from './plugins.js';
import { revocationRecordOf } from './revocation-record.js';
import { RevocationState, describeMatch, type RevocationRecord } from './revocation-state.js';

/** Options of {@link createRevocationFeed}. */
export interface RevocationFeedOptions {
  /** IssuerService client (WatchRevocations is unauthenticated). */
  readonly client: Client<typeof IssuerService>;
  /** Time source for staleness and expiry. Default the system clock. */
  readonly clock?: Clock;
  /** Past this age without an entry or keep-alive the view fails closed, ms. Default 30 000. */
  readonly maxStalenessMs?: number;
  /** Most live entries held; beyond it the view fails closed. Default 1 000 000. */
  readonly maxEntries?: number;
  /** Reconnect when the stream is silent this long, ms. Default 15 000 (three keep-alives). */
  readonly idleTimeoutMs?: number;
  /** First reconnect delay, ms (doubles up to the max, with jitter). Default 100. */
  readonly minReconnectDelayMs?: number;
  /** Largest reconnect delay, ms. Default 5 000. */
  readonly maxReconnectDelayMs?: number;
  /** Diagnostics: stream errors and ignored malformed entries. Must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** Defaults of {@link RevocationFeedOptions}. */
export const DEFAULT_REVOCATION_FEED_OPTIONS = Object.freeze({
  /** Fail closed after 30 s without news from the issuer. */
  maxStalenessMs: 30_000,
  /** Bounded state: beyond a million live revocations, fail closed rather than forget. */
  maxEntries: 1_000_000,
  /** Three missed keep-alives (5 s apart) mean the stream is dead. */
  idleTimeoutMs: 15_000,
  minReconnectDelayMs: 100,
  maxReconnectDelayMs: 5_000,
});

/** A live revocation view; pass it as the guard's `revocation` option. */
export interface RevocationFeed extends RevocationView {
  /** The precise why-denied for the audit log (stale, overflow or the matching entry). */
  explain(claims: AccessTokenClaims, context?: RevocationContext): string | undefined;
  /** The sequence up to which the view is complete (the resume point). */
  readonly sequence: bigint;
  /** Live entries held. */
  readonly size: number;
  /** Milliseconds since the last entry, keep-alive or snapshot end (Infinity before the first). */
  stalenessMs(): number;
  /** Resolves once the first snapshot is complete; rejects on close or after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops the subscription; the view then goes stale. */
  close(): Promise<void>;
}

/** Reordered entries awaiting their predecessors; past this, resubscribe instead. */
const MAX_PENDING = 100_000;

/**
 * Subscribes to the issuer's revocation stream and keeps a local view.
 *
 * @example
 * const revocation = createRevocationFeed({ client: issuerClient });
 * await revocation.ready(5_000);
 * const guard = createGuard({ ...options, revocation });
 */
export function createRevocationFeed(options: RevocationFeedOptions): RevocationFeed {
  const d = DEFAULT_REVOCATION_FEED_OPTIONS;
  if (typeof options?.client?.watchRevocations !== 'function') throw new TypeError('createRevocationFeed: client must be an IssuerService client');
  const clock = options.clock ?? systemClock;
  const maxStalenessMs = positive(options.maxStalenessMs, d.maxStalenessMs, 'maxStalenessMs');
  const maxEntries = positive(options.maxEntries, d.maxEntries, 'maxEntries');
  const idleTimeoutMs = positive(options.idleTimeoutMs, d.idleTimeoutMs, 'idleTimeoutMs');
  const minDelay = positive(options.minReconnectDelayMs, d.minReconnectDelayMs, 'minReconnectDelayMs');
  const maxDelay = Math.max(minDelay, positive(options.maxReconnectDelayMs, d.maxReconnectDelayMs, 'maxReconnectDelayMs'));
  const report = (err: unknown): void => {
    try {
      options.onError?.(err);
    } catch {
      // diagnostics never break the feed
    }
  };

  let state = new RevocationState();
  /** Reset snapshot being built; the old view serves until it is complete. */
  let shadow: RevocationState | undefined;
  let inSnapshot = false;
  let applied = 0n;
  const pending = new Set<bigint>();
  let synced = false;
  let overflow = false;
  let lastFreshAt = Number.NEGATIVE_INFINITY;
  let lastMessageAt = Number.NEGATIVE_INFINITY;
  let nextPruneAt = 0;
  let closed = false;
  let current: AbortController | undefined;
  let wake: (() => void) | undefined;
  let readyResolve!: () => void;
  let readyReject!: (e: unknown) => void;
  const readyPromise = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  readyPromise.catch(() => undefined);

  const nowSec = (): number => Math.floor(clock.now() / 1000);

  function advance(): void {
    for (const s of pending) if (s <= applied) pending.delete(s);
    while (pending.delete(applied + 1n)) applied++;
  }

  function restart(why: string): void {
    report(new Error(`revocation feed: resubscribing (${why})`));
    current?.abort();
  }

  function onEntry(e: RevocationEntry): void {
    let rec: RevocationRecord;
    try {
      rec = revocationRecordOf(e);
    } catch (err) {
      report(err);
      return;
    }
    const target = shadow ?? state;
    // Applying is idempotent by sequence, and a revocation can only deny more, so a
    // replayed or reordered entry is applied if still live and otherwise ignored.
    if (target.add(rec, nowSec())) {
      try {
        kpis().revocationPropagationDelay.record(Math.max(0, clock.now() / 1000 - rec.createdAt));
      } catch {
        // telemetry never throws into the feed
      }
    }
    if (target.size > maxEntries) overflow = true;
    if (!inSnapshot) {
      if (rec.sequence > applied) pending.add(rec.sequence);
      advance();
      if (pending.size > MAX_PENDING) {
        pending.clear();
        restart('too many out-of-order entries');
      }
      lastFreshAt = clock.now();
    }
  }

  function onMessage(msg: WatchRevocationsResponse): void {
    lastMessageAt = clock.now();
    const ev = msg.event;
    switch (ev.case) {
      case 'entry':
        onEntry(ev.value);
        return;
      case 'snapshotBegin':
        inSnapshot = true;
        shadow = ev.value.reset ? new RevocationState() : undefined;
        return;
      case 'snapshotEnd':
        if (!inSnapshot) return report(new Error('revocation feed: snapshot_end without snapshot_begin'));
        if (shadow !== undefined) {
          // Reset: the server pruned past our resume point; the snapshot is the whole state.
          state = shadow;
          shadow = undefined;
          overflow = state.size > maxEntries;
          applied = ev.value.sequence;
          pending.clear();
        } else if (ev.value.sequence > applied) applied = ev.value.sequence;
        advance();
        inSnapshot = false;
        lastFreshAt = clock.now();
        if (!synced) {
          synced = true;
          readyResolve();
        }
        return;
      case 'keepAlive':
        if (inSnapshot) return;
        // The server sends a keep-alive after every entry up to its sequence.
        if (ev.value.sequence > applied) applied = ev.value.sequence;
        advance();
        lastFreshAt = clock.now();
        return;
      default:
        report(new Error('revocation feed: empty event'));
    }
  }

  async function sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    wake = undefined;
  }

  async function run(): Promise<void> {
    let attempt = 0;
    while (!closed) {
      const ac = new AbortController();
      current = ac;
      try {
        const stream = options.client.watchRevocations({ fromSequence: applied }, { signal: ac.signal });
        for await (const msg of stream) {
          if (closed || ac.signal.aborted) break;
          onMessage(msg);
          if (!inSnapshot && synced) attempt = 0;
        }
      } catch (err) {
        if (!closed && !ac.signal.aborted) report(err);
      } finally {
        ac.abort();
      }
      // An interrupted snapshot is discarded; the resume point did not move.
      shadow = undefined;
      inSnapshot = false;
      if (closed) break;
      const cap = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt, 16));
      attempt++;
      await sleep(cap / 2 + randomInt(Math.max(1, Math.floor(cap / 2))));
    }
  }

  const loop = run();
  const tickMs = Math.max(10, Math.min(1_000, Math.floor(idleTimeoutMs / 4)));
  const ticker = setInterval(() => {
    const now = clock.now();
    if (now - lastMessageAt > idleTimeoutMs && lastMessageAt !== Number.NEGATIVE_INFINITY) {
      lastMessageAt = now;
      restart('stream idle');
    }
    state.prune(nowSec());
    try {
      if (synced) kpis().revocationStaleness.record(Math.max(0, now - lastFreshAt) / 1000);
    } catch {
      // telemetry never throws into the feed
    }
  }, tickMs);
  ticker.unref();

  function staleness(now: number): number {
    return synced ? now - lastFreshAt : Number.POSITIVE_INFINITY;
  }

  function check(claims: AccessTokenClaims, ctx?: RevocationContext): ErrorCode | undefined {
    const now = clock.now();
    if (overflow || staleness(now) > maxStalenessMs) return 'ERR_REVOCATION_STALE';
    const sec = Math.floor(now / 1000);
    if (now >= nextPruneAt) {
      state.prune(sec);
      nextPruneAt = now + 1_000;
    }
    return state.match(claims, ctx, sec)?.code;
  }

  function explain(claims: AccessTokenClaims, ctx?: RevocationContext): string | undefined {
    const now = clock.now();
    if (overflow) return `revocation view holds more than ${maxEntries} entries`;
    const age = staleness(now);
    if (age > maxStalenessMs) return synced ? `revocation view stale: last update ${age} ms ago (max ${maxStalenessMs})` : 'revocation view not yet synchronised';
    const m = state.match(claims, ctx, Math.floor(now / 1000));
    return m === undefined ? undefined : describeMatch(m);
  }

  return {
    check,
    explain,
    get sequence() {
      return applied;
    },
    get size() {
      return state.size;
    },
    stalenessMs: () => staleness(clock.now()),
    ready(timeoutMs?: number): Promise<void> {
      if (timeoutMs === undefined) return readyPromise;
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('revocation feed: not ready in time')), timeoutMs);
        readyPromise.then(
          () => {
            clearTimeout(t);
            resolve();
          },
          (e: unknown) => {
            clearTimeout(t);
            reject(e);
          },
        );
      });
    },
    async close(): Promise<void> {
      if (closed) return loop;
      closed = true;
      clearInterval(ticker);
      current?.abort();
      wake?.();
      readyReject(new Error('revocation feed closed'));
      await loop;
    },
  };
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new TypeError(`createRevocationFeed: ${name} must be a positive number`);
  return v;
}
