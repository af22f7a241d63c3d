import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '@baton/authority';
import { openDatabase } from '@baton/store';
import { cleanup, run, runChild, startAuthority, tempDir } from './testing/cli-harness.js';

const cwd = tempDir();
const PG_ADMIN = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
afterAll(() => cleanup(cwd));

describe('baton authority start', () => {
  it('prints the ready line with the bound address, serves, and stops cleanly on SIGTERM', async () => {
    expect((await run(['init', '--listen', '127.0.0.1:0'], { cwd })).code).toBe(0);
    const a = await startAuthority(cwd);
    expect(a.ready.event).toBe('ready');
    expect(a.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(a.address).not.toBe('127.0.0.1:0');
    expect(a.ready.services).toEqual([...DEFAULT_CONFIG.services]);
    expect(a.ready.issuer).toBe('spiffe://baton.local/authority');
    // It really serves: an operator call signed with the init key succeeds.
    const list = await run(['workflow', 'list', '--json', '--authority', a.address], { cwd });
    expect(list.code).toBe(0);
    expect(list.json()).toEqual({ workflows: [] });
    const stopped = await a.stop();
    expect(stopped.code).toBe(0);
    // Exactly one JSON document on stdout.
    expect(stopped.stdout.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(cwd, '.baton', 'baton.db'))).toBe(true);
    expect(fs.statSync(path.join(cwd, '.baton', 'keys', 'signing')).mode & 0o077).toBe(0);
  });

  it('prints a human ready line without --json', async () => {
    const a = await startAuthority(cwd, ['--listen', '127.0.0.1:0']);
    expect(String(a.ready.line)).toMatch(new RegExp(`^authority ready on 127\\.0\\.0\\.1:\\d+ \\(${DEFAULT_CONFIG.services.join(', ')}\\)$`));
    const stopped = await a.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/SIGTERM: stopping/);
  });

  it('fails with ERR_NOT_FOUND and a hint when there is no config', async () => {
    const empty = tempDir();
    try {
      const r = await runChild(['authority', 'start'], { cwd: empty });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ERR_NOT_FOUND/);
      expect(r.stderr).toMatch(/hint: run `baton init` first/);
    } finally {
      cleanup(empty);
    }
  });

  it('refuses a malformed config with its code', async () => {
    const bad = tempDir();
    try {
      fs.mkdirSync(path.join(bad, '.baton'));
      fs.writeFileSync(path.join(bad, '.baton', 'authority.json'), '{"listen":"nowhere"}');
      const r = await runChild(['authority', 'start', '--json'], { cwd: bad });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe('ERR_INVALID_ARGUMENT');
    } finally {
      cleanup(bad);
    }
  });

  it('runs on PostgreSQL with --store (the scale-out mode)', async () => {
    const pg = tempDir();
    const db = `cli_store_${process.pid}_${Date.now() % 100000}`;
    const admin = await openDatabase(PG_ADMIN);
    await admin.exec(`CREATE DATABASE ${db}`);
    try {
      expect((await run(['init', '--listen', '127.0.0.1:0'], { cwd: pg })).code).toBe(0);
      const a = await startAuthority(pg, ['--store', PG_ADMIN.replace(/\/[^/]*$/, `/${db}`)]);
      const created = await run(['workflow', 'create', 'pg-flow', '--scope', 'read:invoices', '--json', '--authority', a.address], { cwd: pg });
      expect(created.code).toBe(0);
      expect((await a.stop()).code).toBe(0);
      // Nothing went to the SQLite file: the workflow lives in PostgreSQL.
      expect(fs.existsSync(path.join(pg, '.baton', 'baton.db'))).toBe(false);
      const rows = await openDatabase(PG_ADMIN.replace(/\/[^/]*$/, `/${db}`));
      const wf = await rows.get<{ n: number }>("SELECT count(*)::int AS n FROM identity_workflows WHERE id = 'pg-flow'");
      await rows.close();
      expect(wf?.n).toBe(1);
    } finally {
      await admin.exec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.close();
      cleanup(pg);
    }
  });

  it('refuses a --store that is neither sqlite: nor postgres://', async () => {
    const r = await runChild(['authority', 'start', '--store', 'mysql://x'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--store must be/);
  });
});
