/**
 * PEM armour for certificates (RFC 7468): TLS contexts and files want PEM, the wire and
 * the trust bundle carry DER.
 */

const CERT_RE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** One certificate as PEM text (64-character lines, trailing newline). */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every CERTIFICATE block of a PEM text, as DER, in order. Other blocks are ignored. */
export function pemToDers(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(CERT_RE)) out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  return out;
}
