/**
 * A call's outcome as the demo reports it: allowed (with the response), or denied with
 * the stable code the caller received. Anything that is not a Baton error is a real
 * failure and propagates.
 */
import { isBatonError } from '@baton/core';

/** Allowed or denied, with the code a denial carried. */
export type Outcome<T> = { readonly outcome: 'allow'; readonly value: T } | { readonly outcome: 'deny'; readonly code: string };

/** Runs `fn` and turns a BatonError into a `deny` outcome. */
export async function outcomeOf<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { outcome: 'allow', value: await fn() };
  } catch (err) {
    if (isBatonError(err)) return { outcome: 'deny', code: err.code };
    throw err;
  }
}
