/**
 * An attacker's (or a compromised insider's) JWS workbench: compact JWS built from raw
 * JSON text, so duplicate members, odd numbers and forbidden keys reach the wire exactly
 * as written, signed by whatever the attack needs (the real signing key, a foreign key,
 * an HMAC over the public key, nothing at all).
 */
import crypto, { type KeyObject } from 'node:crypto';

/** base64url without padding. */
export function b64(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** The JSON text of a compact JWS's header and payload, as they were signed. */
export function segmentsOf(compact: string): { headerText: string; payloadText: string; signature: string } {
  const [h, p, s] = compact.split('.');
  if (h === undefined || p === undefined || s === undefined) throw new TypeError('not a compact JWS');
  return { headerText: Buffer.from(h, 'base64url').toString('utf8'), payloadText: Buffer.from(p, 'base64url').toString('utf8'), signature: s };
}

/** Produces the signature segment for a signing input. */
export type Signer = (signingInput: Buffer) => Uint8Array | string;

/** Ed25519 (EdDSA) with `key`. */
export const ed25519 =
  (key: KeyObject): Signer =>
  (input) =>
    crypto.sign(null, input, key);

/** HMAC-SHA-256 with `secret` (the classic "public key as HMAC secret" confusion). */
export const hmac =
  (secret: string | Uint8Array): Signer =>
  (input) =>
    crypto.createHmac('sha256', secret).update(input).digest();

/** RS256 / ES256 with a key of that type. */
export const rsaOrEc =
  (key: KeyObject, dsaEncoding: 'der' | 'ieee-p1363' = 'ieee-p1363'): Signer =>
  (input) =>
    crypto.sign('sha256', input, { key, dsaEncoding });

/** A fixed signature segment (empty for `alg: none`, random bytes for a forgery). */
export const fixed =
  (segment: string): Signer =>
  () =>
    segment;

/** A compact JWS from header and payload JSON text, exactly as given. */
export function jwsFromText(headerText: string, payloadText: string, sign: Signer): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  const sig = sign(Buffer.from(input, 'latin1'));
  return `${input}.${typeof sig === 'string' ? sig : b64(sig)}`;
}

/** A compact JWS from header and payload objects (JSON.stringify, so no duplicates). */
export function jws(header: Record<string, unknown>, payload: Record<string, unknown>, sign: Signer): string {
  return jwsFromText(JSON.stringify(header), JSON.stringify(payload), sign);
}

/**
 * Re-signs `token` after editing its payload text (and optionally its header text):
 * with the authority's own key this is what only a signing-key holder could produce, so
 * whatever the verifier still refuses is refused by its parser, not by the signature.
 */
export function resign(token: string, key: KeyObject, edit: { payload?: (text: string) => string; header?: (text: string) => string }): string {
  const { headerText, payloadText } = segmentsOf(token);
  return jwsFromText(edit.header ? edit.header(headerText) : headerText, edit.payload ? edit.payload(payloadText) : payloadText, ed25519(key));
}

/** Replaces the first `"name":<value>` member of an object's JSON text, keeping the rest as written. */
export function withMember(text: string, name: string, valueText: string): string {
  const obj = JSON.parse(text) as Record<string, unknown>;
  if (!Object.hasOwn(obj, name)) return `${text.slice(0, -1)},${JSON.stringify(name)}:${valueText}}`;
  const rest = { ...obj };
  delete rest[name];
  const body = JSON.stringify(rest).slice(1, -1);
  return `{${JSON.stringify(name)}:${valueText}${body === '' ? '' : `,${body}`}}`;
}

/** Appends a raw member (possibly a duplicate, possibly a forbidden key) to an object's JSON text. */
export function appendMember(text: string, rawMember: string): string {
  return `${text.slice(0, -1)},${rawMember}}`;
}
