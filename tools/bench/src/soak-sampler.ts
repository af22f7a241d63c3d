/**
 * Periodic readings of the authority during a soak: its RSS (from /proc), the size of its
 * stores on disk (state DB, audit log, spools) and the live rows of each table, read
 * through a read-only connection of the run's own.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { memoryOf } from './soak-authority.js';

/** One reading. */
export interface SoakSample {
  /** Since the start of the load, ms. */
  readonly atMs: number;
  /** The authority's RSS; 0 when it could not be read. */
  readonly rssBytes: number;
  /** Its anonymous part (`RssAnon`: V8 and malloc heaps); 0 when it could not be read. */
  readonly anonBytes: number;
  /** `baton.db` with its WAL. */
  readonly stateBytes: number;
  /** `audit.db` with its WAL. */
  readonly auditBytes: number;
  /** Every service's audit spool. */
  readonly spoolBytes: number;
  /** Live rows per table of the state DB, and `audit_entries`. */
  readonly rows: Readonly<Record<string, number>>;
  /** Successful operations so far. */
  readonly operations: number;
}

function fileBytes(file: string): number {
  let n = 0;
  for (const f of [file, `${file}-wal`]) {
    try {
      n += fs.statSync(f).size;
    } catch {
      // absent (e.g. no WAL right after a checkpoint)
    }
  }
  return n;
}

function dirBytes(dir: string): number {
  let n = 0;
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const d of names) {
    const p = path.join(dir, d.name);
    n += d.isDirectory() ? dirBytes(p) : fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return n;
}

function countRows(file: string, tables?: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    const names =
      tables ??
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%migrations%' ORDER BY name").all() as { name: string }[]).map(
        (r) => r.name,
      );
    for (const t of names) {
      // Table names come from sqlite_master of the run's own database, never from input.
      out[t] = Number((db.prepare(`SELECT COUNT(*) AS n FROM "${t.replace(/"/g, '""')}"`).get() as { n: number }).n);
    }
  } catch {
    // mid-migration or locked: this reading has no row counts
  } finally {
    db?.close();
  }
  return out;
}

/** Takes one reading of the authority with process id `pid` and data in `dataDir`. */
export function sampleAuthority(pid: number, dataDir: string, atMs: number, operations: number): SoakSample {
  const audit = path.join(dataDir, 'audit.db');
  const rows = countRows(path.join(dataDir, 'baton.db'));
  const auditRows = countRows(audit, ['audit_entries']);
  const mem = memoryOf(pid);
  return {
    atMs,
    rssBytes: mem?.rssBytes ?? 0,
    anonBytes: mem?.anonBytes ?? 0,
    stateBytes: fileBytes(path.join(dataDir, 'baton.db')),
    auditBytes: fileBytes(audit),
    spoolBytes: dirBytes(path.join(dataDir, 'spool')),
    rows: { ...rows, ...auditRows },
    operations,
  };
}
