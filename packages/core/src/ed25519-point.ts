/**
 * Validation of an Ed25519 public key encoding (RFC 8032 §5.1.3), which node:crypto
 * does not do on import: OpenSSL stores any 32 bytes and only fails later, and it
 * happily verifies under small-order keys, for which signatures can be made without any
 * private key (the identity point accepts `R = [S]B` for every message).
 *
 * Internal to core. Runs once per key (callers cache the imported KeyObject).
 */

const P = (1n << 255n) - 19n;
const MASK = (1n << 255n) - 1n;
const D = mod(-121665n * inverse(121666n));
/** sqrt(-1) mod p = 2^((p-1)/4). */
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/** Fast reduction for 0 <= x < 2^510, using 2^255 = 19 (mod p). */
function reduce(x: bigint): bigint {
  let r = (x & MASK) + 19n * (x >> 255n);
  r = (r & MASK) + 19n * (r >> 255n);
  return r >= P ? r - P : r;
}

function squareTimes(x: bigint, k: number): bigint {
  let r = x;
  for (let i = 0; i < k; i++) r = reduce(r * r);
  return r;
}

/** x^((p-5)/8) = x^(2^252 - 3), by the usual addition chain (252 squarings, 11 products). */
function powP58(x: bigint): bigint {
  const b2 = reduce(reduce(x * x) * x); // x^(2^2 - 1)
  const b4 = reduce(squareTimes(b2, 2) * b2);
  const b5 = reduce(squareTimes(b4, 1) * x);
  const b10 = reduce(squareTimes(b5, 5) * b5);
  const b20 = reduce(squareTimes(b10, 10) * b10);
  const b40 = reduce(squareTimes(b20, 20) * b20);
  const b80 = reduce(squareTimes(b40, 40) * b40);
  const b160 = reduce(squareTimes(b80, 80) * b80);
  const b240 = reduce(squareTimes(b160, 80) * b80);
  const b250 = reduce(squareTimes(b240, 10) * b10);
  return reduce(squareTimes(b250, 2) * x);
}

/** Generic square-and-multiply; only used to derive the constants below at load time. */
function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function inverse(a: bigint): bigint {
  return pow(a, P - 2n);
}

/** Little-endian bytes → bigint. */
function fromLe(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Doubles an extended-coordinates point on -x^2 + y^2 = 1 + d x^2 y^2 (a = -1). */
function double([x1, y1, z1]: readonly [bigint, bigint, bigint]): [bigint, bigint, bigint] {
  const a = (x1 * x1) % P;
  const b = (y1 * y1) % P;
  const c = (2n * z1 * z1) % P;
  const dd = mod(-a);
  const e = mod((x1 + y1) * (x1 + y1) - a - b);
  const g = mod(dd + b);
  const f = mod(g - c);
  const h = mod(dd - b);
  return [(e * f) % P, (g * h) % P, (f * g) % P];
}

/**
 * True when `raw` is the canonical encoding of a curve point whose order is not a
 * divisor of 8 (i.e. not one of the eight small-order points).
 */
export function isValidEd25519PublicKey(raw: Uint8Array): boolean {
  if (raw.length !== 32) return false;
  const bytes = Uint8Array.from(raw);
  const sign = bytes[31]! >> 7;
  bytes[31]! &= 0x7f;
  const y = fromLe(bytes);
  if (y >= P) return false; // non-canonical encoding

  // Recover x from y (RFC 8032 §5.1.3): x^2 = (y^2 - 1) / (d y^2 + 1).
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = (v * v * v) % P;
  const v7 = (v3 * v3 * v) % P;
  let x = reduce(reduce(u * v3) * powP58(reduce(u * v7)));
  const vx2 = (v * x * x) % P;
  if (vx2 === u) {
    // x is a root
  } else if (vx2 === mod(-u)) {
    x = (x * SQRT_M1) % P;
  } else {
    return false; // no such point on the curve
  }
  if (x === 0n && sign === 1) return false;

  // Small order ⇔ [8]P is the identity (X = 0, Y = Z).
  let pt: [bigint, bigint, bigint] = [x, y, 1n];
  pt = double(double(double(pt)));
  return !(pt[0] === 0n && pt[1] === pt[2]);
}
