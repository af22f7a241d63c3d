import { randomInt } from 'node:crypto';
import pg from 'pg';
import { randomId } from '@baton/core';
import type { SqlExecutor } from '@baton/store';
import type { RevocationRecord } from './revocation-model.js';
import type { RevocationNotifier } from './revocation-notifier.js';
import { listRevocations, revocationCounters } from './revocation-repo.js';

/** Options of {@link postgresRevocationNotifier}. */
export interface PostgresNotifierOptions {
  /** Connection string of the shared database; the notifier keeps one connection of its own for LISTEN. */
  readonly url: string;
  /**
   * The store the entries live in. A notification only says "sequence n was written";
   * the entry itself is read from here, so nothing in a notification is trusted.
   */
  readonly db: SqlExecutor;
  /**
   * Channel. Default `baton_revocations`. Replicas of one deployment must agree;
   * deployments sharing one database (different schemas) must not.
   */
  readonly channel?: string;
  /** First reconnect delay of the LISTEN connection, ms (doubles, with jitter). Default 100. */
  readonly minReconnectDelayMs?: number;
  /** Largest reconnect delay, ms. Default 5000. */
  readonly maxReconnectDelayMs?: number;
  /** Diagnostics (connection errors, failed reads). Must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** A {@link RevocationNotifier} spanning replicas through PostgreSQL LISTEN/NOTIFY. */
export interface PostgresRevocationNotifier extends RevocationNotifier {
  /** Resolves once the LISTEN connection is up the first time. */
  ready(): Promise<void>;
  /** True while the LISTEN connection is up. */
  readonly connected: boolean;
}

/** The defaults of {@link PostgresNotifierOptions}. */
export const POSTGRES_NOTIFIER_DEFAULTS = Object.freeze({
  channel: 'baton_revocations',
  minReconnectDelayMs: 100,
  maxReconnectDelayMs: 5000,
});

const CHANNEL_RE = /^[a-z_][a-z0-9_]{0,62}$/;
/** Entries re-read after the LISTEN connection comes back; older gaps are the watchers' keep-alive's job. */
const CATCH_UP_LIMIT = 1000;

/**
 * Fans revocation entries out to every replica sharing one PostgreSQL database. `publish`
 * delivers to this process's subscribers at once and sends `pg_notify(channel,
 * {"o": origin, "s": sequence})`; other replicas read that entry from the store and
 * deliver it to theirs. Notifications are only hints: an entry that never arrives (a
 * dropped connection) is still delivered by the watchers' keep-alive catch-up, and after
 * a reconnect the notifier re-reads what it may have missed.
 *
 * @example
 * const notifier = postgresRevocationNotifier({ url, db });
 * const issuer = await createIssuer({ ...options, db, notifier });
 */
export function postgresRevocationNotifier(options: PostgresNotifierOptions): PostgresRevocationNotifier {
  const d = POSTGRES_NOTIFIER_DEFAULTS;
  if (typeof options?.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url)) throw new TypeError('postgresRevocationNotifier: url must be a postgres:// URL');
  if (!options.db || typeof options.db.all !== 'function') throw new TypeError('postgresRevocationNotifier: db required');
  const channel = options.channel ?? d.channel;
  if (!CHANNEL_RE.test(channel)) throw new TypeError('postgresRevocationNotifier: channel must be a lower-case SQL identifier');
  const minDelay = options.minReconnectDelayMs ?? d.minReconnectDelayMs;
  const maxDelay = Math.max(minDelay, options.maxReconnectDelayMs ?? d.maxReconnectDelayMs);
  const origin = randomId(16);
  const listeners = new Set<(entry: RevocationRecord) => void>();
  const pending = new Set<number>();
  let highest = 0;
  let fetching = false;
  let closed = false;
  let connected = false;
  let everConnected = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  let readyResolve!: () => void;
  const readyPromise = new Promise<void>((resolve) => (readyResolve = resolve));

  const report = (err: unknown): void => {
    try {
      options.onError?.(err);
    } catch {
      // diagnostics never break the notifier
    }
  };

  function deliver(entry: RevocationRecord): void {
    if (entry.seq > highest) highest = entry.seq;
    for (const listener of [...listeners]) {
      try {
        listener(entry);
      } catch {
        // A broken subscriber must not stop the others.
      }
    }
  }

  async function deliverRange(after: number, upTo: number, limit: number): Promise<void> {
    let cursor = after;
    while (cursor < upTo && limit > 0 && !closed) {
      const page = await listRevocations(options.db, cursor, upTo, Math.min(500, limit));
      if (page.length === 0) return;
      for (const e of page) deliver(e);
      cursor = page[page.length - 1]!.seq;
      limit -= page.length;
    }
  }

  async function drain(): Promise<void> {
    if (fetching) return;
    fetching = true;
    try {
      while (pending.size > 0 && !closed) {
        const seqs = [...pending];
        pending.clear();
        const lo = Math.min(...seqs);
        const hi = Math.max(...seqs);
        await deliverRange(lo - 1, hi, Math.max(hi - lo + 1, 1));
      }
    } catch (err) {
      report(err);
    } finally {
      fetching = false;
    }
  }

  function onNotification(msg: pg.Notification): void {
    if (msg.channel !== channel || typeof msg.payload !== 'string' || msg.payload.length > 256) return;
    let hint: { o?: unknown; s?: unknown };
    try {
      hint = JSON.parse(msg.payload) as typeof hint;
    } catch {
      return;
    }
    if (hint?.o === origin || !Number.isSafeInteger(hint?.s) || (hint.s as number) <= 0) return;
    pending.add(hint.s as number);
    void drain();
  }

  function scheduleReconnect(): void {
    if (closed || retry) return;
    const cap = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt++, 16));
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, cap / 2 + randomInt(Math.max(1, Math.floor(cap / 2))));
    retry.unref();
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({ connectionString: options.url, application_name: 'baton-revocation-listener' });
    client = c;
    const lost = (err?: unknown) => {
      if (client !== c) return;
      connected = false;
      client = undefined;
      if (err !== undefined) report(err);
      c.end().catch(() => undefined);
      scheduleReconnect();
    };
    c.on('notification', onNotification);
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      lost(err);
      return;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    connected = true;
    attempt = 0;
    if (!everConnected) {
      everConnected = true;
      readyResolve();
      return;
    }
    // Whatever other replicas wrote while we were not listening.
    try {
      const { newest } = await revocationCounters(options.db);
      if (newest > highest) await deliverRange(Math.max(highest, newest - CATCH_UP_LIMIT), newest, CATCH_UP_LIMIT);
    } catch (err) {
      report(err);
    }
  }
  void connect();

  return {
    async publish(entry) {
      deliver(entry);
      try {
        await options.db.get('SELECT pg_notify(?, ?)', [channel, JSON.stringify({ o: origin, s: entry.seq })]);
      } catch (err) {
        // Other replicas still get it from their watchers' keep-alive catch-up.
        report(err);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    ready: () => readyPromise,
    get connected() {
      return connected;
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      listeners.clear();
      const c = client;
      client = undefined;
      connected = false;
      await c?.end().catch(() => undefined);
      readyResolve();
    },
  };
}
