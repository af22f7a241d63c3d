/**
 * A strict ASN.1 DER decoder for the parts of a certificate Baton checks. Anything that
 * is not canonical DER — indefinite or non-minimal lengths, multi-octet tags, trailing
 * bytes, non-minimal integers, a BOOLEAN other than 0x00/0xff, sloppy times — is refused
 * with ERR_PEER_CERT_INVALID: certificates arrive from peers and are untrusted input.
 */
import { BatonError } from '@baton/core';
import { Tag } from './der-writer.js';

/** One decoded TLV. `value` and `raw` are views into the input. */
export interface Tlv {
  readonly tag: number;
  /** Content octets. */
  readonly value: Buffer;
  /** Tag, length and content octets. */
  readonly raw: Buffer;
  /** Offset just past this TLV in the buffer it was read from. */
  readonly end: number;
}

/** Deepest nesting a certificate needs; deeper input is refused rather than recursed into. */
const MAX_DEPTH = 32;

function fail(detail: string): never {
  throw new BatonError('ERR_PEER_CERT_INVALID', `malformed DER: ${detail}`);
}

/** Reads the TLV at `offset`. */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) fail('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) fail('multi-octet tag');
  let len = buf[offset + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) fail('indefinite length');
    if (n > 4) fail('length too large');
    if (offset + 2 + n > buf.length) fail('truncated length');
    if (buf[offset + 2] === 0) fail('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    if (len < 0x80) fail('non-minimal length');
    header += n;
  }
  const end = offset + header + len;
  if (end > buf.length) fail('truncated value');
  return { tag, value: buf.subarray(offset + header, end), raw: buf.subarray(offset, end), end };
}

/** Reads exactly one TLV that must fill `buf` completely. */
export function readOne(buf: Buffer, tag?: number): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) fail('trailing bytes');
  if (tag !== undefined) expectTag(t, tag);
  return t;
}

/** Throws unless `t` has `tag`. */
export function expectTag(t: Tlv, tag: number): Tlv {
  if (t.tag !== tag) fail(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** The children of a constructed TLV, which must exactly fill its content. */
export function childrenOf(t: Tlv, depth = 0): Tlv[] {
  if (depth > MAX_DEPTH) fail('nesting too deep');
  if ((t.tag & 0x20) === 0) fail('expected a constructed value');
  const out: Tlv[] = [];
  for (let off = 0; off < t.value.length; ) {
    const c = readTlv(t.value, off);
    out.push(c);
    off = c.end;
  }
  return out;
}

/** INTEGER content as unsigned big-endian bytes (must be minimal and non-negative). */
export function readUnsignedInteger(t: Tlv): Buffer {
  expectTag(t, Tag.INTEGER);
  const v = t.value;
  if (v.length === 0) fail('empty integer');
  if (v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))) fail('non-minimal integer');
  if (v[0]! & 0x80) fail('negative integer');
  return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
}

/** A small non-negative INTEGER as a number. */
export function readSmallInteger(t: Tlv): number {
  const bytes = readUnsignedInteger(t);
  if (bytes.length > 4) fail('integer too large');
  return bytes.reduce((acc, b) => acc * 256 + b, 0);
}

/** BOOLEAN (DER: exactly 0x00 or 0xff). */
export function readBoolean(t: Tlv): boolean {
  expectTag(t, Tag.BOOLEAN);
  if (t.value.length !== 1 || (t.value[0] !== 0 && t.value[0] !== 0xff)) fail('malformed boolean');
  return t.value[0] === 0xff;
}

/** OBJECT IDENTIFIER in dotted form. */
export function readOid(t: Tlv): string {
  expectTag(t, Tag.OID);
  const v = t.value;
  if (v.length === 0 || v.length > 64) fail('malformed OID');
  const arcs: bigint[] = [];
  let acc = 0n;
  let fresh = true;
  for (const byte of v) {
    if (fresh && byte === 0x80) fail('non-minimal OID arc');
    acc = (acc << 7n) | BigInt(byte & 0x7f);
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      arcs.push(acc);
      acc = 0n;
    }
  }
  if (!fresh) fail('truncated OID');
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].map(String).join('.');
}

/** BIT STRING: the unused-bit count and the octets. DER: unused bits are zero. */
export function readBitString(t: Tlv): { readonly unused: number; readonly bytes: Buffer } {
  expectTag(t, Tag.BIT_STRING);
  if (t.value.length === 0) fail('empty bit string');
  const unused = t.value[0]!;
  const bytes = t.value.subarray(1);
  if (unused > 7 || (bytes.length === 0 && unused !== 0)) fail('malformed bit string');
  if (unused > 0 && (bytes[bytes.length - 1]! & ((1 << unused) - 1)) !== 0) fail('non-zero unused bits');
  return { unused, bytes };
}

/** The numbers of the bits set in a named-bit BIT STRING (bit 0 = MSB of the first octet). */
export function readNamedBits(t: Tlv): Set<number> {
  const { bytes } = readBitString(t);
  const out = new Set<number>();
  bytes.forEach((byte, i) => {
    for (let b = 0; b < 8; b++) if (byte & (0x80 >> b)) out.add(i * 8 + b);
  });
  return out;
}

/** UTCTime or GeneralizedTime (RFC 5280 forms: whole seconds, `Z`) as ms since the epoch. */
export function readTime(t: Tlv): number {
  const s = t.value.toString('latin1');
  let year: number;
  let rest: string;
  if (t.tag === Tag.UTC_TIME) {
    if (!/^\d{12}Z$/.test(s)) fail('malformed UTCTime');
    const yy = Number(s.slice(0, 2));
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = s.slice(2);
  } else if (t.tag === Tag.GENERALIZED_TIME) {
    if (!/^\d{14}Z$/.test(s)) fail('malformed GeneralizedTime');
    year = Number(s.slice(0, 4));
    rest = s.slice(4);
  } else {
    fail('expected a time');
  }
  const [mo, d, h, mi, se] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2))) as [number, number, number, number, number];
  const ms = Date.UTC(year, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  // Reject dates that Date.UTC silently normalised (Feb 30, hour 24, ...).
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== se) {
    fail('impossible date');
  }
  return ms;
}

/** IA5String-like content (GeneralName URI/DNS): printable ASCII only. */
export function readAscii(t: Tlv): string {
  const s = t.value.toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(s)) fail('non-ASCII name');
  return s;
}
