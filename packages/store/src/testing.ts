/**
 * Fresh, throwaway databases for service test suites that run against both stores:
 * a SQLite file in its own temp directory, or a PostgreSQL schema of its own on the
 * machine's server (`DATABASE_URL`, default the local `test` database). Test-only; not
 * part of the main entry point.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomId } from '@baton/core';
import type { SqlDatabase } from './database.js';
import { openDatabase } from './open-database.js';

/** The two stores every service suite runs against. */
export const TEST_STORES = ['sqlite', 'postgres'] as const;
export type TestStoreKind = (typeof TEST_STORES)[number];

/** The PostgreSQL server the suites use. */
export const TEST_PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh database and how to remove it. */
export interface TestStore {
  readonly db: SqlDatabase;
  /** The PostgreSQL schema (absent on SQLite). */
  readonly schema?: string;
  cleanup(): Promise<void>;
}

/**
 * Opens a fresh store named after `component` and `label`. SQLite runs with
 * `synchronous = NORMAL` (tests do not need power-loss durability).
 *
 * @example const { db, cleanup } = await openTestStore('sqlite', 'issuer', 'renewal');
 */
export async function openTestStore(kind: TestStoreKind, component: string, label: string, options: { readonly max?: number } = {}): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `baton-${component}-${label}-`));
    const db = await openDatabase(`sqlite:${path.join(dir, `${component}.db`)}`, { synchronous: 'NORMAL' });
    return {
      db,
      async cleanup() {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `${component}_${label}_${process.pid}_${randomId(8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const db = await openDatabase(TEST_PG_URL, { schema, ...(options.max !== undefined ? { max: options.max } : {}) });
  return {
    db,
    schema,
    async cleanup() {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}
