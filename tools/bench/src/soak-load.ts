/**
 * The mixed load of the soak and crash runs: `concurrency` workers each running
 * lifecycles back to back, plus one direct audit appender, until told to stop. Bounded
 * on purpose: the machine has two cores shared by the authority and this driver.
 */
import type { KeyPair } from '@baton/core';
import { runAppender } from './soak-appender.js';
import type { SoakLedger } from './soak-ledger.js';
import { runLifecycle } from './soak-lifecycle.js';
import type { SoakWorld } from './soak-world.js';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  readonly world: SoakWorld;
  readonly ledger: SoakLedger;
  /** Lifecycles in flight. Default 4. */
  readonly concurrency?: number;
  /**
   * Start at most this many lifecycles per second (a steady load whatever else the machine
   * runs; it falls behind only when the machine cannot keep up). Default: no limit.
   */
  readonly ratePerSecond?: number;
  /** Keep starting lifecycles while this says so. */
  readonly running: () => boolean;
  /** Hands out lifecycle numbers, unique over the whole run (task ids derive from them). */
  readonly nextNumber: () => number;
  /** Replay launch tokens and nonces within each lifecycle (soak). Default false. */
  readonly replayNow?: boolean;
  /** Key for the direct audit appends (the resource's); none: no appender. */
  readonly appendKey?: KeyPair;
}

/** Default lifecycles in flight: enough to keep two cores busy, few enough to stay responsive. */
export const DEFAULT_CONCURRENCY = 4;

/** Runs the load until `running()` turns false and every worker has finished its lifecycle. */
export async function runLoad(options: LoadOptions): Promise<void> {
  const { world, ledger } = options;
  const pace = pacer(options.ratePerSecond);
  const workers = Array.from({ length: options.concurrency ?? DEFAULT_CONCURRENCY }, async () => {
    while (options.running()) {
      await pace();
      if (!options.running()) break;
      await runLifecycle(world, ledger, { n: options.nextNumber(), replayNow: options.replayNow === true });
    }
  });
  if (options.appendKey) workers.push(runAppender({ authority: world.authority, keyPair: options.appendKey, ledger, running: options.running }));
  await Promise.all(workers);
}

/** Spaces calls `1000 / rate` ms apart; a slot missed is not made up later (no bursts). */
function pacer(rate: number | undefined): () => Promise<void> {
  if (rate === undefined) return () => Promise.resolve();
  if (!(rate > 0) || !Number.isFinite(rate)) throw new TypeError('ratePerSecond must be a positive number');
  const interval = 1000 / rate;
  let nextAt = Date.now();
  return async () => {
    const now = Date.now();
    const at = Math.max(nextAt, now);
    nextAt = at + interval;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  };
}
