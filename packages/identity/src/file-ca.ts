/**
 * The identity CA on disk, laid out like the issuer's signing key ring: the active CA's
 * Ed25519 private key as `<kid>.jwk` (mode 0600) and `ca.json` (0600) with every CA
 * certificate still trusted, its status and how long its SVIDs live. The directory is
 * 0700; a directory or file readable by group or others is refused. Retired CAs keep
 * only their certificate (the private key is deleted at rotation).
 */
import path from 'node:path';
import { openKeyDirectory, readKeyJwk, readSecretFile } from '@baton/store';
import { generateKeyPair, type KeyPair } from '@baton/core';
import { parseCertificate } from '@baton/x509';
import { IDENTITY_CA_DEFAULTS, createIdentityCa, newCaRecord, type CaRecord, type CaStore, type IdentityCa, type IdentityCaOptions } from './identity-ca.js';

const STATE_FILE = 'ca.json';
const KID_RE = /^[A-Za-z0-9_-]{43}$/;
/** coverUntil grows in steps of an hour, so issuing SVIDs rarely writes the state file. */
const COVER_SLACK_MS = 3_600_000;

interface StateFile {
  version: 1;
  trustDomain: string;
  active: string;
  cas: { kid: string; status: 'active' | 'retired'; certificate: string; coverUntil: number }[];
}

/** Reads `<kid>.jwk` in `dir` without creating or changing anything (the shared reader). */
const readKey = (dir: string) => (kid: string): Promise<KeyPair> => readKeyJwk(path.join(dir, `${kid}.jwk`), kid);

function parseState(text: string, trustDomain: string): StateFile {
  const s = JSON.parse(text) as StateFile;
  if (s?.version !== 1 || typeof s.active !== 'string' || !Array.isArray(s.cas)) throw new Error('unreadable CA state');
  if (s.trustDomain !== trustDomain) throw new Error(`CA state is for trust domain ${String(s.trustDomain)}, not ${trustDomain}`);
  for (const c of s.cas) {
    if (!KID_RE.test(c.kid) || !['active', 'retired'].includes(c.status) || typeof c.certificate !== 'string' || !Number.isSafeInteger(c.coverUntil)) {
      throw new Error('unreadable CA state');
    }
  }
  if (s.cas.filter((c) => c.status === 'active').length !== 1 || !s.cas.some((c) => c.kid === s.active && c.status === 'active')) throw new Error('unreadable CA state');
  return s;
}

/** The CA records of a state file, the active one with its private key. */
async function readRecords(text: string, trustDomain: string, loadKey: (kid: string) => Promise<KeyPair>): Promise<{ records: CaRecord[]; active: string }> {
  const state = parseState(text, trustDomain);
  const records: CaRecord[] = [];
  for (const c of state.cas) {
    const certificate = Buffer.from(c.certificate, 'base64');
    const parsed = parseCertificate(certificate);
    const base: CaRecord = { kid: c.kid, status: c.status, certificate, notAfter: parsed.notAfter, coverUntil: c.coverUntil };
    if (c.status === 'active') {
      const kp = await loadKey(c.kid);
      // The certificate must certify the key the file holds.
      if (!parsed.spki.equals(kp.publicKey.export({ format: 'der', type: 'spki' }))) throw new Error('CA certificate does not match its key');
      records.push({ ...base, privateKey: kp.privateKey });
    } else {
      records.push(base);
    }
  }
  return { records, active: state.active };
}

/**
 * The identity CA in `dir` as seen by a process that does not own it (an authority process
 * without identity, issuing its own listener certificate): read once, never created,
 * rotated, pruned or written. Coverage of what it issues stays the owner's record, so the
 * owner keeps a retired CA trusted for its own SVIDs only; readers renew theirs at half-life.
 */
export async function openSharedIdentityCa(dir: string, options: Pick<IdentityCaOptions, 'trustDomain' | 'clock'>): Promise<IdentityCa> {
  const text = await readSecretFile(path.join(dir, STATE_FILE));
  const { records } = await readRecords(text, options.trustDomain, readKey(dir));
  const readOnly = async (): Promise<never> => {
    throw new TypeError('shared identity CA: only the process hosting identity changes it');
  };
  const store: CaStore = { coverSlackMs: COVER_SLACK_MS, saveActive: readOnly, dropPrivate: readOnly, saveState: async () => undefined };
  // rotateBeforeSeconds 0: issuing never rotates here.
  return createIdentityCa(records, store, { ...options, rotateBeforeSeconds: 0 });
}

/**
 * Opens (creating on first use) the identity CA kept in `dir`.
 *
 * One process owns a CA directory; replicas that share a trust domain must share one
 * directory (copied while stopped) so that they publish one bundle.
 *
 * @example
 * const ca = await openFileIdentityCa('/var/lib/baton/keys/ca', { trustDomain: 'baton.local' });
 */
export async function openFileIdentityCa(dir: string, options: IdentityCaOptions): Promise<IdentityCa> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('openFileIdentityCa needs a directory');
  const keys = await openKeyDirectory(dir, STATE_FILE);

  const store: CaStore = {
    coverSlackMs: COVER_SLACK_MS,
    saveActive: (kp, kid) => keys.saveKey(kid, kp),
    async saveState(records) {
      const state: StateFile = {
        version: 1,
        trustDomain: options.trustDomain,
        active: records.find((r) => r.status === 'active')!.kid,
        cas: records.map((r) => ({ kid: r.kid, status: r.status, certificate: r.certificate.toString('base64'), coverUntil: r.coverUntil })),
      };
      await keys.writeState(state);
    },
    dropPrivate: (kid) => keys.dropKey(kid),
  };

  const text = await keys.readState();
  if (text === undefined) {
    const kp = generateKeyPair();
    const now = (options.clock ?? { now: () => Date.now() }).now();
    const rec = newCaRecord(kp, options.trustDomain, now, (options.caTtlSeconds ?? IDENTITY_CA_DEFAULTS.caTtlSeconds) * 1000);
    await store.saveActive(kp, rec.kid);
    await store.saveState([rec]);
    return createIdentityCa([rec], store, options);
  }
  const { records, active } = await readRecords(text, options.trustDomain, (kid) => keys.loadKey(kid));
  // Leftover private keys of CAs no longer active (a crash mid-rotation) are deleted.
  await keys.dropKeysOtherThan(active);
  return createIdentityCa(records, store, options);
}
