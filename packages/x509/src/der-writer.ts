/**
 * A minimal ASN.1 DER encoder: exactly the types an X.509 certificate needs, each in its
 * one canonical DER form (minimal lengths, minimal integers, no default values). Values
 * are built bottom-up as byte buffers; a constructed value is its tag, its length and
 * the concatenation of its children.
 */

/** Universal and context tags used by certificates. */
export const Tag = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const);

/** DER length octets: short form below 128, else the minimal long form. */
export function encodeLength(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError('DER length must be a non-negative integer');
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with `tag` around `content`. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xfe || (tag & 0x1f) === 0x1f) throw new TypeError('only single-octet DER tags are supported');
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE of the given encoded children. */
export function sequence(...children: readonly Uint8Array[]): Buffer {
  return tlv(Tag.SEQUENCE, Buffer.concat(children));
}

/** SET OF: DER sorts the encoded elements as octet strings. */
export function setOf(...children: readonly Uint8Array[]): Buffer {
  const sorted = [...children].map((c) => Buffer.from(c)).sort(Buffer.compare);
  return tlv(Tag.SET, Buffer.concat(sorted));
}

/** BOOLEAN (DER: TRUE is 0xff). */
export function boolean(value: boolean): Buffer {
  return tlv(Tag.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

/**
 * INTEGER from a non-negative bigint or number, or from unsigned big-endian bytes
 * (serial numbers). Minimal two's complement: a leading 0x00 only when the high bit is
 * set, no redundant leading zeros.
 */
export function integer(value: bigint | number | Uint8Array): Buffer {
  let bytes: Buffer;
  if (value instanceof Uint8Array) {
    bytes = Buffer.from(value);
  } else {
    const v = BigInt(value);
    if (v < 0n) throw new TypeError('negative DER integers are not needed here');
    const hex = v.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(Tag.INTEGER, bytes);
}

/** NULL. */
export function nullValue(): Buffer {
  return Buffer.from([Tag.NULL, 0x00]);
}

/** Content octets of an OBJECT IDENTIFIER in dotted form (`2.5.29.17`). */
export function oidContent(dotted: string): Buffer {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) throw new TypeError(`malformed OID ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [a, b] = [arcs[0]!, arcs[1]!];
  if (a < 2n && b > 39n) throw new TypeError(`malformed OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [a * 40n + b, ...arcs.slice(2)]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return Buffer.from(out);
}

/** OBJECT IDENTIFIER. */
export function oid(dotted: string): Buffer {
  return tlv(Tag.OID, oidContent(dotted));
}

/** OCTET STRING. */
export function octetString(content: Uint8Array): Buffer {
  return tlv(Tag.OCTET_STRING, content);
}

/** BIT STRING of whole octets (keys, signatures): zero unused bits. */
export function bitString(content: Uint8Array): Buffer {
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([0]), content]));
}

/**
 * A named-bit BIT STRING (KeyUsage) from the numbers of the bits that are set, bit 0
 * being the most significant bit of the first octet. DER drops trailing zero bits.
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(Tag.BIT_STRING, Buffer.from([0]));
  for (const b of bits) if (!Number.isInteger(b) || b < 0 || b > 63) throw new TypeError('bit numbers must be 0..63');
  const highest = Math.max(...bits);
  const octets = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) octets[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (highest & 7);
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([unused]), octets]));
}

/** UTF8String. */
export function utf8String(s: string): Buffer {
  return tlv(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
}

/** IA5String content check: 7-bit ASCII only. */
function ia5(s: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(s)) throw new TypeError('IA5String must be ASCII');
  return Buffer.from(s, 'ascii');
}

/** `[n] IMPLICIT IA5String`, as used by GeneralName (dNSName [2], uniformResourceIdentifier [6]). */
export function contextIa5(n: number, s: string): Buffer {
  return tlv(0x80 | n, ia5(s));
}

/** `[n] IMPLICIT OCTET STRING` (primitive context tag), e.g. iPAddress [7], keyIdentifier [0]. */
export function contextPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content);
}

/** `[n] EXPLICIT` around one encoded value (constructed context tag). */
export function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | n, inner);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * RFC 5280 §4.1.2.5 Time: UTCTime (`YYMMDDHHMMSSZ`) for 1950–2049, GeneralizedTime
 * (`YYYYMMDDHHMMSSZ`) otherwise; whole seconds, UTC.
 */
export function time(ms: number): Buffer {
  if (!Number.isFinite(ms)) throw new TypeError('time must be finite');
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new TypeError('time out of range');
  const rest = `${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
  if (y >= 1950 && y <= 2049) return tlv(Tag.UTC_TIME, Buffer.from(`${pad(y % 100, 2)}${rest}`, 'ascii'));
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(`${pad(y, 4)}${rest}`, 'ascii'));
}
