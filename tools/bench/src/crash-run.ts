/**
 * The crash test: rounds of mixed load against the authority, each ended by kill -9 at a
 * random moment. After every kill:
 *
 * 1. the audit log file, exactly as the kill left it, verifies offline (hash chain, Merkle
 *    roots, every stored checkpoint) and is consistent with the newest checkpoint the
 *    live service published before the kill;
 * 2. the authority restarts on the same data and port;
 * 3. every audit entry acknowledged so far (direct appends at their sequence, and every
 *    event an acknowledged operation implies) is in the log once the services' spools
 *    have been replayed, and the service's own Verify passes;
 * 4. no launch token and no nonce used before the kill works again (crash-replay.ts).
 */
import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { KeyPair } from '@baton/core';
import { createClient } from '@baton/proto';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { replayAfterRestart, replayViolations, type ReplayOutcome } from './crash-replay.js';
import type { AuthorityHandle } from './soak-authority.js';
import { verifyAuditFile, waitForAcknowledged, type AuditPresence } from './soak-audit-check.js';
import { SoakLedger, errorCode } from './soak-ledger.js';
import { runLoad } from './soak-load.js';
import type { SoakWorld } from './soak-world.js';

/** Options of {@link runCrashRounds}. */
export interface CrashOptions {
  readonly authority: AuthorityHandle;
  readonly world: SoakWorld;
  /** Key the direct audit appends are signed with (a resource listed in the config). */
  readonly appendKey: KeyPair;
  readonly rounds: number;
  /** The kill comes uniformly at random within [minMs, maxMs] after a round's load starts. Default 300–4000. */
  readonly minMs?: number;
  readonly maxMs?: number;
  /** Lifecycles in flight. Default 4. */
  readonly concurrency?: number;
  /**
   * Start the kill's random delay only once this many hand registrations (whose nonces
   * get replayed) were acknowledged in the round, so short runs cover every check. Default 0.
   */
  readonly armAfterRaw?: number;
  /**
   * Every this many rounds, the restarted authority is killed once more within 300 ms of
   * its ready line, while the services replay their spools, and restarted again.
   * Default 0 (never).
   */
  readonly recoveryKillEvery?: number;
  /** How long acknowledged events may take to reach the log after a restart. Default 30 000 ms. */
  readonly drainTimeoutMs?: number;
  /** Progress, after each round. */
  readonly onRound?: (r: CrashRound) => void;
}

/** What one round found. */
export interface CrashRound {
  readonly round: number;
  /** When the kill came after the round's load started (or was armed), ms. */
  readonly killAfterMs: number;
  /** Operations acknowledged in this round before the kill. */
  readonly acknowledged: number;
  /** Operations cut short by the kill. */
  readonly interrupted: number;
  /** Offline verification of the file as the kill left it. */
  readonly verifiedAfterKill: { readonly ok: boolean; readonly entries: number; readonly checkpoints: number; readonly problem?: string };
  /** Size of the newest checkpoint the live service published before the kill (checked against the file). */
  readonly preKillCheckpointSize: number;
  /** Time from the restart to the new ready line, ms. */
  readonly restartMs: number;
  /** A second kill during recovery: when, after the ready line (ms), and whether the file verified after it. */
  readonly recoveryKill?: { readonly afterMs: number; readonly verified: boolean };
  /** Acknowledged entries checked so far (cumulative) and what was missing. */
  readonly appendsChecked: number;
  readonly eventsChecked: number;
  readonly presence: AuditPresence;
  /** The service's Verify after the restart. */
  readonly serviceVerify: { readonly ok: boolean; readonly entries: number; readonly problem: string };
  readonly replays: ReplayOutcome;
  /** Everything that went wrong in this round (empty: the round passed). */
  readonly violations: readonly string[];
}

/** The whole run. */
export interface CrashResult {
  readonly rounds: readonly CrashRound[];
  readonly ledger: SoakLedger;
  readonly passed: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the rounds; never throws for a violation (it is in the result), only for a broken harness. */
export async function runCrashRounds(options: CrashOptions): Promise<CrashResult> {
  const { authority, world } = options;
  const ledger = new SoakLedger();
  const auditFile = path.join(authority.dataDir, 'audit.db');
  const checkpoints = createClient(AuditService, authority.address, { channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 } });
  const minMs = options.minMs ?? 300;
  const maxMs = Math.max(minMs + 1, options.maxMs ?? 4000);
  const rounds: CrashRound[] = [];
  let next = 0;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      ledger.clearReplays();
      const okBefore = ledger.operations + ledger.denials;
      const interruptedBefore = sum(ledger.interrupted);
      let running = true;
      // The newest checkpoint the live service published; the file must stay consistent with it.
      let preKill = { note: '', size: 0 };
      const poller = (async () => {
        while (running) {
          try {
            const cp = await checkpoints.getCheckpoint({}, { deadlineMs: 2000 });
            if (running && Number(cp.treeSize) >= preKill.size) preKill = { note: cp.checkpoint, size: Number(cp.treeSize) };
          } catch {
            // the kill came; the last good one stands
          }
          await sleep(200);
        }
      })();
      const load = runLoad({ world, ledger, concurrency: options.concurrency ?? 4, running: () => running, nextNumber: () => next++, appendKey: options.appendKey });

      const armBy = Date.now() + 30_000;
      while (ledger.replays.raw.length < (options.armAfterRaw ?? 0) && Date.now() < armBy) await sleep(20);
      const killAfterMs = randomInt(minMs, maxMs);
      await sleep(killAfterMs);
      ledger.crashing = true;
      running = false;
      await authority.kill9();
      await Promise.all([load, poller]);
      const acknowledged = ledger.operations + ledger.denials - okBefore;
      const interrupted = sum(ledger.interrupted) - interruptedBefore;

      const violations: string[] = [];
      const after = await verifyAuditFile(auditFile, world.logVerifier, preKill.note ? [preKill.note] : []).catch((err: unknown) => ({
        ok: false,
        entries: 0,
        checkpointsUsed: 0,
        firstBad: { problem: 'error', detail: String((err as Error)?.message ?? err) },
      }));
      const problem = after.ok ? undefined : `${after.firstBad?.problem ?? 'rejected checkpoint'}: ${after.firstBad?.detail ?? ''}`;
      if (!after.ok) violations.push(`log does not verify after the kill (${problem})`);

      const restartStarted = Date.now();
      await authority.restart();
      const restartMs = Date.now() - restartStarted;
      let recoveryKill: CrashRound['recoveryKill'];
      if (options.recoveryKillEvery && round % options.recoveryKillEvery === 0) {
        const afterMs = randomInt(0, 300);
        await sleep(afterMs);
        await authority.kill9();
        const again = await verifyAuditFile(auditFile, world.logVerifier, preKill.note ? [preKill.note] : []).catch(() => ({ ok: false }));
        if (!again.ok) violations.push('log does not verify after the kill during recovery');
        recoveryKill = { afterMs, verified: again.ok };
        await authority.restart();
      }
      await world.waitUntilServing();
      ledger.crashing = false;

      const presence = await waitForAcknowledged(auditFile, ledger, options.drainTimeoutMs ?? 30_000);
      if (presence.missingAppends.length > 0) violations.push(`${presence.missingAppends.length} acknowledged append(s) missing from the log`);
      if (presence.missingEvents.length > 0) violations.push(`${presence.missingEvents.length} acknowledged event(s) missing from the log`);
      const v = await world.operatorAudit
        .verify({}, { deadlineMs: 300_000 })
        .catch((err: unknown) => ({ ok: false, entries: 0n, problem: `Verify call failed: ${errorCode(err)}` }));
      const serviceVerify = { ok: v.ok, entries: Number(v.entries), problem: v.problem };
      if (!v.ok) violations.push(`the service's Verify fails after the restart (${v.problem})`);

      const replays = await replayAfterRestart(world, ledger.replays, round);
      violations.push(...replayViolations(replays), ...replays.errors.map((e) => `replay harness: ${e}`));
      const r: CrashRound = {
        round,
        killAfterMs,
        acknowledged,
        interrupted,
        verifiedAfterKill: { ok: after.ok, entries: after.entries, checkpoints: after.checkpointsUsed, ...(problem ? { problem } : {}) },
        preKillCheckpointSize: preKill.size,
        restartMs,
        ...(recoveryKill ? { recoveryKill } : {}),
        appendsChecked: ledger.ackedAppends.length,
        eventsChecked: ledger.expectedEvents.length,
        presence,
        serviceVerify,
        replays,
        violations,
      };
      rounds.push(r);
      options.onRound?.(r);
    }
  } finally {
    checkpoints.close();
  }
  const passed = ledger.unexpectedCount === 0 && rounds.every((r) => r.violations.length === 0);
  return { rounds, ledger, passed };
}

function sum(m: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}
