/**
 * Signs checkpoints for the log: on demand, and on a timer while there are new entries.
 * Before signing, the stored tree is checked to extend the last signed checkpoint (a
 * consistency proof is built and verified), so a log whose database was truncated or
 * rewritten refuses to sign a forked checkpoint (ERR_LOG_TAMPERED) instead of
 * legitimising it.
 */
import { BatonError, type Clock } from '@baton/core';
import { signCheckpoint, verifyCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { consistencyProofPlan } from './merkle-proof.js';
import { verifyConsistency } from './merkle-verify.js';
import type { NoteSigner, NoteVerifier } from './signed-note.js';
import type { AuditStore } from './store.js';
import { TreeReader } from './tree-reader.js';

/** Signs and serves checkpoints. */
export interface Checkpointer {
  /** Signs a checkpoint at the current size if it grew (else returns the latest). */
  checkpoint(): Promise<SignedCheckpoint>;
  /** The latest signed checkpoint, signing the first one if there is none yet. */
  latest(): Promise<SignedCheckpoint>;
  /** Called after each commit: signs if the interval has passed (timers can starve under load). */
  poke(): void;
  /** Stops the timer. */
  stop(): void;
}

/** Options of {@link createCheckpointer}. */
export interface CheckpointerOptions {
  readonly store: AuditStore;
  readonly signer: NoteSigner;
  readonly origin: string;
  readonly clock: Clock;
  /** Keys whose stored checkpoints are trusted (the signer's own by default). */
  readonly verifiers: readonly NoteVerifier[];
  /** Timer period; 0 disables the timer. */
  readonly intervalMs: number;
  /** Told about timer failures (the timer never throws). */
  readonly onError?: (err: unknown) => void;
}

export function createCheckpointer(o: CheckpointerOptions): Checkpointer {
  const reader = new TreeReader(o.store);
  let last: SignedCheckpoint | undefined;
  let inFlight: Promise<SignedCheckpoint> | undefined;

  // The newest stored checkpoint (replicas sharing the store sign too).
  const loadLast = async (): Promise<SignedCheckpoint | undefined> => {
    const stored = await o.store.latestCheckpoint();
    if (!stored || (last && stored.size <= last.size)) return last;
    // Only trust what our keys signed; a planted row fails here.
    last = verifyCheckpoint(stored.note, o.verifiers, { origin: o.origin });
    return last;
  };

  const sign = async (): Promise<SignedCheckpoint> => {
    const prev = await loadLast();
    const size = await o.store.size();
    if (prev && size === prev.size) return prev;
    if (prev && size < prev.size) throw new BatonError('ERR_LOG_TAMPERED', `log has ${size} entries but checkpoint ${prev.size} was signed`);
    const root = await reader.root(size);
    if (prev && prev.size > 0) {
      const proof = await reader.proof(consistencyProofPlan(prev.size, size));
      if (!verifyConsistency(prev.size, size, prev.rootHash, root, proof)) {
        throw new BatonError('ERR_LOG_TAMPERED', `stored tree at ${size} does not extend the checkpoint at ${prev.size}`);
      }
    }
    const cp = signCheckpoint({ origin: o.origin, size, rootHash: root }, o.signer);
    await o.store.addCheckpoint(cp, o.clock.now());
    last = cp;
    return cp;
  };

  // One signing at a time; concurrent callers share it.
  const checkpoint = (): Promise<SignedCheckpoint> => {
    inFlight ??= sign().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  let lastAttempt = o.clock.now();
  const tick = (): void => {
    lastAttempt = o.clock.now();
    checkpoint().catch((err: unknown) => o.onError?.(err));
  };
  const timer = o.intervalMs > 0 ? setInterval(tick, o.intervalMs) : undefined;
  timer?.unref();

  return {
    checkpoint,
    latest: async () => (await loadLast()) ?? checkpoint(),
    poke: () => {
      if (o.intervalMs > 0 && o.clock.now() - lastAttempt >= o.intervalMs) tick();
    },
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
