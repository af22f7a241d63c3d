/**
 * The identity CA as seen by an authority process that does not host identity.
 *
 * Services split across processes share `<dataDir>/keys/` (the same directory, or a copy
 * made like a replica's): they already need it for the service keys they prove their
 * calls with, and the identity CA (`keys/ca`) comes with it. The process hosting
 * identity owns the CA: it alone rotates, prunes and publishes `trust-bundle.pem`. Every
 * other process only reads it, to issue its own listener certificate and to learn the
 * bundle its peers chain to.
 *
 * It reads a private snapshot (`<dataDir>/run/ca-*`, 0700, removed right after): opening
 * a CA directory may write its state file and delete key files it considers stale, and
 * a second writer racing the owner's rotation must never be possible.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BatonError, type Clock } from '@baton/core';
import { openFileIdentityCa, type IdentityCa } from '@baton/identity';
import type { AuthorityConfig } from './config.js';

/** A snapshot whose active CA has less than this left is refused (the owner rotates 30 days ahead). */
export const MIN_CA_REMAINING_MS = 3_600_000;

/** Snapshots older than this are leftovers of a crash (a live one lasts one certificate issuance). */
const STALE_SNAPSHOT_MS = 600_000;

function removeStaleSnapshots(runDir: string): void {
  for (const name of fs.readdirSync(runDir)) {
    if (!name.startsWith('ca-')) continue;
    const p = path.join(runDir, name);
    try {
      if (Date.now() - fs.statSync(p).mtimeMs > STALE_SNAPSHOT_MS) fs.rmSync(p, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

function copySnapshot(from: string, runDir: string): string {
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  // A crash between copy and removal leaves a copy of the CA key behind; clear old ones.
  removeStaleSnapshots(runDir);
  const snap = fs.mkdtempSync(path.join(runDir, 'ca-'));
  for (const name of fs.readdirSync(from)) {
    if (name === 'ca.json' || name.endsWith('.jwk')) fs.copyFileSync(path.join(from, name), path.join(snap, name));
  }
  return snap;
}

/**
 * Runs `fn` with the CA from `<dataDir>/keys/ca`, read from a throwaway copy and never
 * rotated here. Refuses (ERR_INVALID_ARGUMENT) when there is no CA to share, rather than
 * creating one: a second CA would split the trust domain in two.
 */
export async function withSharedCa<T>(config: AuthorityConfig, clock: Clock, fn: (ca: IdentityCa) => Promise<T>): Promise<T> {
  const dir = path.join(config.dataDir, 'keys', 'ca');
  if (!fs.existsSync(path.join(dir, 'ca.json'))) {
    throw new BatonError(
      'ERR_INVALID_ARGUMENT',
      'config: tls mode "authority-ca" without the identity service needs the CA of the process hosting identity: copy its keys/ directory into this data directory',
    );
  }
  const snap = copySnapshot(dir, path.join(config.dataDir, 'run'));
  try {
    // rotateBeforeSeconds 0: this copy never rotates (only the owner does).
    const ca = await openFileIdentityCa(snap, { trustDomain: config.trustDomain, clock, rotateBeforeSeconds: 0 });
    const active = ca.list().find((c) => c.status === 'active')!;
    if (active.notAfter - clock.now() < MIN_CA_REMAINING_MS) {
      throw new BatonError('ERR_INVALID_ARGUMENT', 'the shared identity CA is (nearly) expired: copy keys/ca again from the process hosting identity');
    }
    return await fn(ca);
  } finally {
    fs.rmSync(snap, { recursive: true, force: true });
  }
}
