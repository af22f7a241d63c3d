import type Database from 'better-sqlite3';

/** A writer waiting for the COMMIT of the group it joined. */
interface Member {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** One open `BEGIN IMMEDIATE … COMMIT` shared by every writer that joined it. */
export interface Group {
  readonly members: Member[];
  /** Resolves (never rejects) once the group is committed or has failed. */
  readonly ended: Promise<void>;
  readonly end: () => void;
  /** The macrotask timer asked to close while a transaction was still running. */
  closeRequested: boolean;
}

/** Options of {@link createGroupCommit}. */
export interface GroupCommitOptions {
  /** Writers per group before it commits without waiting for the next macrotask. */
  readonly maxMembers: number;
  /** True while a `transaction(fn)` is running (the group must not commit under it). */
  readonly transactionRunning: () => boolean;
}

/** @internal The group-commit state of one SQLite connection. */
export interface GroupCommit {
  /** The open group, if any: it holds writes that are not committed yet. */
  current(): Group | undefined;
  /** The open group, or a new one (`BEGIN IMMEDIATE`, closed on the next macrotask). */
  open(): Group;
  /**
   * Adds a writer whose statements already ran in `g`; resolves with `value` only after
   * the group's COMMIT returned, rejects if it failed.
   */
  join<T>(g: Group, value: T): Promise<T>;
  /** Commits `g` now unless a transaction is running (then when it ends). */
  requestClose(g: Group): void;
  /** Called when a transaction ends: commits `g` if its close was deferred. */
  transactionEnded(g: Group): void;
  /**
   * The connection left its transaction behind our back (SQLite rolled everything back on
   * an I/O or out-of-space error): every member's writes are gone, so every member fails.
   */
  fail(g: Group, err: unknown): void;
}

/**
 * Group commit for one better-sqlite3 connection in WAL mode with `synchronous = FULL`:
 * writers that arrive while a group is open share its `BEGIN IMMEDIATE … COMMIT`, so one
 * WAL fsync covers all of them. Nobody's promise resolves before that COMMIT returned
 * (an acknowledged write is as durable as before); a failed COMMIT rejects every member.
 * The group closes on the next macrotask (`setImmediate`, after the I/O callbacks of the
 * current loop turn) or when it reaches `maxMembers`.
 */
export function createGroupCommit(db: Database.Database, options: GroupCommitOptions): GroupCommit {
  let group: Group | undefined;

  const settle = (g: Group, err: unknown): void => {
    if (group === g) group = undefined;
    // Members settle in the order they joined, so their continuations run in that order.
    for (const m of g.members.splice(0)) {
      if (err === undefined) m.resolve();
      else m.reject(err);
    }
    g.end();
  };

  const commit = (g: Group): void => {
    if (group !== g) return;
    group = undefined;
    try {
      db.exec('COMMIT');
    } catch (err) {
      // A COMMIT that failed may leave the transaction open (e.g. a deferred constraint):
      // roll it back so the connection is usable and nothing of this group survives.
      if (db.inTransaction) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // the rollback error says nothing more than the commit error
        }
      }
      settle(g, err ?? new Error('COMMIT failed'));
      return;
    }
    settle(g, undefined);
  };

  const self: GroupCommit = {
    current: () => group,
    open() {
      if (group) return group;
      db.exec('BEGIN IMMEDIATE');
      let end!: () => void;
      const ended = new Promise<void>((r) => (end = r));
      const g: Group = { members: [], ended, end, closeRequested: false };
      group = g;
      setImmediate(() => self.requestClose(g));
      return g;
    },
    join<T>(g: Group, value: T): Promise<T> {
      const p = new Promise<T>((resolve, reject) => g.members.push({ resolve: () => resolve(value), reject }));
      if (g.members.length >= options.maxMembers) self.requestClose(g);
      return p;
    },
    requestClose(g) {
      if (group !== g) return;
      if (options.transactionRunning()) g.closeRequested = true;
      else commit(g);
    },
    transactionEnded(g) {
      if (g.closeRequested) commit(g);
    },
    fail(g, err) {
      if (group !== g) return;
      if (db.inTransaction) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // already reported through err
        }
      }
      settle(g, err);
    },
  };
  return self;
}
