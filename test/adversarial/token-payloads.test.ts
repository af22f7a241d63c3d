/**
 * Token payloads a lenient parser would misread, re-signed with the authority's own key
 * so that only the strict parser stands between them and a decision: duplicate members
 * (last-wins would widen the scope, move the audience or rebind the key), prototype keys,
 * and giant claims. Then the inputs through which an attacker could make the authority
 * itself sign giant claims. Every refusal leaves the store as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPair } from '@baton/core';
import { scopeToProto } from '@baton/proto';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { appendMember, resign, segmentsOf, withMember } from './support/forge.js';
import { outcomeOf } from './support/outcome.js';
import { startStack, type Stack, type TestAgent } from './support/stack.js';

let s: Stack;
let victim: TestAgent;
let signing: KeyPair;
const attacker = generateKeyPair();

beforeAll(async () => {
  s = await startStack();
  victim = await s.agent();
  signing = s.signingKey();
});
afterAll(async () => {
  await s?.close();
});

const payloadWith = (edit: (p: string) => string): string => resign(victim.token, signing.privateKey, { payload: edit });
const headerWith = (edit: (h: string) => string): string => resign(victim.token, signing.privateKey, { header: edit });
const claim = <T>(name: string): T => (JSON.parse(segmentsOf(victim.token).payloadText) as Record<string, T>)[name]!;

/** Every place a token is checked, for one token presented with `key`'s proof. */
async function everywhere(token: string, key: KeyPair = victim.key): Promise<{ guard: string; renew: string; introspect: string }> {
  const guard = await outcomeOf(s.approve({ key, token }));
  const renew = await outcomeOf(s.issuer.renew({}, { metadata: s.dpop(key, token, IssuerService.method.renew) }));
  const intro = await s.issuer.introspect({ token });
  return { guard, renew, introspect: intro.active ? 'OK' : intro.inactiveCode };
}

const MALFORMED = { guard: 'ERR_TOKEN_MALFORMED', renew: 'ERR_TOKEN_MALFORMED', introspect: 'ERR_TOKEN_MALFORMED' };

describe('duplicate members (never last-wins)', () => {
  const cases: { name: string; token: () => string; key?: () => KeyPair }[] = [
    { name: 'a second scope that widens', token: () => payloadWith((p) => appendMember(p, '"scope":"approve:invoice:* read:invoice:* admin:invoice:*"')) },
    { name: 'a second structured scopes without the constraint', token: () => payloadWith((p) => appendMember(p, '"scopes":[{"action":"approve","resource":"invoice","id":"*"}]')) },
    { name: 'a first aud elsewhere and a second aud here', token: () => payloadWith((p) => appendMember(withMember(p, 'aud', '["elsewhere"]'), '"aud":["payments"]')) },
    { name: 'a second sub', token: () => payloadWith((p) => appendMember(p, `"sub":${JSON.stringify(claim<string>('sub').replace(/[^/]+$/, 'AAAAAAAAAAAAAAAAAAAAAA'))}`)) },
    { name: 'a second exp far in the future', token: () => payloadWith((p) => appendMember(p, '"exp":253402300799')) },
    { name: 'a second cnf binding the attacker key (attacker proof)', token: () => payloadWith((p) => appendMember(p, `"cnf":{"jkt":"${attacker.thumbprint}"}`)), key: () => attacker },
    { name: 'a second cnf binding the attacker key (victim proof)', token: () => payloadWith((p) => appendMember(p, `"cnf":{"jkt":"${attacker.thumbprint}"}`)) },
    { name: 'jkt twice inside cnf', token: () => payloadWith((p) => withMember(p, 'cnf', `{"jkt":"${victim.key.thumbprint}","jkt":"${attacker.thumbprint}"}`)), key: () => attacker },
    { name: 'an escaped duplicate "sc\\u006fpe"', token: () => payloadWith((p) => appendMember(p, '"sc\\u006fpe":"admin:invoice:*"')) },
    {
      name: 'max twice inside a constraint',
      token: () => payloadWith((p) => withMember(p, 'scopes', '[{"action":"approve","resource":"invoice","id":"*","constraints":{"amount":{"max":5000,"min":0,"max":1e9}}},{"action":"read","resource":"invoice","id":"*"}]')),
    },
    { name: 'kid twice in the header', token: () => headerWith((h) => appendMember(h, '"kid":"other"')) },
    { name: 'alg twice in the header (EdDSA, then none)', token: () => headerWith((h) => appendMember(h, '"alg":"none"')) },
    { name: 'typ twice in the header', token: () => headerWith((h) => appendMember(h, '"typ":"dpop+jwt"')) },
  ];
  it.each(cases)('$name → ERR_TOKEN_MALFORMED at the guard, Renew and Introspect', async ({ token, key }) => {
    const before = await s.state();
    expect(await everywhere(token(), key?.())).toEqual(MALFORMED);
    expect(await s.state()).toEqual(before);
  });
});

describe('prototype keys in the payload', () => {
  const cases: { name: string; token: () => string }[] = [
    { name: '__proto__ at the top', token: () => payloadWith((p) => appendMember(p, '"__proto__":{"scope":"admin:invoice:*"}')) },
    { name: 'an escaped __pro\\u0074o__', token: () => payloadWith((p) => appendMember(p, '"__pro\\u0074o__":{"scope":"admin:invoice:*"}')) },
    { name: 'constructor at the top', token: () => payloadWith((p) => appendMember(p, '"constructor":{"prototype":{"admin":true}}')) },
    { name: 'prototype at the top', token: () => payloadWith((p) => appendMember(p, '"prototype":{}')) },
    { name: '__proto__ inside cnf', token: () => payloadWith((p) => withMember(p, 'cnf', `{"jkt":"${victim.key.thumbprint}","__proto__":{"jkt":"${attacker.thumbprint}"}}`)) },
    {
      name: '__proto__ among the constraints',
      token: () => payloadWith((p) => withMember(p, 'scopes', '[{"action":"approve","resource":"invoice","id":"*","constraints":{"amount":{"max":5000,"min":0},"__proto__":{"max":1}}}]')),
    },
    { name: 'constructor inside act', token: () => payloadWith((p) => appendMember(p, '"act":{"sub":"spiffe://baton.local/x","constructor":{}}')) },
  ];
  it.each(cases)('$name → ERR_TOKEN_MALFORMED, Object.prototype untouched', async ({ token }) => {
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    expect(await everywhere(token())).toEqual(MALFORMED);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
    expect(({} as Record<string, unknown>)['scope']).toBeUndefined();
  });
});

describe('giant claims', () => {
  const hops65 = JSON.stringify({ ch: 'A'.repeat(43), d: 1, hops: Array.from({ length: 65 }, () => ({})), root: {} });
  const cases: { name: string; token: () => string; want: { guard: string; renew: string; introspect: string } }[] = [
    { name: 'a 257-character principal', token: () => payloadWith((p) => withMember(p, 'principal', JSON.stringify('p'.repeat(257)))), want: claimsInvalid() },
    { name: '65 scopes', token: () => payloadWith((p) => withMember(p, 'scope', JSON.stringify(Array.from({ length: 65 }, (_, i) => `read:invoice:i${i}`).join(' ')))), want: claimsInvalid() },
    { name: '17 audiences', token: () => payloadWith((p) => withMember(p, 'aud', JSON.stringify(Array.from({ length: 17 }, (_, i) => `aud-${i}`).concat('payments')))), want: claimsInvalid() },
    {
      name: 'act nested 33 deep (past the JSON depth limit)',
      token: () => payloadWith((p) => appendMember(p, `"act":${'{"sub":"spiffe://baton.local/a","act":'.repeat(32)}{"sub":"spiffe://baton.local/a"}${'}'.repeat(32)}`)),
      want: MALFORMED,
    },
    { name: '65 hops by value', token: () => payloadWith((p) => appendMember(p, `"del":${hops65}`)), want: claimsInvalid() },
    { name: 'an 8.5 KB token', token: () => payloadWith((p) => appendMember(p, `"x":"${'x'.repeat(8 * 1024)}"`)), want: { guard: 'ERR_TOKEN_TOO_LARGE', renew: 'ERR_TOKEN_TOO_LARGE', introspect: 'OK' } },
    // Above the servers' 16 KB metadata limit: refused before any handler runs.
    { name: 'a 20 KB token', token: () => payloadWith((p) => appendMember(p, `"x":"${'x'.repeat(15 * 1024)}"`)), want: { guard: 'ERR_METADATA_TOO_LARGE', renew: 'ERR_METADATA_TOO_LARGE', introspect: 'ERR_TOKEN_TOO_LARGE' } },
  ];
  function claimsInvalid() {
    return { guard: 'ERR_TOKEN_CLAIMS_INVALID', renew: 'ERR_TOKEN_CLAIMS_INVALID', introspect: 'ERR_TOKEN_CLAIMS_INVALID' };
  }
  it.each(cases)('$name is refused where it is too big for', async ({ token, want }) => {
    const before = await s.state();
    expect(await everywhere(token())).toEqual(want);
    expect(await s.state()).toEqual(before);
  });
});

describe('giant inputs the authority would have to sign', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => scopeToProto({ action: 'read', resource: 'invoice', id: `i${i}` }));

  it.each([
    { name: 'a 10 KB principal', over: { principal: `user:${'p'.repeat(10 * 1024)}` }, code: 'ERR_ID_INVALID' },
    { name: 'a 10 KB task id', over: { taskId: 't'.repeat(10 * 1024) }, code: 'ERR_ID_INVALID' },
    { name: '65 scopes', over: { scopes: many(65) }, code: 'ERR_SCOPE_INVALID' },
    { name: 'a 513-character scope id', over: { scopes: [scopeToProto({ action: 'read', resource: 'invoice', id: 'i'.repeat(513) })] }, code: 'ERR_SCOPE_INVALID' },
    { name: '16 audiences', over: { audiences: Array.from({ length: 16 }, (_, i) => `aud-${i}`) }, code: 'ERR_INVALID_ARGUMENT' },
  ])('CreateLaunchToken with $name → $code, nothing stored', async ({ over, code }) => {
    const before = await s.state();
    expect(await outcomeOf(s.launchToken(over))).toBe(code);
    expect(await s.state()).toEqual(before);
  });

  it.each([
    { name: 'a 10 KB name', over: { name: 'n'.repeat(10 * 1024) }, code: 'ERR_ID_INVALID' },
    { name: '65 requested scopes', over: { requestedScopes: many(65) }, code: 'ERR_SCOPE_INVALID' },
  ])('Register with $name → $code, and the launch token stays usable exactly once', async ({ over, code }) => {
    const lt = await s.launchToken();
    const before = await s.state();
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt, over)))).toBe(code);
    expect(await s.state()).toEqual(before);
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt)))).toBe('OK');
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt)))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
  });

  it('Renew asking for 65 scopes → ERR_SCOPE_INVALID; the token is not renewed', async () => {
    const a = await s.agent();
    const before = await s.state();
    const req = { scopes: many(65) };
    expect(await outcomeOf(s.issuer.renew(req, { metadata: s.dpop(a.key, a.token, IssuerService.method.renew) }))).toBe('ERR_SCOPE_INVALID');
    expect(await s.state()).toEqual(before);
    expect(await outcomeOf(s.approve(a))).toBe('OK');
  });
});
