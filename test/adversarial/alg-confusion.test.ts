/**
 * Algorithm confusion against the real guard (payments, over gRPC) and the real
 * authority (Renew, Heartbeat, Delegate, Introspect): every `alg` but EdDSA is refused
 * before any key is touched, an EdDSA token with a forged signature is refused by the
 * signature check, and key-locating headers (`jwk`, `jku`, `x5u`) are never followed.
 * Each forgery carries a valid DPoP proof from the victim's own key, so nothing but the
 * token itself is wrong. Afterwards the store is exactly as before and the real token
 * still works.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, jwkThumbprint } from '@baton/core';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { IdentityService, TaskState } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { ed25519, fixed, hmac, jwsFromText, resign, rsaOrEc, segmentsOf, withMember, type Signer } from './support/forge.js';
import { outcomeOf } from './support/outcome.js';
import { startStack, type Stack, type StoreState, type TestAgent } from './support/stack.js';

let s: Stack;
let victim: TestAgent;
let before: StoreState;
let publicX: string;
let kid: string;

beforeAll(async () => {
  s = await startStack();
  victim = await s.agent();
  const jwks = JSON.parse((await s.issuer.getKeys({})).jwks) as { keys: { kid: string; x: string }[] };
  kid = jwks.keys[0]!.kid;
  publicX = jwks.keys[0]!.x;
  before = await s.state();
});
afterAll(async () => {
  await s?.close();
});

/** The victim's real token with another header, signed by `sign`. */
function forged(header: Record<string, unknown>, sign: Signer, payloadEdit?: (text: string) => string): string {
  const { payloadText } = segmentsOf(victim.token);
  return jwsFromText(JSON.stringify(header), payloadEdit ? payloadEdit(payloadText) : payloadText, sign);
}

// The key size is irrelevant: the token must be refused before any key is looked at.
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const attacker = generateKeyPair();

type Case = readonly [name: string, token: () => string, code: string];
const table: Case[] = [
  ['alg none, no signature', () => forged({ alg: 'none', typ: 'at+jwt', kid }, fixed('')), 'ERR_ALG_NOT_ALLOWED'],
  ['alg none, original signature kept', () => forged({ alg: 'none', typ: 'at+jwt', kid }, fixed(segmentsOf(victim.token).signature)), 'ERR_ALG_NOT_ALLOWED'],
  ['alg "None"', () => forged({ alg: 'None', typ: 'at+jwt', kid }, fixed('')), 'ERR_ALG_NOT_ALLOWED'],
  ['HS256 keyed with the raw public key', () => forged({ alg: 'HS256', typ: 'at+jwt', kid }, hmac(Buffer.from(publicX, 'base64url'))), 'ERR_ALG_NOT_ALLOWED'],
  ['HS256 keyed with the public JWK text', () => forged({ alg: 'HS256', typ: 'at+jwt', kid }, hmac(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x: publicX }))), 'ERR_ALG_NOT_ALLOWED'],
  [
    'HS256 keyed with the public key PEM',
    () => {
      const pem = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicX }, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      return forged({ alg: 'HS256', typ: 'at+jwt', kid }, hmac(pem as string));
    },
    'ERR_ALG_NOT_ALLOWED',
  ],
  ['RS256 by an attacker RSA key', () => forged({ alg: 'RS256', typ: 'at+jwt', kid }, rsaOrEc(rsa)), 'ERR_ALG_NOT_ALLOWED'],
  ['ES256 by an attacker P-256 key', () => forged({ alg: 'ES256', typ: 'at+jwt', kid }, rsaOrEc(p256)), 'ERR_ALG_NOT_ALLOWED'],
  ['alg "eddsa" (case)', () => forged({ alg: 'eddsa', typ: 'at+jwt', kid }, ed25519(attacker.privateKey)), 'ERR_ALG_NOT_ALLOWED'],
  ['alg "Ed25519"', () => forged({ alg: 'Ed25519', typ: 'at+jwt', kid }, ed25519(attacker.privateKey)), 'ERR_ALG_NOT_ALLOWED'],
  ['alg ["EdDSA"]', () => forged({ alg: ['EdDSA'], typ: 'at+jwt', kid }, ed25519(attacker.privateKey)), 'ERR_ALG_NOT_ALLOWED'],
  ['no alg at all', () => forged({ typ: 'at+jwt', kid }, ed25519(attacker.privateKey)), 'ERR_TOKEN_MALFORMED'],
  ['EdDSA, random 64-byte signature', () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid }, () => crypto.randomBytes(64)), 'ERR_TOKEN_SIGNATURE_INVALID'],
  ['EdDSA, all-zero signature', () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid }, () => Buffer.alloc(64)), 'ERR_TOKEN_SIGNATURE_INVALID'],
  ['EdDSA signed by an attacker key under the real kid', () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid }, ed25519(attacker.privateKey)), 'ERR_TOKEN_SIGNATURE_INVALID'],
  [
    'EdDSA, widened scope under the original signature',
    () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid }, fixed(segmentsOf(victim.token).signature), (p) => withMember(p, 'scope', '"approve:invoice:* read:invoice:* admin:invoice:*"')),
    'ERR_TOKEN_SIGNATURE_INVALID',
  ],
  [
    'EdDSA with the attacker key embedded as jwk and its own kid',
    () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid: attacker.thumbprint, jwk: attacker.publicJwk }, ed25519(attacker.privateKey)),
    'ERR_TOKEN_KID_UNKNOWN',
  ],
  [
    'EdDSA with jku and x5u pointing at the attacker',
    () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid: attacker.thumbprint, jku: 'http://127.0.0.1:1/jwks.json', x5u: 'http://127.0.0.1:1/c.pem' }, ed25519(attacker.privateKey)),
    'ERR_TOKEN_KID_UNKNOWN',
  ],
  ['crit extension', () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid, crit: ['exp'] }, ed25519(attacker.privateKey)), 'ERR_TOKEN_MALFORMED'],
  ['b64: false payload', () => forged({ alg: 'EdDSA', typ: 'at+jwt', kid, b64: false }, ed25519(attacker.privateKey)), 'ERR_TOKEN_MALFORMED'],
];
const cases = table.map(([name, make, code]) => ({ name, make, code }));

describe('algorithm confusion at a guarded resource (gRPC)', () => {
  it.each(cases)('$name → $code', async ({ make, code }) => {
    const token = make();
    const denials = s.records.filter((r) => r.type === 'validation.denied').length;
    expect(await outcomeOf(s.approve({ key: victim.key, token }))).toBe(code);
    // The guard audited the denial with the precise code.
    const audited = s.records.filter((r) => r.type === 'validation.denied').slice(denials);
    expect(audited.map((r) => r.reasonCode)).toEqual([code]);
  });
});

describe('algorithm confusion at the authority', () => {
  it.each(cases)('$name → $code at Renew, Heartbeat, Delegate and Introspect', async ({ make, code }) => {
    const token = make();
    const renew = await outcomeOf(s.issuer.renew({}, { metadata: s.dpop(victim.key, token, IssuerService.method.renew) }));
    const heartbeat = await outcomeOf(
      s.identity.heartbeat({ state: TaskState.ACTIVE }, { metadata: s.dpop(victim.key, token, IdentityService.method.heartbeat) }),
    );
    const delegate = await outcomeOf(s.delegation.delegate({ hop: 'x.y.z' }, { metadata: s.dpop(victim.key, token, DelegationService.method.delegate) }));
    expect({ renew, heartbeat, delegate }).toEqual({ renew: code, heartbeat: code, delegate: code });
    const intro = await s.issuer.introspect({ token });
    expect({ active: intro.active, code: intro.inactiveCode, sub: intro.sub }).toEqual({ active: false, code, sub: '' });
  });

  it('a token re-signed by the real key but typed as a hop or proof is refused by typ', async () => {
    const key = s.signingKey();
    for (const typ of ['baton-hop+jwt', 'dpop+jwt', 'JWT', 'at+JWT']) {
      const token = resign(victim.token, key.privateKey, { header: (h) => withMember(h, 'typ', JSON.stringify(typ)) });
      expect(await outcomeOf(s.approve({ key: victim.key, token }))).toBe('ERR_TOKEN_TYPE_INVALID');
      expect(await outcomeOf(s.issuer.renew({}, { metadata: s.dpop(victim.key, token, IssuerService.method.renew) }))).toBe('ERR_TOKEN_TYPE_INVALID');
    }
  });
});

describe('after every forgery', () => {
  it('changed nothing: no token, revocation, agent or launch token; the real token still works', async () => {
    expect(await s.state()).toEqual(before);
    expect(jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: publicX })).toBe(kid);
    expect(await outcomeOf(s.approve(victim, 250))).toBe('OK');
    expect(s.records.filter((r) => ['token.issued', 'token.renewed', 'delegation.granted', 'token.revoked'].includes(r.type))).toHaveLength(1);
  });
});
