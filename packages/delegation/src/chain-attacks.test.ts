/**
 * Every "bad input and attack" of issue 3 that a chain itself can carry, against offline
 * verification, with the chain by value (packed in the token) and by reference (hops
 * handed over separately). The authority here signs whatever chain it is given, as a
 * compromised or buggy delegation service would make it do: the chain checks alone must
 * refuse each one, with a precise code.
 */
import { describe, expect, it } from 'vitest';
import { BatonError, chainHash, decodeHop, generateKeyPair, parseScopes, sha256B64url, type Scope } from '@baton/core';
import { verifyChain } from './verify-chain.js';
import {
  NOW,
  NOW_MS,
  TestAuthority,
  agent,
  buildChain,
  claimsOf,
  delegateLink,
  type Link,
  type Material,
  type TestAgent,
  type TokenOptions,
} from './testing/chain-fixtures.js';

const authority = new TestAuthority();

const MAX = { action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } };
const ROOT_SCOPES: Scope[] = parseScopes([
  MAX,
  { action: 'pay', resource: 'vendors', constraints: { currency: { in: ['USD'] } } },
  { action: 'read', resource: 'invoices', id: 'acme/*', constraints: { path: { prefix: 'inv/2024/' } } },
]);

const manager = agent('manager');
const intern = agent('intern');
const executor = agent('payments-executor');
const root: Link = { token: authority.rootToken(manager, ROOT_SCOPES), holder: manager };
const toIntern = delegateLink(authority, root, intern, ROOT_SCOPES, { hopExp: NOW + 250 });
const toExecutor = delegateLink(authority, toIntern, executor, [{ ...MAX, constraints: { max_amount: { max: 5000 } } }], { hopExp: NOW + 200 });

/** What an attack produces: a chain (material) and the token around it. */
interface Forged {
  readonly material: Material;
  readonly holder: TestAgent;
  readonly scopes: readonly Scope[];
  readonly token?: TokenOptions;
}

function materialOf(hops: readonly string[], over: Partial<Material> = {}): Material {
  const rootTokenHash = sha256B64url(root.token);
  const actors = [manager.id, intern.id, executor.id, agent('x').id, agent('y').id].slice(0, hops.length);
  return {
    hops,
    chainHash: chainHash(rootTokenHash, hops.map((h) => sha256B64url(h))),
    depth: hops.length,
    actors,
    rootTokenHash,
    rootJti: claimsOf(root.token).jti,
    ...over,
  };
}

/** A link's own chain, as the issuer would carry it. */
function asIs(link: Link, over: Partial<Forged> = {}): Forged {
  const c = claimsOf(link.token);
  return { material: link.material!, holder: link.holder, scopes: c.scopes ?? parseScopes(c.scope.split(' ')), ...over };
}

/** intern → executor with the given hop scopes (signed by the intern, as an attacker intern would). */
function fromIntern(scopes: readonly (string | Scope)[], o: Parameters<typeof delegateLink>[4] = {}): Forged {
  return asIs(delegateLink(authority, toIntern, executor, scopes, o));
}

function flipSignature(hop: string): string {
  const i = hop.length - 40;
  return `${hop.slice(0, i)}${hop[i] === 'A' ? 'B' : 'A'}${hop.slice(i + 1)}`;
}

const other = (() => {
  // The same manager and intern, under another root token: a well-signed hop 2 of another chain.
  const root2: Link = { token: authority.rootToken(manager, ROOT_SCOPES), holder: manager };
  const i2 = delegateLink(authority, root2, intern, ROOT_SCOPES, { hopExp: NOW + 250 });
  return delegateLink(authority, i2, executor, [MAX], { hopExp: NOW + 200 });
})();

const threeHops = delegateLink(authority, toExecutor, agent('clerk'), [{ ...MAX, constraints: { max_amount: { max: 4000 } } }], { hopExp: NOW + 150 });
const [h1, h2, h3] = threeHops.material!.hops as [string, string, string];

type Case = [name: string, forge: () => Forged, byValue: string, byReference: string];

const cases: Case[] = [
  // Widening
  ['escalation in action', () => fromIntern(['write:payments']), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['escalation in resource', () => fromIntern(['approve:refunds']), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['escalation in id', () => fromIntern([{ action: 'read', resource: 'invoices', id: 'globex/1', constraints: { path: { prefix: 'inv/2024/' } } }]), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['id widened to *', () => fromIntern([{ action: 'read', resource: 'invoices', id: '*', constraints: { path: { prefix: 'inv/2024/' } } }]), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['max raised', () => fromIntern([{ ...MAX, constraints: { max_amount: { max: 50000 } } }]), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['in set enlarged', () => fromIntern([{ action: 'pay', resource: 'vendors', constraints: { currency: { in: ['USD', 'EUR'] } } }]), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['prefix shortened', () => fromIntern([{ action: 'read', resource: 'invoices', id: 'acme/1', constraints: { path: { prefix: 'inv/' } } }]), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['constraint dropped', () => fromIntern(['approve:payments']), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['longer expiry than the parent', () => fromIntern([MAX], { hopExp: NOW + 260 }), 'ERR_DELEGATION_EXPIRY_EXCEEDED', 'ERR_DELEGATION_EXPIRY_EXCEEDED'],
  ['depth 6', () => asIs(buildChain(authority, 6)[6]!), 'ERR_DELEGATION_DEPTH_EXCEEDED', 'ERR_DELEGATION_DEPTH_EXCEEDED'],
  // Signatures and structure
  ['forged hop signature', () => asIs(toExecutor, { material: materialOf([toExecutor.material!.hops[0]!, flipSignature(toExecutor.hop!)]) }), 'ERR_CHAIN_SIGNATURE_INVALID', 'ERR_CHAIN_SIGNATURE_INVALID'],
  ['hop signed by a key other than the one the previous hop bound', () => fromIntern([MAX], { signer: generateKeyPair() }), 'ERR_CHAIN_KEY_MISMATCH', 'ERR_CHAIN_KEY_MISMATCH'],
  ['hop 1 signed by a key other than the one the root token bound', () => asIs(delegateLink(authority, root, intern, ROOT_SCOPES, { signer: generateKeyPair() })), 'ERR_CHAIN_KEY_MISMATCH', 'ERR_CHAIN_KEY_MISMATCH'],
  ['hops reordered', () => asIs(threeHops, { material: materialOf([h1, h3, h2]) }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['a hop removed', () => asIs(threeHops, { material: materialOf([h1, h3]) }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['the first hop removed', () => asIs(threeHops, { material: materialOf([h2, h3]) }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['a hop duplicated', () => asIs(threeHops, { material: materialOf([h1, h2, h2, h3]) }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['a hop spliced in from another chain', () => asIs(toExecutor, { material: materialOf([toExecutor.material!.hops[0]!, other.hop!]) }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['chain-hash mismatch', () => asIs(toExecutor, { material: { ...toExecutor.material!, chainHash: sha256B64url('another chain') } }), 'ERR_CHAIN_HASH_MISMATCH', 'ERR_CHAIN_HASH_MISMATCH'],
  ['a cycle A → B → A', () => asIs(delegateLink(authority, toIntern, { ...agent('m2'), id: manager.id }, [MAX])), 'ERR_CHAIN_CYCLE', 'ERR_CHAIN_CYCLE'],
  ['a key bound twice (cycle under another name)', () => asIs(delegateLink(authority, toIntern, { ...agent('m3'), key: manager.key }, [MAX])), 'ERR_CHAIN_CYCLE', 'ERR_CHAIN_CYCLE'],
  ['self-delegation inside the chain', () => asIs(delegateLink(authority, toIntern, { ...agent('i2'), id: intern.id }, [MAX])), 'ERR_SELF_DELEGATION', 'ERR_SELF_DELEGATION'],
  // The token around the chain
  ['token scopes wider than the last hop', () => asIs(toExecutor, { scopes: parseScopes([MAX]) }), 'ERR_SCOPE_ESCALATION', 'ERR_SCOPE_ESCALATION'],
  ['token bound to a key the last hop did not bind', () => asIs(toExecutor, { holder: { ...executor, key: generateKeyPair() } }), 'ERR_CHAIN_KEY_MISMATCH', 'ERR_CHAIN_KEY_MISMATCH'],
  ['token for an agent the last hop did not name', () => asIs(toExecutor, { holder: { ...executor, id: agent('payments-executor').id } }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['token outliving the last hop', () => asIs(toExecutor, { token: { exp: NOW + 240 } }), 'ERR_DELEGATION_EXPIRY_EXCEEDED', 'ERR_DELEGATION_EXPIRY_EXCEEDED'],
  ['act claim naming other agents', () => asIs(toExecutor, { token: { edit: (p) => void (p.act = { sub: agent('z').id, act: { sub: manager.id } }) } }), 'ERR_CHAIN_SIGNATURE_INVALID', 'ERR_CHAIN_INVALID'],
  ['token for another principal', () => asIs(toExecutor, { token: { principal: 'user:mallory@acme.example' } }), 'ERR_CHAIN_INVALID', 'ERR_CHAIN_INVALID'],
  // By value, hops left out what the token said; a token changed after packing no longer rebuilds the signed hops.
  ['principal changed after packing', () => asIs(toExecutor, { token: { edit: (p) => void (p.principal = 'user:mallory@acme.example') } }), 'ERR_CHAIN_SIGNATURE_INVALID', 'ERR_CHAIN_INVALID'],
  ['another root token named', () => asIs(toExecutor, { material: { ...toExecutor.material!, rootJti: 'XXXXXXXXXXXXXXXXXXXXXX' } }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['another root token hash', () => asIs(toExecutor, { material: { ...toExecutor.material!, rootTokenHash: sha256B64url('x') } }), 'ERR_CHAIN_LINK_BROKEN', 'ERR_CHAIN_LINK_BROKEN'],
  ['depth claim disagreeing with the chain', () => asIs(toExecutor, { material: { ...toExecutor.material!, depth: 3 } }), 'ERR_CHAIN_INVALID', 'ERR_CHAIN_INVALID'],
];

function verdict(f: Forged, form: 'value' | 'reference'): string {
  const exp = decodeHop(f.material.hops[f.material.hops.length - 1]!).claims.exp;
  const token = authority.childToken(f.material, f.holder, f.scopes, { exp, ...f.token, ...(form === 'reference' ? { reference: 'REFREFREFREFREFREFREFR' } : {}) });
  try {
    verifyChain(token, { keys: authority.keys, now: NOW_MS, ...(form === 'reference' ? { hops: f.material.hops } : {}) });
  } catch (err) {
    return err instanceof BatonError ? err.code : `not a BatonError: ${String(err)}`;
  }
  return 'accepted';
}

describe('the honest chains these attacks start from', () => {
  it('verify in both forms', () => {
    expect(verdict(asIs(toExecutor), 'value')).toBe('accepted');
    expect(verdict(asIs(toExecutor), 'reference')).toBe('accepted');
    expect(verdict(asIs(threeHops), 'value')).toBe('accepted');
    expect(verdict(asIs(threeHops), 'reference')).toBe('accepted');
  });
});

describe('attacks on a chain (issue 3 "Bad input and attacks")', () => {
  it.each(cases)('%s → by value %s, by reference %s', (_name, forge, byValue, byReference) => {
    const f = forge();
    expect(verdict(f, 'value')).toBe(byValue);
    expect(verdict(f, 'reference')).toBe(byReference);
  });
});
