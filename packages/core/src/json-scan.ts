/**
 * The pre-scan behind `parseJsonStrict`: one iterative pass that enforces nesting depth
 * and rejects duplicate and forbidden object keys before `JSON.parse` runs.
 *
 * It is exact for valid JSON. On invalid JSON it may stop at the first oddity it notices
 * or let `JSON.parse` reject the text afterwards; either way the text is refused.
 */
import { BatonError } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;

/** Keys that mean something to JavaScript object machinery; never legitimate in Baton data. */
export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// Fast-path limits: beyond them the string-based path takes over, so a hostile object
// with thousands of keys costs O(n) with a Set instead of O(n²) comparisons.
const FAST_MAX_KEYS = 1024;
const FAST_MAX_KEYS_PER_OBJECT = 48;
const FAST_MAX_DEPTH = 64;

// Reused between calls: the scan is synchronous and never re-entered.
const keyStart = new Int32Array(FAST_MAX_KEYS);
const keyLength = new Int32Array(FAST_MAX_KEYS);
const keyLast = new Uint16Array(FAST_MAX_KEYS);
const objStart = new Int32Array(FAST_MAX_DEPTH);

const fail = (detail: string): never => {
  throw new BatonError('ERR_JSON_INVALID', detail);
};

/** Throws ERR_JSON_INVALID on nesting deeper than `maxDepth`, duplicate or forbidden keys. */
export function scanJson(text: string, maxDepth: number): void {
  // Without any backslash every quote is a string delimiter and keys are raw text, so
  // keys can be compared in place without allocating strings (the common case).
  if (maxDepth <= FAST_MAX_DEPTH && text.indexOf('\\') === -1 && scanUnescaped(text, maxDepth)) return;
  scanGeneral(text, maxDepth);
}

/** Returns false when the text exceeds the fast-path limits (nothing is decided then). */
function scanUnescaped(text: string, maxDepth: number): boolean {
  const n = text.length;
  let depth = 0;
  let top = 0; // number of keys recorded for the objects currently open
  let expectKey = false;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      const end = text.indexOf('"', i + 1);
      if (end === -1) fail('unterminated string');
      if (expectKey) {
        expectKey = false;
        const s = i + 1;
        const len = end - s;
        // Length and last character first, so most comparisons end in two integer tests.
        const last = len > 0 ? text.charCodeAt(end - 1) : 0;
        const first = objStart[depth - 1];
        if (top - first >= FAST_MAX_KEYS_PER_OBJECT || top >= FAST_MAX_KEYS) return false;
        for (let k = first; k < top; k++) {
          if (keyLength[k] === len && keyLast[k] === last && sameText(text, keyStart[k], s, len)) fail('duplicate key');
        }
        if (len === 9 || len === 11) {
          if (FORBIDDEN_JSON_KEYS.has(text.slice(s, end))) fail('forbidden key');
        }
        keyStart[top] = s;
        keyLength[top] = len;
        keyLast[top] = last;
        top++;
      }
      i = end;
      continue;
    }
    switch (ch) {
      case LBRACE:
        if (depth >= maxDepth) fail('nesting too deep');
        objStart[depth++] = top;
        expectKey = true;
        break;
      case LBRACKET:
        if (depth >= maxDepth) fail('nesting too deep');
        objStart[depth++] = -1;
        expectKey = false;
        break;
      case RBRACE:
      case RBRACKET: {
        if (depth === 0) fail('unbalanced brackets');
        const st = objStart[--depth];
        if (st >= 0) top = st;
        expectKey = false;
        break;
      }
      case COMMA:
        expectKey = depth > 0 && objStart[depth - 1] >= 0;
        break;
      default:
        break;
    }
  }
  return true;
}

function sameText(t: string, a: number, b: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (t.charCodeAt(a + i) !== t.charCodeAt(b + i)) return false;
  return true;
}

/** Handles escapes and any size: keys are decoded and kept in one Set per open object. */
function scanGeneral(text: string, maxDepth: number): void {
  const keys: (Set<string> | null)[] = []; // null marks an open array
  const n = text.length;
  let expectKey = false;
  let nextBackslash = text.indexOf('\\');
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      let end = text.indexOf('"', i + 1);
      if (end === -1) fail('unterminated string');
      if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = text.indexOf('\\', i + 1);
      const escaped = nextBackslash !== -1 && nextBackslash < end;
      if (escaped) {
        // A quote preceded by a backslash does not end the string: walk the escapes.
        let j = nextBackslash;
        for (;;) {
          if (j >= n) fail('unterminated string');
          const c = text.charCodeAt(j);
          if (c === BACKSLASH) j += 2;
          else if (c === QUOTE) break;
          else j++;
        }
        end = j;
        nextBackslash = text.indexOf('\\', end + 1);
      }
      if (expectKey) {
        expectKey = false;
        const raw = text.slice(i + 1, end);
        const key = escaped ? decodeString(raw) : raw;
        if (FORBIDDEN_JSON_KEYS.has(key)) fail('forbidden key');
        const seen = keys[keys.length - 1]!;
        if (seen.has(key)) fail('duplicate key');
        seen.add(key);
      }
      i = end;
      continue;
    }
    switch (ch) {
      case LBRACE:
        if (keys.length >= maxDepth) fail('nesting too deep');
        keys.push(new Set());
        expectKey = true;
        break;
      case LBRACKET:
        if (keys.length >= maxDepth) fail('nesting too deep');
        keys.push(null);
        expectKey = false;
        break;
      case RBRACE:
      case RBRACKET:
        if (keys.pop() === undefined) fail('unbalanced brackets');
        expectKey = false;
        break;
      case COMMA:
        expectKey = keys.length > 0 && keys[keys.length - 1] !== null;
        break;
      default:
        break;
    }
  }
}

function decodeString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return fail('bad string escape');
  }
}
