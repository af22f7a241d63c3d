/**
 * `kid` injection: path traversal (including a relative path that really resolves to the
 * authority's signing-key file), SQL, prototype names, control characters and a 10 KB
 * kid, in tokens re-signed with the authority's own key (so only kid handling can stop
 * them), in hops and in proofs. A kid is only ever a map key: the guard refuses one that
 * is not a well-formed thumbprint, the issuer finds no key for it, nothing is read from
 * disk or a database by it, and nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProof, signHop, type KeyPair } from '@baton/core';
import { MetadataKey } from '@baton/proto';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { ed25519, jwsFromText, resign, segmentsOf, withMember } from './support/forge.js';
import { delegateHop, hopClaims, rawHop } from './support/hops.js';
import { outcomeOf } from './support/outcome.js';
import { startStack, type Stack, type StoreState, type TestAgent } from './support/stack.js';

let s: Stack;
let victim: TestAgent;
let delegatee: TestAgent;
let signing: KeyPair;
let before: StoreState;

beforeAll(async () => {
  s = await startStack();
  victim = await s.agent();
  delegatee = await s.agent();
  signing = s.signingKey();
  before = await s.state();
});
afterAll(async () => {
  await s?.close();
});

const withKid = (kidJson: string): string => resign(victim.token, signing.privateKey, { header: (h) => withMember(h, 'kid', kidJson) });

/** [name, kid as JSON text (given the real kid), code at the guard, code at Introspect]. */
const kids: [string, (real: string) => string, string, string][] = [
  ['path traversal', () => '"../../etc/passwd"', 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['relative path to the real key file', (real) => JSON.stringify(`../signing/${real}`), 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['the real key file name', (real) => JSON.stringify(`${real}.jwk`), 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['absolute path', () => '"/etc/passwd"', 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['URL-encoded traversal', () => '"%2e%2e%2f%2e%2e%2fetc%2fpasswd"', 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['SQL tautology', () => `"' OR 1=1 --"`, 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['SQL statement', () => '"x\'; DROP TABLE issuer_tokens; --"', 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['NUL-terminated real kid', (real) => JSON.stringify(`${real}\u0000`), 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['real kid plus newline', (real) => JSON.stringify(`${real}\n`), 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['real kid in another case', (real) => JSON.stringify(real.toUpperCase() === real ? real.toLowerCase() : real.toUpperCase()), 'ERR_TOKEN_KID_UNKNOWN', 'ERR_TOKEN_KID_UNKNOWN'],
  ['__proto__', () => '"__proto__"', 'ERR_TOKEN_KID_UNKNOWN', 'ERR_TOKEN_KID_UNKNOWN'],
  ['constructor', () => '"constructor"', 'ERR_TOKEN_KID_UNKNOWN', 'ERR_TOKEN_KID_UNKNOWN'],
  ['hasOwnProperty', () => '"hasOwnProperty"', 'ERR_TOKEN_KID_UNKNOWN', 'ERR_TOKEN_KID_UNKNOWN'],
  ['129 characters', () => JSON.stringify('A'.repeat(129)), 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['5 KB (token under the guard limit)', () => JSON.stringify('k'.repeat(5 * 1024)), 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_KID_UNKNOWN'],
  ['10 KB', () => JSON.stringify('k'.repeat(10 * 1024)), 'ERR_TOKEN_TOO_LARGE', 'ERR_TOKEN_KID_UNKNOWN'],
  ['a number', () => '1', 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_MALFORMED'],
  ['an operator object', () => '{"$ne":null}', 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_MALFORMED'],
  ['an array holding the real kid', (real) => JSON.stringify([real]), 'ERR_TOKEN_MALFORMED', 'ERR_TOKEN_MALFORMED'],
];

describe('kid injection in access tokens signed by the real key', () => {
  it('the unmodified re-signed token passes, so each case tests only its kid', async () => {
    expect(await outcomeOf(s.approve({ key: victim.key, token: withKid(JSON.stringify(signing.thumbprint)) }))).toBe('OK');
  });

  it.each(kids.map(([name, kid, guard, introspect]) => ({ name, kid, guard, introspect })))(
    '$name → guard $guard, Renew $guard, Introspect $introspect',
    async ({ kid, guard, introspect }) => {
      const token = withKid(kid(signing.thumbprint));
      expect(await outcomeOf(s.approve({ key: victim.key, token }))).toBe(guard);
      expect(await outcomeOf(s.issuer.renew({}, { metadata: s.dpop(victim.key, token, IssuerService.method.renew) }))).toBe(guard);
      const intro = await s.issuer.introspect({ token });
      expect([intro.active, intro.inactiveCode]).toEqual([false, introspect]);
    },
  );
});

describe('kid injection in hops and proofs', () => {
  it.each([
    { name: 'a path', kid: '../../etc/passwd' },
    { name: 'SQL', kid: "' OR 1=1 --" },
    { name: '__proto__', kid: '__proto__' },
    { name: '10 KB', kid: 'k'.repeat(10 * 1024) },
  ])('a hop whose kid is $name is refused by Delegate with ERR_CHAIN_INVALID', async ({ kid }) => {
    const hop = rawHop(hopClaims(victim, delegatee), victim.key, kid);
    expect(await outcomeOf(delegateHop(s, victim, hop))).toBe('ERR_CHAIN_INVALID');
  });

  it('a DPoP proof with a kid (pointing anywhere) is refused: proof headers hold exactly typ, alg and jwk', async () => {
    const method = `/${PaymentsService.typeName}/ApproveInvoice`;
    for (const kid of ['../../etc/passwd', signing.thumbprint, victim.key.thumbprint]) {
      const good = createProof({ keyPair: victim.key, htm: 'POST', htu: method, accessToken: victim.token });
      const { headerText, payloadText } = segmentsOf(good);
      const proof = jwsFromText(withMember(headerText, 'kid', JSON.stringify(kid)), payloadText, ed25519(victim.key.privateKey));
      const metadata = { [MetadataKey.authorization]: `DPoP ${victim.token}`, [MetadataKey.dpop]: proof };
      expect(await outcomeOf(s.approve(victim, 1, metadata))).toBe('ERR_PROOF_INVALID');
    }
  });

  it('a delegator cannot name the delegatee key by kid: Delegate checks the hop kid against the key its token binds', async () => {
    // Signed by the delegatee (not the delegator) but naming the delegator's thumbprint as kid.
    const hop = rawHop(hopClaims(victim, delegatee), delegatee.key, victim.key.thumbprint);
    expect(await outcomeOf(delegateHop(s, victim, hop))).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    expect(await s.state()).toEqual(before);
    // The same hop honestly signed by the delegator goes through, so the case tests only the signer.
    expect(await outcomeOf(delegateHop(s, victim, signHop(hopClaims(victim, delegatee), victim.key)))).toBe('OK');
    before = await s.state();
  });
});

describe('after every injection', () => {
  it('changed nothing, and the real token still works', async () => {
    expect(await s.state()).toEqual(before);
    expect(await outcomeOf(s.approve(victim, 10))).toBe('OK');
    expect(s.records.filter((r) => r.type === 'token.renewed')).toEqual([]);
  });
});
