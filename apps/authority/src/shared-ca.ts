/**
 * The identity CA as seen by an authority process that does not host identity.
 *
 * Services split across processes share `<dataDir>/keys/` (the same directory, or a copy
 * made like a replica's): they already need it for the service keys they prove their
 * calls with, and the identity CA (`keys/ca`) comes with it. The process hosting
 * identity owns the CA: it alone rotates, prunes and publishes `trust-bundle.pem`. Every
 * other process only reads it (`openSharedIdentityCa`: nothing is created, rotated or
 * written), to issue its own listener certificate and to learn the bundle its peers
 * chain to.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BatonError, type Clock } from '@baton/core';
import { openSharedIdentityCa, type IdentityCa } from '@baton/identity';
import type { AuthorityConfig } from './config.js';

/** A shared CA whose active certificate has less than this left is refused (the owner rotates 30 days ahead). */
export const MIN_CA_REMAINING_MS = 3_600_000;

/**
 * Runs `fn` with the CA from `<dataDir>/keys/ca`, read afresh and never changed here.
 * Refuses (ERR_INVALID_ARGUMENT) when there is no CA to share, rather than creating one:
 * a second CA would split the trust domain in two.
 */
export async function withSharedCa<T>(config: AuthorityConfig, clock: Clock, fn: (ca: IdentityCa) => Promise<T>): Promise<T> {
  const dir = path.join(config.dataDir, 'keys', 'ca');
  if (!fs.existsSync(path.join(dir, 'ca.json'))) {
    throw new BatonError(
      'ERR_INVALID_ARGUMENT',
      'config: tls mode "authority-ca" without the identity service needs the CA of the process hosting identity: copy its keys/ directory into this data directory',
    );
  }
  const ca = await openSharedIdentityCa(dir, { trustDomain: config.trustDomain, clock });
  const active = ca.list().find((c) => c.status === 'active')!;
  if (active.notAfter - clock.now() < MIN_CA_REMAINING_MS) {
    throw new BatonError('ERR_INVALID_ARGUMENT', 'the shared identity CA is (nearly) expired: copy keys/ca again from the process hosting identity');
  }
  return fn(ca);
}
