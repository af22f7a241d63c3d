import type { KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import type { PublicJwk } from '@baton/core';
import type { KeyRing, KeyStatus } from './key-ring.js';

/**
 * The parts every key ring (memory, file, store) shares, whatever keeps its state:
 * serialized state changes, the read-only views over the current keys, and printing as
 * kids only. Kept in one place so the rings cannot drift apart on what they publish.
 */

/** @internal What the read side of a ring needs to know of one key. */
export interface PublishedKey {
  readonly kid: string;
  readonly status: KeyStatus;
  /** Public JWK with `kid`, `alg`, `use` already set. */
  readonly publicJwk: PublicJwk;
  readonly publicKey: KeyObject;
  /** Latest known `exp` (seconds) of a token this key signed; 0 when none. */
  readonly maxExp: number;
}

/** @internal The read-only methods of a {@link KeyRing}. */
export type KeyRingReads = Pick<KeyRing, 'publicKey' | 'status' | 'jwks' | 'revokedKids' | 'list'>;

/** @internal Runs async state changes one at a time, in call order. */
export interface SerialQueue {
  /** Runs `fn` after every earlier call settled (a failed call does not block later ones). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Resolves once every call made so far settled. Never rejects. */
  idle(): Promise<void>;
}

/**
 * @internal Serializes a ring's state changes so two rotations (or a rotation and a
 * prune) never interleave their writes.
 */
export function serialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const next = tail.then(fn, fn);
      tail = next.catch(() => undefined);
      return next;
    },
    async idle() {
      await tail;
    },
  };
}

/**
 * @internal The read-only ring methods over `current()`, which returns the ring's key
 * map as it is now (store rings swap the whole map on reload). Revoked keys are never
 * published and yield no public key; the active key is listed first in the JWKS.
 */
export function keyRingReads(current: () => ReadonlyMap<string, PublishedKey>): KeyRingReads {
  const all = () => [...current().values()];
  return {
    publicKey(kid) {
      const r = typeof kid === 'string' ? current().get(kid) : undefined;
      return r && r.status !== 'revoked' ? r.publicKey : undefined;
    },
    status(kid) {
      return current().get(kid)?.status;
    },
    jwks() {
      const published = all().filter((r) => r.status !== 'revoked');
      published.sort((a, b) => (a.status === 'active' ? -1 : b.status === 'active' ? 1 : 0));
      return { keys: published.map((r) => ({ ...r.publicJwk })) };
    },
    revokedKids() {
      return all()
        .filter((r) => r.status === 'revoked')
        .map((r) => r.kid);
    },
    list() {
      return all().map((r) => ({ kid: r.kid, status: r.status, maxExp: r.maxExp }));
    },
  };
}

/**
 * @internal Makes a ring print as its kids only: `JSON.stringify` and `util.inspect`
 * never reach key material, whatever the ring object holds.
 */
export function redactKeyRing<R extends KeyRing>(ring: R): R {
  const view = () => ({ activeKid: ring.activeKid, keys: ring.list() });
  Object.defineProperty(ring, 'toJSON', { value: view, enumerable: false });
  Object.defineProperty(ring, inspect.custom, { value: () => `KeyRing ${JSON.stringify(view())}`, enumerable: false });
  return ring;
}
