/**
 * The identity CA: one active Ed25519 CA key with its self-signed certificate, plus
 * retired CAs that stay in the trust bundle until every SVID they signed has expired.
 * `kid` = RFC 7638 thumbprint of the CA public key (as for token-signing keys). Private
 * keys never leave the CA object and are never logged (inspection shows kids only).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { generateKeyPair, systemClock, type Clock, type KeyPair } from '@baton/core';
import { createCaCertificate, issueSvid, parseCertificate } from '@baton/x509';

/** Where a CA key is in its life. */
export type CaStatus = 'active' | 'retired';

/** One CA as the identity CA keeps it. */
export interface CaRecord {
  kid: string;
  status: CaStatus;
  /** DER of the CA certificate. */
  certificate: Buffer;
  /** ms; when the CA certificate expires. */
  notAfter: number;
  /** Durable upper bound (ms) on the notAfter of every SVID this CA signed. */
  coverUntil: number;
  /** Present for the active CA only. */
  privateKey?: KeyObject;
}

/** Persistence hooks; the memory CA has none. */
export interface CaStore {
  saveActive(kp: KeyPair, kid: string): Promise<void>;
  saveState(records: readonly CaRecord[]): Promise<void>;
  dropPrivate(kid: string): Promise<void>;
  /** coverUntil grows in steps of this much so issuance rarely writes state. */
  readonly coverSlackMs: number;
}

/** An issued X.509-SVID. */
export interface IssuedSvid {
  readonly certificate: Buffer;
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** kid of the CA that signed it. */
  readonly kid: string;
  /** The certificate's serial number, lowercase hex (for audit and incident lookups). */
  readonly serial: string;
  /**
   * kid of the CA retired just before this SVID was signed, when issuing it rotated the
   * CA (the active one was close to its end); absent otherwise.
   */
  readonly rotatedFrom?: string;
}

/** Options shared by the CA factories. */
export interface IdentityCaOptions {
  /** Trust domain the CA certifies, e.g. `baton.local`. */
  readonly trustDomain: string;
  /** Injected time. Default: the system clock. */
  readonly clock?: Clock;
  /** Lifetime of a new CA certificate. Default 365 days. */
  readonly caTtlSeconds?: number;
  /** A CA with less than this left is rotated before it issues. Default 30 days. */
  readonly rotateBeforeSeconds?: number;
}

/** Defaults of {@link IdentityCaOptions}. */
export const IDENTITY_CA_DEFAULTS = Object.freeze({
  caTtlSeconds: 365 * 86_400,
  rotateBeforeSeconds: 30 * 86_400,
  /** SVIDs start this long before issuance, so a peer whose clock lags slightly accepts them. */
  backdateMs: 60_000,
});

/** The identity CA. */
export interface IdentityCa {
  readonly trustDomain: string;
  /** kid of the CA that signs new SVIDs. */
  readonly activeKid: string;
  /** DER of the CA certificates to trust, active first (the trust bundle's `x509_authorities`). */
  authorities(): Buffer[];
  /**
   * An SVID for `spiffeId` certifying `publicKey`, valid from a minute ago until
   * `notAfterMs` (capped by the CA's own expiry). Rotates first when the active CA is
   * close to its end.
   */
  issue(spiffeId: string, publicKey: KeyObject, notAfterMs: number, options?: { dnsNames?: readonly string[]; ipAddresses?: readonly string[] }): Promise<IssuedSvid>;
  /**
   * A new active CA; the old one is retired and stays trusted until its SVIDs expired.
   * The caller records the rotation in the audit log (`key.rotated`, resource
   * `identity_ca`); rotations made by {@link IdentityCa.issue} are reported through
   * {@link IssuedSvid.rotatedFrom} and audited by identity.
   */
  rotate(): Promise<{ readonly newKid: string; readonly retiredKid: string }>;
  /** Drops retired CAs whose SVIDs (and certificate) all expired. Returns their kids. */
  prune(): Promise<string[]>;
  /** The CAs, without private material. */
  list(): { readonly kid: string; readonly status: CaStatus; readonly notAfter: number }[];
}

/** A new CA record for `kp`, valid from now for `ttlMs`. */
export function newCaRecord(kp: KeyPair, trustDomain: string, nowMs: number, ttlMs: number): CaRecord {
  const certificate = createCaCertificate({ privateKey: kp.privateKey, trustDomain, notBeforeMs: nowMs - IDENTITY_CA_DEFAULTS.backdateMs, notAfterMs: nowMs + ttlMs });
  return { kid: kp.thumbprint, status: 'active', certificate, notAfter: parseCertificate(certificate).notAfter, coverUntil: 0, privateKey: kp.privateKey };
}

/** @internal The CA logic over any store; `records` holds exactly one active CA. */
export function createIdentityCa(records: CaRecord[], store: CaStore, options: IdentityCaOptions): IdentityCa {
  const clock = options.clock ?? systemClock;
  const ttlMs = (options.caTtlSeconds ?? IDENTITY_CA_DEFAULTS.caTtlSeconds) * 1000;
  const rotateBeforeMs = (options.rotateBeforeSeconds ?? IDENTITY_CA_DEFAULTS.rotateBeforeSeconds) * 1000;
  if (!(ttlMs > rotateBeforeMs)) throw new TypeError('identity CA: caTtlSeconds must exceed rotateBeforeSeconds');
  const active = (): CaRecord => records.find((r) => r.status === 'active')!;
  // One mutation at a time: issuance may rotate, and state writes must not interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  };

  async function rotateNow(): Promise<{ newKid: string; retiredKid: string }> {
    const old = active();
    const kp = generateKeyPair();
    const rec = newCaRecord(kp, options.trustDomain, clock.now(), ttlMs);
    await store.saveActive(kp, rec.kid);
    old.status = 'retired';
    delete old.privateKey;
    records.unshift(rec);
    await store.saveState(records);
    await store.dropPrivate(old.kid);
    return { newKid: rec.kid, retiredKid: old.kid };
  }

  const ca: IdentityCa = {
    trustDomain: options.trustDomain,
    get activeKid() {
      return active().kid;
    },
    authorities() {
      const a = active();
      return [a.certificate, ...records.filter((r) => r !== a).map((r) => r.certificate)].map((d) => Buffer.from(d));
    },
    issue(spiffeId, publicKey, notAfterMs, extra = {}) {
      return serial(async () => {
        const now = clock.now();
        const rotated = active().notAfter - now < rotateBeforeMs ? await rotateNow() : undefined;
        const a = active();
        const notBefore = Math.max(now - IDENTITY_CA_DEFAULTS.backdateMs, parseCertificate(a.certificate).notBefore);
        const notAfter = Math.min(notAfterMs, a.notAfter);
        if (!(notAfter > now)) throw new TypeError('identity CA: the SVID would already be expired');
        const certificate = issueSvid({ ca: { certificate: a.certificate, privateKey: a.privateKey! }, spiffeId, publicKey: publicKey.type === 'public' ? publicKey : createPublicKey(publicKey), notBeforeMs: notBefore, notAfterMs: notAfter, ...extra });
        const c = parseCertificate(certificate);
        if (c.notAfter > a.coverUntil) {
          a.coverUntil = c.notAfter + store.coverSlackMs;
          await store.saveState(records);
        }
        return {
          certificate,
          notBefore: c.notBefore,
          notAfter: c.notAfter,
          kid: a.kid,
          serial: c.serial.toString('hex'),
          ...(rotated ? { rotatedFrom: rotated.retiredKid } : {}),
        };
      });
    },
    rotate() {
      return serial(rotateNow);
    },
    prune() {
      return serial(async () => {
        const now = clock.now();
        const dropped = records.filter((r) => r.status === 'retired' && (r.coverUntil < now || r.notAfter < now)).map((r) => r.kid);
        if (dropped.length === 0) return [];
        for (let i = records.length - 1; i >= 0; i--) if (dropped.includes(records[i]!.kid)) records.splice(i, 1);
        await store.saveState(records);
        return dropped;
      });
    },
    list() {
      return records.map((r) => ({ kid: r.kid, status: r.status, notAfter: r.notAfter }));
    },
  };
  Object.defineProperty(ca, inspect.custom, { value: () => `IdentityCa { trustDomain: '${options.trustDomain}', kids: ${JSON.stringify(records.map((r) => r.kid))} }` });
  Object.defineProperty(ca, 'toJSON', { value: () => ({ trustDomain: options.trustDomain, cas: ca.list() }) });
  return ca;
}

/**
 * An in-memory identity CA (tests, single-process demos): a fresh CA key, lost on exit.
 *
 * @example
 * const ca = memoryIdentityCa({ trustDomain: 'baton.local' });
 */
export function memoryIdentityCa(options: IdentityCaOptions): IdentityCa {
  const clock = options.clock ?? systemClock;
  const rec = newCaRecord(generateKeyPair(), options.trustDomain, clock.now(), (options.caTtlSeconds ?? IDENTITY_CA_DEFAULTS.caTtlSeconds) * 1000);
  const store: CaStore = { saveActive: async () => undefined, saveState: async () => undefined, dropPrivate: async () => undefined, coverSlackMs: 0 };
  return createIdentityCa([rec], store, options);
}
