/**
 * The delegation hop wire format (issue 3): a compact JWS signed by the delegating
 * agent's own key, in exactly one canonical encoding, so that its hash and the chain hash
 * built from it are well defined.
 *
 * It lives in core because three packages need the bytes and none may depend on another:
 * the agent SDK signs hops, the issuer embeds them in access tokens, `@baton/delegation`
 * verifies them. What a valid chain is (attenuation, expiry, policy) is delegation's.
 */
import { isUtf8 } from 'node:buffer';
import { b64urlEncode, isCanonicalB64url } from './encoding.js';
import { BatonError, isBatonError } from './errors.js';
import { sha256B64url } from './hash.js';
import { assertId } from './ids.js';
import { canonicalJson, parseJsonStrict } from './json.js';
import { okpThumbprint, signBytes, type KeyPair } from './keys.js';
import { formatScope, parseScope, type Constraint, type Scope } from './scope.js';
import { parseAgentSpiffeId } from './spiffe.js';

/** `typ` header of a hop. */
export const HOP_TYP = 'baton-hop+jwt';

/** Largest compact hop accepted, bytes. */
export const MAX_HOP_BYTES = 8192;

/** Largest `dep` a hop may carry structurally; policy caps chains far lower (5). */
const MAX_STRUCTURAL_DEPTH = 16;
const MAX_HOP_SCOPES = 64;
const MAX_NUMERIC_DATE = 253_402_300_799;
const HASH_RE = /^[A-Za-z0-9_-]{43}$/;
const JTI_RE = /^[A-Za-z0-9_-]{22,128}$/;
const PRINTABLE_RE = /^[\x21-\x7e]{1,256}$/;

/**
 * A scope inside a hop: the string form when it has no constraints, else
 * `[string form, constraints]`. Shorter than the structured form, and canonical.
 */
export type HopScope = string | [string, Record<string, Constraint>];

/** What the root access token said, signed into the first hop by the root holder. */
export interface HopRoot {
  /** `jti` of the root access token. */
  readonly jti: string;
  /** The root holder's Ed25519 public key (JWK `x`): the key that signs hop 1. */
  readonly k: string;
  /** The root token's scopes. */
  readonly scp: readonly HopScope[];
  /** The root token's `exp`. */
  readonly exp: number;
}

/** The signed claims of one hop. Times are NumericDate seconds. */
export interface HopClaims {
  /** Delegator (agent SPIFFE id). */
  readonly iss: string;
  /** Delegatee (agent SPIFFE id). */
  readonly sub: string;
  /** The delegatee's Ed25519 public key (JWK `x`): the key the next hop must be signed with. */
  readonly k: string;
  /** The attenuated scopes. */
  readonly scp: readonly HopScope[];
  readonly exp: number;
  /** Hash of the previous element: the root token's SHA-256 for hop 1, else the parent chain hash. */
  readonly prv: string;
  /** Depth, 1 for the first hop. */
  readonly dep: number;
  /** The original principal. */
  readonly pri: string;
  /** The root task, `<orchestration>/<task>`. */
  readonly tsk: string;
  /** Root facts; present on hop 1 only. */
  readonly rt?: HopRoot;
}

/** A structurally valid hop (its signature not yet checked). */
export interface Hop {
  /** Canonical compact JWS. */
  readonly compact: string;
  /** base64url SHA-256 of `compact`: the HOP revocation target. */
  readonly hash: string;
  /** `kid` header: RFC 7638 thumbprint of the key that signed it. */
  readonly kid: string;
  readonly claims: HopClaims;
  /** `scp`, parsed. */
  readonly scopes: readonly Scope[];
  /** `rt.scp`, parsed (hop 1 only). */
  readonly rootScopes?: readonly Scope[];
  readonly signingInput: string;
  readonly signature: Buffer;
}

function invalid(detail: string): never {
  throw new BatonError('ERR_CHAIN_INVALID', detail);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The hop form of scopes (normalised first). Throws ERR_SCOPE_INVALID on a malformed scope. */
export function encodeHopScopes(scopes: readonly Scope[]): HopScope[] {
  if (!Array.isArray(scopes)) throw new TypeError('encodeHopScopes expects an array');
  return scopes.map((s) => {
    const n = parseScope(s);
    return n.constraints === undefined ? formatScope(n) : [formatScope(n), n.constraints];
  });
}

/**
 * Parses hop scopes strictly: 1..64 entries, each in its normalised hop form (so the
 * signed bytes have one reading). ERR_CHAIN_INVALID otherwise.
 */
export function decodeHopScopes(v: unknown, what = 'scp'): Scope[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_HOP_SCOPES) invalid(`${what} must hold 1..${MAX_HOP_SCOPES} scopes`);
  const out: Scope[] = [];
  for (const entry of v) {
    let scope: Scope;
    try {
      if (typeof entry === 'string') scope = parseScope(entry);
      else if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && isRecord(entry[1])) {
        scope = parseScope({ ...parseScope(entry[0]), constraints: entry[1] });
      } else return invalid(`${what} entry must be a string or [string, constraints]`);
    } catch (err) {
      if (isBatonError(err) && err.code !== 'ERR_CHAIN_INVALID') invalid(`${what}: ${err.detail}`);
      throw err;
    }
    if (canonicalJson(encodeHopScopes([scope])[0]) !== canonicalJson(entry)) invalid(`${what} entry is not in normalised form`);
    out.push(scope);
  }
  return out;
}

function numericDate(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > MAX_NUMERIC_DATE) invalid(`${what} must be an integer NumericDate`);
  return v as number;
}

function keyX(v: unknown, what: string): string {
  // 32 bytes; the point itself is checked when the key is imported to verify with it.
  if (typeof v !== 'string' || v.length !== 43 || !isCanonicalB64url(v)) invalid(`${what} must be a 32-byte base64url key`);
  return v;
}

function agentId(v: unknown, what: string): string {
  try {
    const id = parseAgentSpiffeId(v);
    if (id.uri !== v) invalid(`${what} is not canonical`);
    return id.uri;
  } catch (err) {
    if (isBatonError(err) && err.code === 'ERR_CHAIN_INVALID') throw err;
    return invalid(`${what} is not an agent SPIFFE id`);
  }
}

function rootTask(v: unknown): string {
  const slash = typeof v === 'string' ? v.indexOf('/') : -1;
  if (typeof v !== 'string' || slash < 0) return invalid('tsk must be <orchestration>/<task>');
  try {
    assertId('orchestration', v.slice(0, slash));
    assertId('task', v.slice(slash + 1));
  } catch {
    invalid('tsk must be <orchestration>/<task>');
  }
  return v;
}

function exactKeys(o: Record<string, unknown>, required: readonly string[], optional: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) invalid(`unexpected ${what} member ${k}`);
  for (const k of required) if (!Object.hasOwn(o, k)) invalid(`${what} member ${k} missing`);
}

const CLAIMS_REQUIRED = ['iss', 'sub', 'k', 'scp', 'exp', 'prv', 'dep', 'pri', 'tsk'] as const;

/** Checks untrusted hop claims; returns them with parsed scopes. ERR_CHAIN_INVALID. */
export function checkHopClaims(v: unknown): { claims: HopClaims; scopes: Scope[]; rootScopes?: Scope[] } {
  if (!isRecord(v)) invalid('hop payload must be an object');
  exactKeys(v, CLAIMS_REQUIRED, ['rt'], 'hop');
  const dep = v.dep;
  if (!Number.isSafeInteger(dep) || (dep as number) < 1 || (dep as number) > MAX_STRUCTURAL_DEPTH) invalid(`dep must be an integer in 1..${MAX_STRUCTURAL_DEPTH}`);
  if (typeof v.prv !== 'string' || !HASH_RE.test(v.prv)) invalid('prv must be a base64url SHA-256');
  if (typeof v.pri !== 'string' || !PRINTABLE_RE.test(v.pri)) invalid('pri must be printable ASCII, 1..256 chars');
  const scopes = decodeHopScopes(v.scp);
  const claims: { -readonly [K in keyof HopClaims]: HopClaims[K] } = {
    iss: agentId(v.iss, 'iss'),
    sub: agentId(v.sub, 'sub'),
    k: keyX(v.k, 'k'),
    scp: v.scp as HopScope[],
    exp: numericDate(v.exp, 'exp'),
    prv: v.prv,
    dep: dep as number,
    pri: v.pri,
    tsk: rootTask(v.tsk),
  };
  // Root facts belong to hop 1 and to no other: a hop moved to another position cannot keep them.
  if ((v.rt !== undefined) !== (dep === 1)) invalid(dep === 1 ? 'hop 1 must carry rt' : 'only hop 1 carries rt');
  if (v.rt === undefined) return { claims, scopes };
  const rt = v.rt;
  if (!isRecord(rt)) return invalid('rt must be an object');
  exactKeys(rt, ['jti', 'k', 'scp', 'exp'], [], 'rt');
  if (typeof rt.jti !== 'string' || !JTI_RE.test(rt.jti)) invalid('rt.jti malformed');
  const rootScopes = decodeHopScopes(rt.scp, 'rt.scp');
  claims.rt = { jti: rt.jti, k: keyX(rt.k, 'rt.k'), scp: rt.scp as HopScope[], exp: numericDate(rt.exp, 'rt.exp') };
  return { claims, scopes, rootScopes };
}

function canonicalHeader(kid: string): string {
  return canonicalJson({ alg: 'EdDSA', kid, typ: HOP_TYP });
}

/**
 * Builds a hop from its parts (header `kid`, claims, signature) in the canonical
 * encoding: the exact signing input a verifier must check. ERR_CHAIN_INVALID on any
 * malformed part.
 */
export function assembleHop(kid: unknown, payload: unknown, signature: unknown): Hop {
  if (typeof kid !== 'string' || !HASH_RE.test(kid)) invalid('kid must be an RFC 7638 thumbprint');
  if (typeof signature !== 'string' || signature.length !== 86 || !isCanonicalB64url(signature)) invalid('signature must be 64 bytes of base64url');
  const { claims, scopes, rootScopes } = checkHopClaims(payload);
  const signingInput = `${b64urlEncode(canonicalHeader(kid))}.${b64urlEncode(canonicalJson(claims))}`;
  const compact = `${signingInput}.${signature}`;
  if (compact.length > MAX_HOP_BYTES) invalid('hop too large');
  return Object.freeze({
    compact,
    hash: sha256B64url(compact),
    kid,
    claims: Object.freeze(claims),
    scopes: Object.freeze(scopes),
    ...(rootScopes !== undefined ? { rootScopes: Object.freeze(rootScopes) } : {}),
    signingInput,
    signature: Buffer.from(signature, 'base64url'),
  });
}

function segmentJson(segment: string, what: string): unknown {
  if (segment.length === 0 || !isCanonicalB64url(segment)) invalid(`${what} is not canonical base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  if (!isUtf8(bytes)) invalid(`${what} is not UTF-8`);
  try {
    return parseJsonStrict(bytes.toString('utf8'), { maxBytes: MAX_HOP_BYTES });
  } catch {
    return invalid(`${what} is not strict JSON`);
  }
}

/**
 * Decodes an untrusted compact hop. It must be in the canonical encoding (the header
 * exactly `{alg: EdDSA, kid, typ: baton-hop+jwt}`, header and payload canonical JSON,
 * payload claims per {@link HopClaims}), so that equal hops are equal bytes and their
 * hashes agree everywhere. The signature is not checked here. ERR_CHAIN_INVALID for
 * anything else, `alg` other than EdDSA included.
 *
 * @example const hop = decodeHop(request.hop); hop.claims.sub // the delegatee
 */
export function decodeHop(compact: unknown): Hop {
  if (typeof compact !== 'string') invalid('hop is not a string');
  if (compact.length > MAX_HOP_BYTES) invalid('hop too large');
  const parts = compact.split('.');
  if (parts.length !== 3) invalid('hop is not a compact JWS');
  const header = segmentJson(parts[0]!, 'hop header');
  if (!isRecord(header)) return invalid('hop header must be an object');
  exactKeys(header, ['alg', 'kid', 'typ'], [], 'hop header');
  // Any other alg (none, HS256...) is simply not a hop: one code for every malformed hop.
  if (header.alg !== 'EdDSA') invalid(`hop alg ${String(header.alg)} not allowed`);
  if (header.typ !== HOP_TYP) invalid(`hop typ must be ${HOP_TYP}`);
  const hop = assembleHop(header.kid, segmentJson(parts[1]!, 'hop payload'), parts[2]);
  if (hop.compact !== compact) invalid('hop is not in canonical form');
  return hop;
}

/**
 * Signs hop claims with the delegator's key (`kid` = its RFC 7638 thumbprint) in the
 * canonical encoding. Malformed claims are the caller's mistake (TypeError).
 *
 * @example
 * const hop = signHop({ iss, sub, k: delegatee.publicJwk.x, scp: encodeHopScopes(scopes), exp, prv, dep: 1, pri, tsk, rt }, myKeyPair);
 */
export function signHop(claims: HopClaims, signer: KeyPair): string {
  if (typeof signer?.thumbprint !== 'string' || signer.privateKey === undefined) throw new TypeError('signHop: signer must be a KeyPair');
  let payload: string;
  try {
    payload = canonicalJson(checkHopClaims(claims).claims);
  } catch (err) {
    if (isBatonError(err)) throw new TypeError(`signHop: ${err.detail}`);
    throw err;
  }
  const signingInput = `${b64urlEncode(canonicalHeader(signer.thumbprint))}.${b64urlEncode(payload)}`;
  const signature = signBytes(Buffer.from(signingInput, 'latin1'), signer.privateKey);
  return `${signingInput}.${b64urlEncode(signature)}`;
}

/** base64url SHA-256 of a compact hop: its identity, and the HOP revocation target. */
export function hopHash(compact: string): string {
  return sha256B64url(compact);
}

/** RFC 7638 thumbprint of an Ed25519 key given as JWK `x` (the `kid` a hop signed by it names). */
export function thumbprintOfX(x: string): string {
  if (typeof x !== 'string' || x.length !== 43 || !isCanonicalB64url(x)) throw new TypeError('thumbprintOfX: x must be 32 bytes of base64url');
  return okpThumbprint(x);
}
