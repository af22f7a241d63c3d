/**
 * Durable audit appends (DESIGN §10): events through @baton/audit's log (validation,
 * sanitizer with keyed hashes and PII redaction, hash chain, Merkle tree nodes, periodic
 * signed checkpoints) on its SQLite store, against raw better-sqlite3 inserts of the very
 * rows the log stored, into a table with the same schema, in transactions of 100, with
 * the same durability (WAL, synchronous FULL). Both sides write 100 events per commit.
 * PostgreSQL: the same log on the PostgreSQL store, for information, against raw
 * multi-row INSERTs of the same rows.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createAuditLog, createNoteSigner, createPostgresAuditStore, createSanitizer, createSqliteAuditStore, type AuditEventInput, type AuditLog, type AuditStore } from '@baton/audit';
import { generateKeyPair } from '@baton/core';
import { auditEvents } from './audit-events.js';
import { median, row, summarize, type BenchOptions, type BenchRow } from './harness.js';

const BATCH = 100;
const ORIGIN = 'baton.local/audit';
const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function newLog(store: AuditStore): AuditLog {
  return createAuditLog({ store, signer: createNoteSigner(ORIGIN, generateKeyPair()), origin: ORIGIN, sanitizer: createSanitizer({ key: randomBytes(32) }) });
}

/** Appends `events` in batches of 100, one awaited append per batch; rows/s. */
async function appendAll(log: AuditLog, events: readonly AuditEventInput[]): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    const res = await log.append(events.slice(i, i + BATCH));
    if (res.some((r) => r.status !== 'accepted')) throw new Error(`audit log refused an event: ${JSON.stringify(res.find((r) => r.status !== 'accepted'))}`);
  }
  return events.length / ((performance.now() - t) / 1000);
}

/** The DDL of the audit entries table (and its indexes and triggers) in `file`. */
function entriesSchema(file: string): { ddl: string[]; columns: string[]; rows: unknown[][] } {
  const db = new Database(file, { readonly: true });
  try {
    const ddl = db
      .prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_entries' AND sql IS NOT NULL ORDER BY type = 'table' DESC")
      .all()
      .map((r) => r.sql);
    const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('audit_entries')").all().map((r) => r.name);
    const rows = db.prepare<[], unknown[]>(`SELECT ${columns.join(', ')} FROM audit_entries ORDER BY seq`).raw(true).all();
    return { ddl, columns, rows };
  } finally {
    db.close();
  }
}

/** Raw better-sqlite3 over `file`: the same schema, WAL + FULL; `batch(rows)` inserts rows in one transaction. */
function rawSqlite(file: string, schema: ReturnType<typeof entriesSchema>): { batch(rows: unknown[][]): void; close(): void } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  for (const sql of schema.ddl) db.exec(sql);
  const insert = db.prepare(`INSERT INTO audit_entries (${schema.columns.join(', ')}) VALUES (${schema.columns.map(() => '?').join(', ')})`);
  const tx = db.transaction((rows: unknown[][]) => {
    for (const r of rows) insert.run(...r);
  });
  return { batch: (rows) => tx.immediate(rows), close: () => db.close() };
}

async function sqliteRows(quick: boolean, dir: string): Promise<BenchRow> {
  const runs = quick ? 3 : 5;
  const n = quick ? 5000 : 10000;
  let fileNo = 0;
  const fresh = (): string => path.join(dir, `a${fileNo++}.db`);

  // One untimed pass: JIT warm-up, and the stored rows the raw side inserts.
  const seedFile = fresh();
  const seedStore = await createSqliteAuditStore({ path: seedFile });
  const seedLog = newLog(seedStore);
  for (let i = 0; i < n; i += BATCH) await seedLog.append(auditEvents(BATCH, i));
  await seedLog.close();
  await seedStore.close();
  const schema = entriesSchema(seedFile);
  if (schema.rows.length !== n) throw new Error(`seed log holds ${schema.rows.length} rows, expected ${n}`);

  const log: number[] = [];
  const raw: number[] = [];
  const ratio: number[] = [];
  for (let r = 0; r < runs; r++) {
    const events = auditEvents(n, (r + 1) * n);
    const rawDb = rawSqlite(fresh(), schema);
    const store = await createSqliteAuditStore({ path: fresh() });
    const l = newLog(store);
    // Interleaved commits: raw batch, then log batch, so both see the same disk and CPU.
    let rawMs = 0;
    let logMs = 0;
    for (let i = 0; i < n; i += BATCH) {
      let t = performance.now();
      rawDb.batch(schema.rows.slice(i, i + BATCH));
      rawMs += performance.now() - t;
      t = performance.now();
      const res = await l.append(events.slice(i, i + BATCH));
      logMs += performance.now() - t;
      if (res.some((x) => x.status !== 'accepted')) throw new Error(`audit log refused an event: ${JSON.stringify(res.find((x) => x.status !== 'accepted'))}`);
    }
    await l.close();
    await store.close();
    rawDb.close();
    log.push(n / (logMs / 1000));
    raw.push(n / (rawMs / 1000));
    ratio.push(rawMs / logMs);
  }
  return row({
    name: 'audit_append_vs_raw_sqlite', unit: 'rows/s', stats: summarize(log),
    reference: { name: 'raw better-sqlite3 inserts/s (same rows, 100 per tx)', value: summarize(raw).value }, ratio: median(ratio),
    target: '≥ 0.5', meets: (_v, x) => x !== null && x >= 0.5,
    note: `${n} events per run into fresh files, 100 per awaited append (one commit each), interleaved commit by commit with raw transactions of 100 of the rows the log stored for the same event mix; same schema (indexes, triggers), both WAL + synchronous FULL; per-run ratios ${ratio.map((x) => x.toFixed(2)).join(', ')}`,
  });
}

async function postgresRows(quick: boolean): Promise<BenchRow> {
  const runs = quick ? 2 : 3;
  const n = quick ? 3000 : 10000;
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4, connectionTimeoutMillis: 3000 });
  const schemas: string[] = [];
  try {
    await pool.query('SELECT 1');
    const log: number[] = [];
    const raw: number[] = [];
    const ratio: number[] = [];
    for (let r = 0; r <= runs; r++) {
      const schema = `bench_audit_${process.pid}_${r}`;
      schemas.push(schema);
      const store = await createPostgresAuditStore({ pool, schema });
      const l = newLog(store);
      const rate = await appendAll(l, auditEvents(n, r * n));
      await l.close();
      // Raw: the same rows, multi-row INSERTs of 100, into a copy of the table.
      const cols = (await pool.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position', [schema, 'audit_entries'],
      )).rows.map((c) => c.column_name);
      const rows = (await pool.query({ text: `SELECT ${cols.join(', ')} FROM "${schema}".audit_entries ORDER BY seq`, rowMode: 'array' })).rows as unknown[][];
      await pool.query(`CREATE TABLE "${schema}".raw_entries (LIKE "${schema}".audit_entries INCLUDING ALL)`);
      const t = performance.now();
      for (let i = 0; i < rows.length; i += BATCH) {
        const chunk = rows.slice(i, i + BATCH);
        const values = chunk.map((_, k) => `(${cols.map((__, c) => `$${k * cols.length + c + 1}`).join(', ')})`).join(', ');
        await pool.query(`INSERT INTO "${schema}".raw_entries (${cols.join(', ')}) VALUES ${values}`, chunk.flat());
      }
      const rawRate = rows.length / ((performance.now() - t) / 1000);
      if (r === 0) continue; // warm-up pass
      log.push(rate);
      raw.push(rawRate);
      ratio.push(rate / rawRate);
    }
    return row({
      name: 'audit_append_postgres_rows_per_s', unit: 'rows/s', stats: summarize(log),
      reference: { name: 'raw pg multi-row INSERTs/s (same rows, 100 per statement)', value: summarize(raw).value }, ratio: median(ratio),
      note: `for information: ${n} events per run, 100 per append, PostgreSQL on 127.0.0.1 (default durability: fsync on, synchronous_commit on)`,
    });
  } catch (err) {
    return { ...row({ name: 'audit_append_postgres_rows_per_s', unit: 'rows/s', stats: { value: 0, min: 0, max: 0, runs: 0 } }), note: `not measured: PostgreSQL unavailable or failed (${(err as Error).message})` };
  } finally {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

/** Durable audit appends vs raw SQLite; PostgreSQL for information. */
export async function benchAudit({ quick }: BenchOptions): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-audit-'));
  try {
    return [await sqliteRows(quick, dir), await postgresRows(quick)];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
