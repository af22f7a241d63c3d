/**
 * Issue 8 "Soak and crash", short: two kill -9 of the authority at random moments under
 * mixed load (the crash tool's rounds). Each time: the log file as the kill left it
 * verifies and agrees with a checkpoint published before the kill; after the restart
 * every acknowledged audit entry is there and the service's Verify passes; no launch
 * token or nonce used before the kill works again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAllProcesses } from '../support/processes.js';
import { runCrashRounds, type CrashResult } from '../../tools/bench/dist/crash-run.js';
import { startSoakFixture, type SoakFixture } from './soak-harness.js';

let f: SoakFixture;
let result: CrashResult;

beforeAll(async () => {
  f = await startSoakFixture();
  result = await runCrashRounds({
    authority: f.authority,
    world: f.world,
    appendKey: f.setup.resourceKey,
    rounds: 2,
    concurrency: 3,
    // Armed once a hand registration (its nonce known) was acknowledged, then 0.2–1.5 s.
    armAfterRaw: 1,
    minMs: 200,
    maxMs: 1500,
  });
}, 90_000);

afterAll(async () => {
  await f?.cleanup();
  await stopAllProcesses();
});

describe('crash (short): kill -9 of the authority under load, twice', () => {
  it('killed and restarted the authority twice, with work acknowledged and cut short', () => {
    expect(result.rounds).toHaveLength(2);
    for (const r of result.rounds) {
      expect(r.acknowledged).toBeGreaterThan(0);
      expect(r.restartMs).toBeGreaterThan(0);
    }
  });

  it('left a log that verifies after each kill, consistent with a checkpoint from before it', () => {
    for (const r of result.rounds) {
      expect(r.verifiedAfterKill).toMatchObject({ ok: true });
      expect(r.verifiedAfterKill.checkpoints).toBeGreaterThan(0);
      expect(r.preKillCheckpointSize).toBeGreaterThan(0);
      expect(r.verifiedAfterKill.entries).toBeGreaterThanOrEqual(r.preKillCheckpointSize);
    }
  });

  it('lost no acknowledged audit entry, and the service Verify passes after each restart', () => {
    const last = result.rounds.at(-1)!;
    expect(last.appendsChecked).toBeGreaterThan(0);
    expect(last.eventsChecked).toBeGreaterThan(0);
    for (const r of result.rounds) {
      expect(r.presence.missingAppends).toEqual([]);
      expect(r.presence.missingEvents).toEqual([]);
      expect(r.serviceVerify).toMatchObject({ ok: true });
      expect(r.serviceVerify.entries).toBeGreaterThanOrEqual(r.verifiedAfterKill.entries);
    }
  });

  it('never let a launch token or a nonce used before the kill work again', () => {
    for (const r of result.rounds) {
      const { launchTokens, nonces, unknown, spareStillWorked } = r.replays;
      expect(launchTokens.tried).toBeGreaterThan(0);
      expect(launchTokens.worked).toBe(0);
      expect(launchTokens.refused).toEqual({ ERR_LAUNCH_TOKEN_REPLAYED: launchTokens.tried });
      expect(nonces.tried).toBeGreaterThan(0);
      expect(nonces.worked).toBe(0);
      expect(nonces.refused).toEqual({ ERR_NONCE_REPLAYED: nonces.tried });
      // The launch token the nonce replays were signed with was not consumed by them.
      expect(spareStillWorked).toBe(true);
      expect(unknown.workedTwice).toBe(0);
      expect(r.replays.errors).toEqual([]);
    }
  });

  it('saw no error other than expected denials and interruptions by the kills', () => {
    expect(result.ledger.unexpected).toEqual([]);
    for (const r of result.rounds) expect(r.violations).toEqual([]);
    expect(result.passed).toBe(true);
  });
});
