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
  const workers = Array.from({ length: options.concurrency ?? DEFAULT_CONCURRENCY }, async () => {
    while (options.running()) {
      await runLifecycle(world, ledger, { n: options.nextNumber(), replayNow: options.replayNow === true });
    }
  });
  if (options.appendKey) workers.push(runAppender({ authority: world.authority, keyPair: options.appendKey, ledger, running: options.running }));
  await Promise.all(workers);
}
