// Runs the same suite against both stores: each harness opens stores on one fresh
// database (a temp SQLite file, or a PostgreSQL schema unique to this run).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createPostgresAuditStore } from '../postgres-store.js';
import { createSqliteAuditStore } from '../sqlite-store.js';
import type { AuditStore } from '../store.js';

export interface StoreHarness {
  readonly name: 'sqlite' | 'postgres';
  /** Opens a store (a new connection each time) on this harness's database. */
  open(): Promise<AuditStore>;
  /** Runs raw SQL as someone with direct database access (bypassing the store). */
  raw(sql: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** PostgreSQL connection for tests: PG* variables, else the local trust-auth server. */
export const PG_CONFIG: pg.PoolConfig = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
  ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}),
};

export function sqliteHarness(): StoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'baton-audit-'));
  const path = join(dir, 'audit.db');
  const stores: AuditStore[] = [];
  return {
    name: 'sqlite',
    async open() {
      const s = await createSqliteAuditStore({ path });
      stores.push(s);
      return s;
    },
    async raw(sql) {
      const db = new Database(path);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    async cleanup() {
      for (const s of stores) await s.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresHarness(): StoreHarness {
  const schema = `audit_test_${randomBytes(6).toString('hex')}`;
  const pools: pg.Pool[] = [];
  return {
    name: 'postgres',
    async open() {
      const pool = new pg.Pool({ ...PG_CONFIG, max: 4 });
      pools.push(pool);
      return createPostgresAuditStore({ pool, schema });
    },
    async raw(sql) {
      const c = new pg.Client(PG_CONFIG);
      await c.connect();
      try {
        await c.query(`SET search_path TO "${schema}"`);
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    async cleanup() {
      for (const p of pools) await p.end().catch(() => undefined);
      const c = new pg.Client(PG_CONFIG);
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => c.end());
    },
  };
}

export const HARNESSES: ReadonlyArray<[string, () => StoreHarness]> = [
  ['sqlite', sqliteHarness],
  ['postgres', postgresHarness],
];
