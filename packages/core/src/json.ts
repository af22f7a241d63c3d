/**
 * Strict JSON parsing for untrusted input, and canonical JSON (RFC 8785 style) for
 * hashing and equality.
 */
import { BatonError } from './errors.js';
import { sha256 } from './hash.js';
import { scanJson } from './json-scan.js';

/** Options of {@link parseJsonStrict}. */
export interface ParseJsonOptions {
  /** Deepest nesting of arrays and objects accepted (a bare scalar is depth 0). Default 32. */
  readonly maxDepth?: number;
  /** Largest input accepted, in UTF-8 bytes. Default 65 536 (64 KiB). */
  readonly maxBytes?: number;
}

/** Defaults of {@link ParseJsonOptions}: small enough for every header and payload Baton parses. */
export const PARSE_JSON_DEFAULTS = Object.freeze({ maxDepth: 32, maxBytes: 64 * 1024 });

const LONE_SURROGATE_ANY = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

const fail = (detail: string): never => {
  throw new BatonError('ERR_JSON_INVALID', detail);
};

/**
 * Parse untrusted JSON text, rejecting what `JSON.parse` silently accepts: duplicate
 * object keys (last-wins ambiguity), the keys `__proto__`, `constructor` and
 * `prototype`, nesting deeper than `maxDepth`, inputs above `maxBytes` and lone UTF-16
 * surrogates. Fails with `ERR_JSON_INVALID`.
 *
 * One iterative pre-scan (no recursion, so 10 000 levels cannot overflow the stack)
 * checks keys and depth; the native `JSON.parse` then builds the value without a reviver.
 *
 * @example parseJsonStrict('{"a":1}') // { a: 1 }
 */
export function parseJsonStrict(text: string, opts?: ParseJsonOptions): unknown {
  if (typeof text !== 'string') throw new TypeError('parseJsonStrict expects a string');
  const maxDepth = opts?.maxDepth ?? PARSE_JSON_DEFAULTS.maxDepth;
  const maxBytes = opts?.maxBytes ?? PARSE_JSON_DEFAULTS.maxBytes;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 0) throw new TypeError('maxDepth must be a non-negative integer');
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new TypeError('maxBytes must be a non-negative integer');

  // UTF-8 length >= UTF-16 length, so the exact byte count is needed only near the limit.
  if (text.length > maxBytes) fail('input too large');
  if (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes) fail('input too large');
  if (LONE_SURROGATE_ANY.test(text) && hasLoneSurrogate(text)) fail('lone surrogate');

  scanJson(text, maxDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  // An escaped lone surrogate (\ud800) only shows after decoding; this is rare, so the
  // walk runs only when the text contains a surrogate escape at all.
  if (text.indexOf('\\') !== -1 && SURROGATE_ESCAPE.test(text) && containsLoneSurrogate(value)) fail('lone surrogate');
  return value;
}

function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

// Walks with an explicit stack; the value is already depth-limited by the scan.
function containsLoneSurrogate(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (hasLoneSurrogate(v)) return true;
    } else if (Array.isArray(v)) {
      for (const child of v) stack.push(child);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (hasLoneSurrogate(k)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no
 * whitespace, numbers as ECMAScript `String(n)`, strings JSON-escaped, `undefined`
 * object members omitted, arrays in order. Only plain objects, arrays, strings, finite
 * numbers, booleans and null are accepted; anything else (NaN, ±Infinity, undefined
 * array elements, bigint, class instances, cycles) is a caller mistake and throws
 * `TypeError`.
 *
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, []);
}

function write(v: unknown, ancestors: object[]): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('canonicalJson: non-finite number');
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (ancestors.includes(v)) throw new TypeError('canonicalJson: cyclic value');
      ancestors.push(v);
      let out: string;
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (let i = 0; i < v.length; i++) {
          if (v[i] === undefined) throw new TypeError('canonicalJson: undefined array element');
          parts.push(write(v[i], ancestors));
        }
        out = `[${parts.join(',')}]`;
      } else {
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) throw new TypeError('canonicalJson: not a plain object');
        const rec = v as Record<string, unknown>;
        const parts: string[] = [];
        // Default sort compares UTF-16 code units, which is what RFC 8785 prescribes.
        for (const k of Object.keys(rec).sort()) {
          if (rec[k] === undefined) continue;
          parts.push(`${JSON.stringify(k)}:${write(rec[k], ancestors)}`);
        }
        out = `{${parts.join(',')}}`;
      }
      ancestors.pop();
      return out;
    }
    default:
      throw new TypeError(`canonicalJson: unsupported ${typeof v}`);
  }
}

/**
 * SHA-256 of {@link canonicalJson}: a stable digest of a JSON value regardless of key
 * order or formatting.
 *
 * @example canonicalHash({ a: 1, b: 2 }).equals(canonicalHash({ b: 2, a: 1 })) // true
 */
export function canonicalHash(value: unknown): Buffer {
  return sha256(canonicalJson(value));
}
