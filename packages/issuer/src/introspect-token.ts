import {
  ACCESS_TOKEN_TYP,
  BatonError,
  checkTokenTimes,
  decodeJws,
  isBatonError,
  parseAccessTokenClaims,
  verifyJws,
  type AccessTokenClaims,
  type ErrorCode,
} from '@baton/core';
import type { IssuerContext } from './issuer-context.js';
import { tokenState } from './token-state.js';

/** Outcome of an introspection: the claims when active, only a code when not. */
export type Introspection =
  | { readonly active: true; readonly claims: AccessTokenClaims; readonly kid: string }
  | { readonly active: false; readonly code: ErrorCode; readonly detail: string };

/** Largest token introspected (the guard's limit is 8 KB; this leaves room). */
const MAX_TOKEN_BYTES = 16 * 1024;

function fail(code: ErrorCode, detail: string): never {
  throw new BatonError(code, detail);
}

/** Signature, type, issuer and claim checks of a token this issuer signed. */
function verifySigned(ctx: IssuerContext, token: string): { claims: AccessTokenClaims; kid: string } {
  if (token === '') fail('ERR_TOKEN_MISSING', 'no token');
  if (token.length > MAX_TOKEN_BYTES) fail('ERR_TOKEN_TOO_LARGE', `token is ${token.length} bytes`);
  let jws;
  try {
    jws = decodeJws(token, { maxBytes: MAX_TOKEN_BYTES });
  } catch (err) {
    if (isBatonError(err) && err.code === 'ERR_ALG_NOT_ALLOWED') throw err;
    return fail('ERR_TOKEN_MALFORMED', isBatonError(err) ? err.detail : 'undecodable token');
  }
  if (jws.header.typ !== ACCESS_TOKEN_TYP) fail('ERR_TOKEN_TYPE_INVALID', 'wrong typ');
  const kid = jws.header.kid;
  if (typeof kid !== 'string') return fail('ERR_TOKEN_MALFORMED', 'no kid');
  if (ctx.keyRing.status(kid) === 'revoked') fail('ERR_TOKEN_KEY_REVOKED', `kid ${kid} revoked`);
  const key = ctx.keyRing.publicKey(kid);
  if (!key) return fail('ERR_TOKEN_KID_UNKNOWN', `kid ${kid} unknown`);
  if (!verifyJws(jws, key)) fail('ERR_TOKEN_SIGNATURE_INVALID', 'bad signature');
  const claims = parseAccessTokenClaims(jws.payload);
  if (claims.iss !== ctx.issuer) fail('ERR_TOKEN_ISSUER_INVALID', 'foreign issuer');
  return { claims, kid };
}

/**
 * RFC 7662-style check of any token: active only when it verifies under a published key,
 * is within its lifetime (no leeway: online checks are strict) and the issuer's records
 * and revocation entries still hold it live. Never throws for a bad token: inactivity
 * carries a stable code and nothing else about the token.
 */
export async function introspectToken(ctx: IssuerContext, token: unknown): Promise<Introspection> {
  try {
    if (typeof token !== 'string') fail('ERR_TOKEN_MALFORMED', 'token is not a string');
    let signed;
    try {
      signed = verifySigned(ctx, token);
    } catch (err) {
      // A kid another replica just made: reload the shared ring once and look again.
      if (!isBatonError(err) || err.code !== 'ERR_TOKEN_KID_UNKNOWN' || !(await ctx.refreshKeys())) throw err;
      signed = verifySigned(ctx, token);
    }
    const { claims, kid } = signed;
    checkTokenTimes(claims, ctx.clock.now(), 0);
    const state = await tokenState(ctx.db, claims, kid);
    if (!state.ok) return { active: false, code: state.code, detail: state.detail };
    return { active: true, claims, kid };
  } catch (err) {
    if (isBatonError(err)) return { active: false, code: err.code, detail: err.detail };
    throw err;
  }
}
