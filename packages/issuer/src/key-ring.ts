import type { KeyObject } from 'node:crypto';
import { generateKeyPair, nowSeconds, signJws, systemClock, type Clock, type KeyPair, type PublicJwk } from '@baton/core';
import { keyRingReads, redactKeyRing, serialQueue } from './key-ring-parts.js';

/** Where a signing key is in its life. */
export type KeyStatus = 'active' | 'retired' | 'revoked';

/** What {@link KeyRing.rotate} did. */
export interface RotationResult {
  /** The key new tokens are signed with from now on. */
  readonly newKid: string;
  /** The key that was active before. */
  readonly retiredKid: string;
  /** True when the retired key was revoked (emergency rotation). */
  readonly emergency: boolean;
  /** Latest `exp` (seconds) of any token the retired key signed, as far as the ring knows. */
  readonly retiredMaxExp: number;
}

/** Public view of one key, for listings and tests (never the private part). */
export interface KeyInfo {
  readonly kid: string;
  readonly status: KeyStatus;
  /** Latest known `exp` (seconds) of a token this key signed; 0 when none. */
  readonly maxExp: number;
}

/**
 * The issuer's token-signing keys: one active Ed25519 key, retired keys that stay
 * published until every token they signed has expired, and revoked kids (emergency
 * rotation). `kid` is the RFC 7638 thumbprint of the public key. Private keys never
 * leave the ring and are never logged (inspection and JSON show kids only).
 */
export interface KeyRing {
  /** kid of the key new tokens are signed with. */
  readonly activeKid: string;
  /** Signs a compact JWS with the active key, setting `kid` in the header. */
  sign(header: Record<string, unknown>, payload: Record<string, unknown>): { readonly token: string; readonly kid: string };
  /** The public key of a published (active or retired, not revoked) kid. */
  publicKey(kid: string): KeyObject | undefined;
  /** Status of a kid the ring still knows, or undefined. */
  status(kid: string): KeyStatus | undefined;
  /** The published keys as JWKs with `kid`, `alg`, `use` (active first). */
  jwks(): { keys: PublicJwk[] };
  /** kids that must no longer be accepted (emergency rotation), until their tokens expired. */
  revokedKids(): string[];
  /** Records that `kid` signed a token expiring at `exp` (seconds), so retirement waits for it. */
  noteIssued(kid: string, exp: number): Promise<void>;
  /** Makes a new active key; `emergency` revokes the old one at once. */
  rotate(options?: { emergency?: boolean }): Promise<RotationResult>;
  /** Marks a retired kid revoked (its tokens are rejected from now on). False when unknown or active. */
  revoke(kid: string): Promise<boolean>;
  /** Drops retired and revoked keys whose tokens all expired (`exp + leeway` passed). Returns the kids dropped. */
  prune(): Promise<string[]>;
  /** The keys the ring knows, without private material. */
  list(): KeyInfo[];
  /**
   * Reloads state other processes may have changed (rings shared by replicas, see
   * `openStoreKeyRing`). Absent on rings only one process uses.
   */
  refresh?(): Promise<void>;
}

/** Options shared by the key ring factories. */
export interface KeyRingOptions {
  /** Injected time. Default: the system clock. */
  readonly clock?: Clock;
  /** Seconds past `exp` that verifiers still accept a token. Default 30. */
  readonly leewaySeconds?: number;
}

/** @internal One key as the ring keeps it. */
export interface KeyRecord {
  kid: string;
  status: KeyStatus;
  publicJwk: PublicJwk;
  publicKey: KeyObject;
  privateKey?: KeyObject;
  /** Latest exp actually seen. */
  maxExp: number;
  /** Durable upper bound on maxExp (equal to it for memory rings). */
  coverExp: number;
}

/** @internal Persistence hooks a concrete ring plugs into the shared logic. */
export interface KeyRingStore {
  /** Called with a fresh key pair before it becomes active. */
  saveActive(kp: KeyPair, kid: string): Promise<void>;
  /** Called after the ring's state changed (active kid, statuses, coverExp). */
  saveState(records: readonly KeyRecord[]): Promise<void>;
  /** Called once a private key is no longer needed (retired, revoked or pruned). */
  dropPrivate(kid: string): Promise<void>;
  /** Slack added to coverExp when it must grow, so state writes stay rare. */
  readonly coverSlackSeconds: number;
}

/** @internal A record for a key pair; `kid` = thumbprint. */
export function recordOf(kp: KeyPair, status: KeyStatus): KeyRecord {
  const kid = kp.thumbprint;
  return {
    kid,
    status,
    publicJwk: Object.freeze({ ...kp.publicJwk, kid, alg: 'EdDSA', use: 'sig' }) as PublicJwk,
    publicKey: kp.publicKey,
    ...(status === 'active' ? { privateKey: kp.privateKey } : {}),
    maxExp: 0,
    coverExp: 0,
  };
}

const noStore: KeyRingStore = {
  saveActive: async () => undefined,
  saveState: async () => undefined,
  dropPrivate: async () => undefined,
  coverSlackSeconds: 0,
};

/** @internal The ring logic over any store. `records` holds exactly one active key. */
export function createKeyRing(records: KeyRecord[], store: KeyRingStore, options: KeyRingOptions = {}): KeyRing {
  const clock = options.clock ?? systemClock;
  const leeway = options.leewaySeconds ?? 30;
  const byKid = new Map(records.map((r) => [r.kid, r]));
  let active = records.find((r) => r.status === 'active');
  if (!active?.privateKey || records.filter((r) => r.status === 'active').length !== 1) {
    throw new TypeError('a key ring needs exactly one active key with its private key');
  }
  const queue = serialQueue();
  const serial = queue.run;
  const all = () => [...byKid.values()];

  const ring: KeyRing = {
    ...keyRingReads(() => byKid),
    get activeKid() {
      return active!.kid;
    },
    sign(header, payload) {
      const a = active!;
      return { token: signJws({ ...header, kid: a.kid }, payload, a.privateKey!), kid: a.kid };
    },
    async noteIssued(kid, exp) {
      const r = byKid.get(kid);
      if (!r || !Number.isSafeInteger(exp)) return;
      if (exp > r.maxExp) r.maxExp = exp;
      if (exp > r.coverExp) {
        r.coverExp = exp + store.coverSlackSeconds;
        if (store.coverSlackSeconds > 0) await serial(() => store.saveState(all()));
      }
    },
    rotate({ emergency = false } = {}) {
      return serial(async () => {
        const old = active!;
        const kp = generateKeyPair();
        const next = recordOf(kp, 'active');
        await store.saveActive(kp, next.kid);
        old.status = emergency ? 'revoked' : 'retired';
        delete old.privateKey;
        byKid.set(next.kid, next);
        active = next;
        await store.saveState(all());
        await store.dropPrivate(old.kid);
        return { newKid: next.kid, retiredKid: old.kid, emergency, retiredMaxExp: old.maxExp };
      });
    },
    revoke(kid) {
      return serial(async () => {
        const r = byKid.get(kid);
        if (!r || r.status === 'active') return false;
        if (r.status === 'revoked') return true;
        r.status = 'revoked';
        await store.saveState(all());
        return true;
      });
    },
    prune() {
      return serial(async () => {
        const now = nowSeconds(clock);
        const gone = all().filter((r) => r.status !== 'active' && Math.max(r.maxExp, r.coverExp) + leeway < now);
        if (gone.length === 0) return [];
        for (const r of gone) byKid.delete(r.kid);
        await store.saveState(all());
        for (const r of gone) await store.dropPrivate(r.kid);
        return gone.map((r) => r.kid);
      });
    },
  };
  return redactKeyRing(ring);
}

/**
 * A key ring held in memory only (tests, throwaway authorities). Starts with one fresh
 * Ed25519 key.
 *
 * @example
 * const keyRing = memoryKeyRing({ clock: manualClock(Date.now()) });
 */
export function memoryKeyRing(options: KeyRingOptions = {}): KeyRing {
  return createKeyRing([recordOf(generateKeyPair(), 'active')], noStore, options);
}
