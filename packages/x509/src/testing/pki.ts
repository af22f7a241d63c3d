/**
 * Test PKI: identity CAs and SVIDs made with this package's own builders, plus the
 * hand-made bad certificates the attack tests need. Excluded from the build.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { buildCertificate, encodeName, type CertificateExtension } from '../certificate-builder.js';
import { authorityKeyIdentifier, basicConstraints, extKeyUsage, keyUsage, subjectAltName } from '../extensions.js';
import { createCaCertificate, issueSvid, randomSerial, type CaKey } from '../issue.js';
import { KeyUsageBit, Oid } from '../oids.js';
import { parseCertificate } from '../certificate-parser.js';
import { svidOf, type Svid } from '../svid-source.js';
import { TrustBundle } from '../trust-bundle.js';

export const TD = 'baton.local';
export const HOUR = 3_600_000;
/** A fixed "now" for pure tests. */
export const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);

export interface Keys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function ed25519(): Keys {
  return generateKeyPairSync('ed25519');
}

export interface TestCa extends CaKey {
  readonly certificate: Buffer;
  readonly keys: Keys;
  readonly bundle: TrustBundle;
}

/** A CA for `td`, valid NOW ± 30 days unless told otherwise. */
export function makeCa(td = TD, o: { notBeforeMs?: number; notAfterMs?: number; commonName?: string; keys?: Keys } = {}): TestCa {
  const keys = o.keys ?? ed25519();
  const certificate = createCaCertificate({
    privateKey: keys.privateKey,
    trustDomain: td,
    notBeforeMs: o.notBeforeMs ?? NOW - 30 * 24 * HOUR,
    notAfterMs: o.notAfterMs ?? NOW + 30 * 24 * HOUR,
    ...(o.commonName ? { commonName: o.commonName } : {}),
  });
  return { certificate, privateKey: keys.privateKey, keys, bundle: TrustBundle.fromDer(td, [certificate]) };
}

export function agentId(name: string, td = TD): string {
  return `spiffe://${td}/agent/orch-1/task-1/${name}`;
}

/** A well-formed SVID from `ca`, valid NOW - 1 h .. NOW + 1 h by default. */
export function makeSvid(ca: CaKey, spiffeId: string, o: { keys?: Keys; notBeforeMs?: number; notAfterMs?: number } = {}): { der: Buffer; keys: Keys; svid: Svid } {
  const keys = o.keys ?? ed25519();
  const der = issueSvid({ ca, spiffeId, publicKey: keys.publicKey, notBeforeMs: o.notBeforeMs ?? NOW - HOUR, notAfterMs: o.notAfterMs ?? NOW + HOUR });
  return { der, keys, svid: svidOf(der, keys.privateKey) };
}

/**
 * A leaf signed by `ca` with arbitrary extensions: for certificates Baton's issuer would
 * never make (a leaf flagged CA, two URI SANs, ...). Defaults mirror a good SVID.
 */
export function makeCustomLeaf(
  ca: CaKey,
  o: { extensions: CertificateExtension[]; keys?: Keys; notBeforeMs?: number; notAfterMs?: number },
): { der: Buffer; keys: Keys } {
  const keys = o.keys ?? ed25519();
  const caCert = parseCertificate(ca.certificate);
  const der = buildCertificate(
    {
      serial: randomSerial(),
      issuer: caCert.subject,
      subject: encodeName([{ oid: Oid.organizationName, value: 'Baton' }]),
      notBeforeMs: o.notBeforeMs ?? NOW - HOUR,
      notAfterMs: o.notAfterMs ?? NOW + HOUR,
      publicKey: keys.publicKey,
      extensions: o.extensions,
    },
    ca.privateKey,
  );
  return { der, keys };
}

/** The extensions of a good SVID for `uris`, with `override` replacing entries by OID. */
export function svidExtensions(ca: CaKey, uris: string[], override: CertificateExtension[] = []): CertificateExtension[] {
  const caCert = parseCertificate(ca.certificate);
  const base: CertificateExtension[] = [
    basicConstraints(false),
    keyUsage([KeyUsageBit.digitalSignature]),
    extKeyUsage([Oid.serverAuth, Oid.clientAuth]),
    ...(uris.length > 0 ? [subjectAltName({ uris })] : []),
    authorityKeyIdentifier(caCert.subjectKeyId!),
  ];
  const replaced = new Set(override.map((e) => e.oid));
  return [...base.filter((e) => !replaced.has(e.oid)), ...override];
}
