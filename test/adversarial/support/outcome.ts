/**
 * How an attack ended, as the attacker sees it on the wire: the Baton code of a refused
 * call (from the Problem in the gRPC status), or 'OK'. Tests assert codes, never text.
 */
import { isBatonError } from '@baton/core';

/** 'OK' when `p` resolves; the Baton error code when it rejects (anything else is rethrown). */
export async function outcomeOf(p: Promise<unknown> | (() => Promise<unknown>)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (err) {
    if (isBatonError(err)) return err.code;
    throw err;
  }
}

/** Keys Object.prototype has now, to prove no request polluted it. */
export function prototypeKeys(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}
