/**
 * Issue 8 "Soak and crash", short: ~15 s of the soak's mixed load (register, renew,
 * delegate, validate at a guarded resource, revoke, release, launch-token and nonce
 * replays, direct audit appends) against one authority process. No error other than an
 * expected denial; every acknowledged audit entry in the log; the log verifies, through
 * the service and offline. (RSS and timings are the soak tool's business, not a test's.)
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAllProcesses } from '../support/processes.js';
import { findMissing, verifyAuditFile, waitForAcknowledged, type AuditPresence } from '../../tools/bench/dist/soak-audit-check.js';
import { SoakLedger } from '../../tools/bench/dist/soak-ledger.js';
import { runLoad } from '../../tools/bench/dist/soak-load.js';
import { startSoakFixture, type SoakFixture } from './soak-harness.js';

const LOAD_MS = 15_000;

let f: SoakFixture;
const ledger = new SoakLedger();
let presence: AuditPresence;
let serviceVerify: { ok: boolean; entries: bigint };

beforeAll(async () => {
  f = await startSoakFixture();
  const end = Date.now() + LOAD_MS;
  let n = 0;
  await runLoad({ world: f.world, ledger, concurrency: 3, running: () => Date.now() < end, nextNumber: () => n++, replayNow: true, appendKey: f.setup.resourceKey });
  await f.world.payments.audit.drain(20_000);
  presence = await waitForAcknowledged(path.join(f.setup.dataDir, 'audit.db'), ledger, 20_000);
  serviceVerify = await f.world.operatorAudit.verify({});
}, 60_000);

afterAll(async () => {
  await f?.cleanup();
  await stopAllProcesses();
});

describe('soak (short): mixed load against one authority', () => {
  it('ran every kind of operation and met every expected denial', () => {
    for (const op of ['mint', 'register', 'validate', 'renew', 'delegate', 'revoke', 'release', 'audit_append']) {
      expect(ledger.ok.get(op) ?? 0, op).toBeGreaterThan(0);
    }
    for (const code of ['ERR_CONSTRAINT_VIOLATED', 'ERR_SCOPE_DENIED', 'ERR_TOKEN_REVOKED', 'ERR_LAUNCH_TOKEN_REPLAYED', 'ERR_NONCE_REPLAYED']) {
      expect(ledger.denied.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  });

  it('saw no error other than the expected denials', () => {
    expect(ledger.unexpected).toEqual([]);
    expect(ledger.unexpectedCount).toBe(0);
  });

  it('has every acknowledged audit entry in the log', () => {
    expect(ledger.ackedAppends.length).toBeGreaterThan(0);
    expect(ledger.expectedEvents.length).toBeGreaterThan(0);
    expect(presence.missingAppends).toEqual([]);
    expect(presence.missingEvents).toEqual([]);
    expect(presence.entries).toBeGreaterThanOrEqual(ledger.ackedAppends.length + ledger.expectedEvents.length);
  });

  it('reports what is not in the log: an append at the wrong sequence, an event never written', async () => {
    const probe = new SoakLedger();
    const real = ledger.ackedAppends[0]!;
    probe.ackedAppends.push({ eventId: real.eventId, sequence: real.sequence + 1 });
    probe.succeeded('register', { type: 'agent.registered', agent: 'spiffe://baton.local/agent/orch-soak/nobody/AAAAAAAAAAAAAAAAAAAAAA' });
    // Twice the renewals one agent really had: counted, not just "seen once".
    const renewed = ledger.expectedEvents.find((e) => e.type === 'token.renewed')!;
    probe.succeeded('renew', renewed, renewed);
    const p = await findMissing(path.join(f.setup.dataDir, 'audit.db'), probe);
    expect(p.missingAppends).toEqual([{ eventId: real.eventId, sequence: real.sequence + 1 }]);
    expect(p.missingEvents.map((e) => [e.type, e.expected, e.found])).toEqual(
      expect.arrayContaining([
        ['agent.registered', 1, 0],
        ['token.renewed', 2, 1],
      ]),
    );
  });

  it('verifies: the service Verify, then the file offline after a graceful stop', async () => {
    expect(serviceVerify.ok).toBe(true);
    expect(Number(serviceVerify.entries)).toBeGreaterThanOrEqual(presence.entries);
    await f.world.close();
    await f.authority.stop();
    const report = await verifyAuditFile(path.join(f.setup.dataDir, 'audit.db'), f.world.logVerifier);
    expect(report).toMatchObject({ ok: true, rejectedCheckpoints: [], checkpointsAuthenticated: true });
    expect(report.entries).toBeGreaterThanOrEqual(presence.entries);
    expect(report.checkpointsUsed).toBeGreaterThan(0);
  });
});
