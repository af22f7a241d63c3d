/**
 * The audit commands against a real AuditService over gRPC: first @baton/audit's service
 * served in-process over a log the test fills and tampers with (reads authorised for the
 * operator key `baton init` made), then the one `baton authority start` hosts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuditLog,
  createAuditService,
  createNoteSigner,
  createSanitizer,
  createSqliteAuditStore,
  formatVerifierKey,
  keyProofAuthorizer,
  type AuditLog,
} from '@baton/audit';
import { readKeyFile } from '@baton/authority';
import { ReplayCache, generateKeyPair, randomBytes, randomId } from '@baton/core';
import { createServer, type BatonServer } from '@baton/proto';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { openDatabase } from '@baton/store';
import { cleanup, launchToken, registerAgent, run, runChild, startOperator, tempDir, workflowWithOrchestrator, type CliRun, type Operator } from './testing/cli-harness.js';

const ORIGIN = 'baton.test/audit';
const logKey = generateKeyPair();
const LOG_KEY = formatVerifierKey(ORIGIN, logKey.publicKey);
let cwd: string;
let dbFile: string;
let log: AuditLog;
let server: BatonServer;
let env: NodeJS.ProcessEnv;

const baton = (args: readonly string[], stdin?: string): Promise<CliRun> => run(args, { cwd, env, ...(stdin ? { stdin } : {}) });

async function append(n: number, over: Record<string, unknown> = {}): Promise<void> {
  const events = Array.from({ length: n }, () => ({ eventId: randomId(16), time: Date.now(), type: 'token.issued', outcome: 'allow', source: 'issuer', agent: 'spiffe://baton.local/agent/o/t/i1234567890abcdef', task: 't', orchestration: 'o', workflow: 'expense', ...over }));
  const results = await log.append(events);
  expect(results.every((r) => r.status === 'accepted')).toBe(true);
}

beforeAll(async () => {
  cwd = tempDir();
  expect((await run(['init'], { cwd })).code).toBe(0);
  const operator = readKeyFile(path.join(cwd, '.baton', 'keys', 'operator.jwk'));
  dbFile = path.join(cwd, 'audit.db');
  const store = await createSqliteAuditStore({ path: dbFile });
  log = createAuditLog({ store, origin: ORIGIN, signer: createNoteSigner(ORIGIN, logKey), sanitizer: createSanitizer({ key: randomBytes(32) }), checkpointIntervalMs: 0 });
  server = createServer();
  server.addService(AuditService, createAuditService(log, { authorizeRead: keyProofAuthorizer({ isAllowed: (jkt) => jkt === operator.thumbprint, replayCache: new ReplayCache() }), tailPollMs: 50 }));
  const port = await server.listen('127.0.0.1:0');
  env = { BATON_AUTHORITY: `127.0.0.1:${port}` };
  await append(3);
  await append(2, { type: 'validation.denied', outcome: 'deny', reasonCode: 'ERR_SCOPE_DENIED', source: 'guard:payments' });
  await log.checkpoint();
});
afterAll(async () => {
  await server?.shutdown(0);
  await log?.close();
  cleanup(cwd);
});

describe('baton audit query', () => {
  it('lists entries with filters, human and JSON', async () => {
    const all = await baton(['audit', 'query', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const doc = all.json<{ entries: { sequence: number; type: string; outcome: string }[]; truncated: boolean }>();
    expect(doc.entries.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(doc.truncated).toBe(false);
    const denied = (await baton(['audit', 'query', '--outcome', 'deny', '--json'])).json<{ entries: { type: string; reasonCode: string }[] }>();
    expect(denied.entries).toHaveLength(2);
    expect(denied.entries.every((e) => e.type === 'validation.denied' && e.reasonCode === 'ERR_SCOPE_DENIED')).toBe(true);
    const limited = (await baton(['audit', 'query', '--limit', '2', '--json'])).json<{ entries: unknown[]; truncated: boolean }>();
    expect(limited.entries).toHaveLength(2);
    expect(limited.truncated).toBe(true);
    const from = (await baton(['audit', 'query', '--from', '4', '--json'])).json<{ entries: { sequence: number }[] }>();
    expect(from.entries.map((e) => e.sequence)).toEqual([4, 5]);
    const human = await baton(['audit', 'query', '--type', 'validation.denied']);
    expect(human.stdout.split('\n')[0]).toMatch(/^SEQ\s+LOGGED\s+TYPE\s+OUTCOME/);
    expect(human.stdout).toMatch(/^4\s+\S+Z\s+validation\.denied\s+deny\s+.*ERR_SCOPE_DENIED/m);
  });

  it.each([
    [['--outcome', 'maybe'], 'ERR_INVALID_ARGUMENT'],
    [['--since', 'yesterday'], 'ERR_INVALID_ARGUMENT'],
    [['--from', '0'], 'ERR_INVALID_ARGUMENT'],
    [['--trace', 'xyz'], 'ERR_INVALID_ARGUMENT'],
  ])('refuses %j with %s', async (args, code) => {
    const r = await baton(['audit', 'query', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(code);
  });

  it('is operator-only', async () => {
    await run(['orchestrator', 'keygen', '--out', 'other.jwk'], { cwd });
    const r = await baton(['audit', 'query', '--key', 'other.jwk']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_PERMISSION_DENIED');
  });
});

describe('baton audit tail', () => {
  it('prints existing entries from --from as JSON lines and stops at --limit', async () => {
    const r = await baton(['audit', 'tail', '--from', '2', '--limit', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { sequence: number });
    expect(lines.map((l) => l.sequence)).toEqual([2, 3, 4]);
  });

  it('follows new entries as they are appended', async () => {
    const tail = baton(['audit', 'tail', '--type', 'key.rotated', '--limit', '1']);
    await new Promise((r) => setTimeout(r, 300));
    await append(1, { type: 'key.rotated', outcome: 'info', agent: '', task: '', orchestration: '', workflow: '' });
    const r = await tail;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^#\d+\s+\S+Z\s+key\.rotated\s+info\s+issuer/);
  });
});

describe('baton audit verify', () => {
  it('asks the authority to verify its log', async () => {
    const r = await baton(['audit', 'verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, entries: expect.any(Number), rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('verifies a log file offline, with authenticated checkpoints and progress on a terminal', async () => {
    const r = await run(['audit', 'verify', '--file', 'audit.db', '--log-key', LOG_KEY], { cwd, env, stderrIsTTY: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ \d+ entries verified in audit\.db/);
    expect(r.stdout).toMatch(/signatures verified/);
    expect(r.stderr).toMatch(/verified \d+ entries/);
    const wrongKey = await baton(['audit', 'verify', '--file', 'audit.db', '--log-key', formatVerifierKey(ORIGIN, generateKeyPair().publicKey), '--json']);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.json()).toMatchObject({ ok: false, code: 'ERR_CHECKPOINT_INVALID' });
    const badKey = await baton(['audit', 'verify', '--file', 'audit.db', '--log-key', 'nonsense']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('ERR_KEY_INVALID');
    const missing = await baton(['audit', 'verify', '--file', 'nope.db']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERR_NOT_FOUND');
  });

  it('names the first modified entry of a tampered copy', async () => {
    const copy = path.join(cwd, 'tampered.db');
    await log.checkpoint();
    fs.copyFileSync(dbFile, copy);
    for (const ext of ['-wal', '-shm']) if (fs.existsSync(dbFile + ext)) fs.copyFileSync(dbFile + ext, copy + ext);
    const db = await openDatabase(`sqlite:${copy}`);
    await db.exec('DROP TRIGGER audit_entries_no_update');
    await db.run("UPDATE audit_entries SET reason_code = 'ERR_NOTHING' WHERE seq = 4");
    await db.close();
    const r = await baton(['audit', 'verify', '--file', 'tampered.db', '--log-key', LOG_KEY, '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, code: 'ERR_LOG_TAMPERED', firstBad: { sequence: 4, problem: 'modified' } });
    const human = await baton(['audit', 'verify', '--file', 'tampered.db']);
    expect(human.stdout).toMatch(/✗ log verification failed \(ERR_LOG_TAMPERED\)\n {2}first bad entry #4: modified/);
  });
});

describe('baton audit prove', () => {
  it('proves an entry against the signed checkpoint with the log key', async () => {
    const r = await baton(['audit', 'prove', '4', '--log-key', LOG_KEY, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json<{ ok: boolean; checkpointAuthenticated: boolean; entry: { sequence: number; type: string }; proofBytes: number; treeSize: number }>();
    expect(doc).toMatchObject({ ok: true, checkpointAuthenticated: true, entry: { sequence: 4, type: 'validation.denied' } });
    expect(doc.proofBytes).toBeLessThanOrEqual(1024);
    const human = await baton(['audit', 'prove', '4', '--log-key', LOG_KEY]);
    expect(human.stdout).toMatch(/^✓ entry #4 is in the log of \d+ entries/);
    expect(human.stdout).toMatch(/✓ leaf is the hash of entry #4 \(validation\.denied\)/);
  });

  it('does not vouch for a checkpoint it cannot authenticate', async () => {
    const none = await baton(['audit', 'prove', '4', '--json']);
    expect(none.code).toBe(1);
    expect(none.json()).toMatchObject({ ok: false, code: 'ERR_CHECKPOINT_INVALID', checkpointAuthenticated: false });
    const wrong = await baton(['audit', 'prove', '4', '--log-key', formatVerifierKey(ORIGIN, generateKeyPair().publicKey), '--json']);
    expect(wrong.code).toBe(1);
    expect(wrong.json()).toMatchObject({ ok: false, code: 'ERR_CHECKPOINT_INVALID' });
    const beyond = await baton(['audit', 'prove', '999']);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toMatch(/\(ERR_/);
  });

  it('works as a child process (query and prove)', async () => {
    const q = await runChild(['audit', 'query', '--json', '--limit', '1'], { cwd, env });
    expect(q.code, q.stderr).toBe(0);
    expect(q.json<{ entries: unknown[] }>().entries).toHaveLength(1);
    const p = await runChild(['audit', 'prove', '1', '--log-key', LOG_KEY], { cwd, env });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/✓ entry #1 is in the log/);
  });
});

describe('baton audit against `baton authority start`', () => {
  let op: Operator;
  beforeAll(async () => {
    op = await startOperator();
    await workflowWithOrchestrator(op);
    await registerAgent(op.authority.address, await launchToken(op, 'audited'));
  });
  afterAll(() => op?.close());

  async function entries(): Promise<{ sequence: number; type: string }[]> {
    // Services ship events through their durable spool in the background.
    for (let i = 0; i < 100; i++) {
      const r = await op.run(['audit', 'query', '--json', '--limit', '0']);
      const list = r.code === 0 ? r.json<{ entries: { sequence: number; type: string }[] }>().entries : [];
      if (list.some((e) => e.type === 'agent.registered')) return list;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('audit events never arrived');
  }

  it('queries, verifies and proves the events of a real registration', async () => {
    const list = await entries();
    expect(list.map((e) => e.type)).toEqual(expect.arrayContaining(['launch_token.created', 'launch_token.consumed', 'agent.registered', 'token.issued']));
    const verify = await op.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json<{ ok: boolean; entries: number }>()).toMatchObject({ ok: true });
    const registered = list.find((e) => e.type === 'agent.registered')!;
    // The checkpoint key is found in the Baton directory, beside the operator key.
    const prove = await op.runChild(['audit', 'prove', String(registered.sequence), '--json']);
    expect(prove.code, prove.stdout + prove.stderr).toBe(0);
    expect(prove.json()).toMatchObject({ ok: true, checkpointAuthenticated: true, entry: { type: 'agent.registered' } });
    const file = await op.run(['audit', 'verify', '--file', '.baton/audit.db', '--json']);
    expect(file.code, file.stdout + file.stderr).toBe(0);
    expect(file.json()).toMatchObject({ ok: true, checkpointsAuthenticated: true });
  });
});
