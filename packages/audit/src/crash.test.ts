// kill -9 during a burst of appends: after restart, every acknowledged event is present
// and the log verifies (chain, Merkle roots, every checkpoint signed before the crash).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPrivateJwk, generateKeyPair } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from './audit-log.js';
import { createSanitizer } from './sanitizer.js';
import { createNoteSigner } from './signed-note.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import { PKG_DIR, ensureBuilt } from './testing/build-dist.js';
import { inputEvent } from './testing/fixtures.js';
import { verifyLogFile } from './verify-log-file.js';

let dir: string;
beforeAll(() => {
  ensureBuilt(); // the child runs the built package
  dir = mkdtempSync(join(tmpdir(), 'baton-crash-'));
}, 150_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('crash during a burst of appends', () => {
  it('keeps every acknowledged event and a verifiable log', async () => {
    const origin = 'baton.test/crash';
    const key = generateKeyPair();
    const path = join(dir, 'audit.db');
    const child = spawn(process.execPath, [join(PKG_DIR, 'src', 'testing', 'crash-child.mjs'), path, origin], {
      env: { ...process.env, BATON_TEST_LOG_JWK: JSON.stringify(exportPrivateJwk(key)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Set<string>();
    let stderr = '';
    let partial = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop()!; // an id cut mid-line is not counted as acknowledged
        for (const l of lines) if (l) acked.add(l);
        if (acked.size >= 3000) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => (acked.size >= 3000 ? resolve() : reject(new Error(`child exited early: ${stderr}`))));
    });
    expect(await exited).toBe('SIGKILL');

    // Restart: every acknowledged event is there, and the file verifies.
    const verifier = createNoteSigner(origin, key).verifier!;
    const before = await verifyLogFile(path, { verifiers: [verifier], origin });
    expect(before).toMatchObject({ ok: true, rejectedCheckpoints: [] });
    expect(before.checkpointsUsed).toBeGreaterThan(0);
    const store = await createSqliteAuditStore({ path });
    const ids = new Set<string>();
    for await (const e of store.entries()) ids.add(e.event.eventId);
    const missing = [...acked].filter((id) => !ids.has(id));
    expect(missing).toEqual([]);

    // The restarted log continues the same chain and signs a consistent checkpoint.
    const log = createAuditLog({ store, signer: createNoteSigner(origin, key), origin, sanitizer: createSanitizer({ key: Buffer.alloc(32, 1) }), checkpointIntervalMs: 0 });
    const [r] = await log.append([inputEvent()]);
    expect(r!.sequence).toBe(ids.size + 1);
    expect((await log.checkpoint()).size).toBe(ids.size + 1);
    await log.close();
    await store.close();
    expect((await verifyLogFile(path, { verifiers: [verifier], origin })).ok).toBe(true);
  }, 120_000);
});
