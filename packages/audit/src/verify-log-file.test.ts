import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@baton/core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from './audit-log.js';
import { proveInclusion } from './prove.js';
import { createSanitizer } from './sanitizer.js';
import { createNoteSigner, formatVerifierKey, parseVerifierKey } from './signed-note.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import { inputEvent } from './testing/fixtures.js';
import { PII_CORPUS } from './testing/pii-corpus.js';
import { verifyLogFile } from './verify-log-file.js';

const origin = 'baton.test/audit';
const keys = generateKeyPair();
const signer = createNoteSigner(origin, keys);
const verifier = parseVerifierKey(formatVerifierKey(origin, keys.publicKey));
const sanitizer = createSanitizer({ key: randomBytes(32) });
const N = 60;
const K = 23;

let dir: string;
let path: string;

async function buildLog(n: number): Promise<void> {
  const store = await createSqliteAuditStore({ path });
  const log = createAuditLog({ store, signer, origin, sanitizer, checkpointIntervalMs: 0 });
  for (let i = 0; i < n; i += 10) {
    await log.append(Array.from({ length: Math.min(10, n - i) }, () => inputEvent()));
    await log.checkpoint();
  }
  await log.close();
  await store.close();
}

function tamper(sql: string): void {
  const db = new Database(path);
  try {
    // Someone with the file: drop the append-only triggers first.
    db.exec(`DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete; ${sql}`);
  } finally {
    db.close();
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-verify-'));
  path = join(dir, 'audit.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('verifyLogFile', () => {
  it('verifies an intact file against its signed checkpoints, reporting progress', async () => {
    await buildLog(N);
    const progress: number[] = [];
    const r = await verifyLogFile(path, { verifiers: [verifier], origin, onProgress: (c) => progress.push(c) });
    expect(r).toMatchObject({ ok: true, entries: N, checkpointSize: N, checkpointsUsed: 6, checkpointsAuthenticated: true, rejectedCheckpoints: [] });
    expect(progress[progress.length - 1]).toBe(N);
  });

  const cols = "event_id, logged_at, prev_hash, event_hash, time, type, source, outcome, agent, task, orchestration, workflow, principal, action, resource, reason_code, reason_detail, delegation_depth, chain_hash, intermediate_agents, trace_id, span_id, request_bytes, token_bytes, attributes, count, first_time, last_time";
  const cases: Array<[string, string, number, string]> = [
    ['modify', `UPDATE audit_entries SET outcome = 'deny' WHERE seq = ${K}`, K, 'modified'],
    ['modify a JSON column', `UPDATE audit_entries SET attributes = '{"status":"forged"}' WHERE seq = ${K}`, K, 'modified'],
    ['delete', `DELETE FROM audit_entries WHERE seq = ${K}`, K, 'deleted'],
    [
      'reorder',
      `UPDATE audit_entries SET seq = -1 WHERE seq = ${K}; UPDATE audit_entries SET seq = ${K} WHERE seq = ${K + 1}; UPDATE audit_entries SET seq = ${K + 1} WHERE seq = -1`,
      K,
      'reordered',
    ],
    [
      'insert',
      `UPDATE audit_entries SET seq = seq + 1000000 WHERE seq >= ${K}; UPDATE audit_entries SET seq = seq - 999999 WHERE seq >= 1000000;
       INSERT INTO audit_entries (seq, ${cols}) SELECT ${K}, 'forged-event-id-0001', ${cols.replace('event_id, ', '')} FROM audit_entries WHERE seq = 3`,
      K,
      'inserted',
    ],
    ['truncate', `DELETE FROM audit_entries WHERE seq > ${N - 7}`, N - 6, 'truncated'],
  ];

  it.each(cases)('detects %s and names the entry', async (_d, sql, sequence, problem) => {
    await buildLog(N);
    tamper(sql);
    const r = await verifyLogFile(path, { verifiers: [verifier], origin });
    expect(r.ok).toBe(false);
    expect(r.firstBad).toMatchObject({ sequence, problem });
  });

  it('catches a truncation to a checkpoint boundary with a checkpoint kept elsewhere', async () => {
    await buildLog(N);
    const store = await createSqliteAuditStore({ path, readonly: true });
    const outside = (await store.latestCheckpoint())!.note;
    await store.close();
    tamper(`DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_entries WHERE seq > 40; DELETE FROM audit_checkpoints WHERE size > 40`);
    expect((await verifyLogFile(path, { verifiers: [verifier] })).ok).toBe(true); // the file alone looks fine
    const r = await verifyLogFile(path, { verifiers: [verifier], checkpoints: [outside] });
    expect(r.firstBad).toMatchObject({ sequence: 41, problem: 'truncated' });
  });

  it('rejects stored checkpoints that are forged or edited', async () => {
    await buildLog(20);
    const forger = createNoteSigner(origin, generateKeyPair());
    const store = await createSqliteAuditStore({ path });
    const evil = createAuditLog({ store, signer: forger, origin, sanitizer, checkpointIntervalMs: 0, verifiers: [forger.verifier!, verifier] });
    await evil.append([inputEvent()]);
    await evil.checkpoint();
    await store.close();
    const r = await verifyLogFile(path, { verifiers: [verifier] });
    expect(r.ok).toBe(false);
    expect(r.rejectedCheckpoints).toEqual([{ size: 21, code: 'ERR_CHECKPOINT_INVALID' }]);
  });

  it('proves inclusion of an entry from the file', async () => {
    await buildLog(25);
    const { proof, checkpoint } = await proveInclusion(path, 7, { verifiers: [verifier], origin });
    expect(checkpoint.size).toBe(25);
    expect(proof.hashes.length).toBeLessThanOrEqual(5);
    await expect(proveInclusion(path, 26, { verifiers: [verifier] })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(proveInclusion(path, 7, { verifiers: [createNoteSigner(origin, generateKeyPair()).verifier!] })).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT_INVALID',
    });
  });

  it('lets none of the PII corpus reach the database file', async () => {
    const store = await createSqliteAuditStore({ path });
    const log = createAuditLog({ store, signer, origin, sanitizer, checkpointIntervalMs: 0 });
    const results = await log.append(
      PII_CORPUS.map((c) =>
        inputEvent({
          principal: c.text.replace(/\n/g, ' '),
          attributes: { prompt: c.text, message: c.text, unlisted: c.text, ...(c.freeText ? {} : { status: c.text }) },
          ...(c.freeText ? {} : { reasonDetail: c.text, resource: c.text.replace(/\n/g, ' ').slice(0, 500) }),
        }),
      ),
    );
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    await log.close();
    await store.close();
    const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    for (const c of PII_CORPUS) expect([c.kind, bytes.includes(Buffer.from(c.needle))]).toEqual([c.kind, false]);
    // Sanity: the file does hold the entries.
    expect(bytes.includes(Buffer.from('[REDACTED:email]'))).toBe(true);
  });
});
