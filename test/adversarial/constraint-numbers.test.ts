/**
 * Numbers in constraints: NaN, ±Infinity, ±1e308, 2^53 and 2^53+1 (which round), and
 * negative bounds, everywhere a constraint enters — as protobuf doubles in the workflow
 * ceiling, launch tokens, Register and Renew, as JSON in a signed token and in a hop
 * (`1e999` is Infinity after JSON.parse), and as request attributes at the guard. A
 * non-finite or unsafe bound is refused where it enters; a negative bound is a number
 * like any other, so dropping or lowering a `min` is an escalation. Nothing is stored,
 * consumed or renewed by a refused request. Beyond constraints: 64-bit sequence and size
 * fields of the revocation feed and the audit log at 2^53+1 and beyond.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, type KeyPair } from '@baton/core';
import { scopeToProto } from '@baton/proto';
import type { ConstraintSchema } from '@baton/proto/baton/type/v1/scope_pb.js';
import { CreateWorkflowRequestSchema, IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { AuditService, QueryRequestSchema, VerifyRequestSchema } from '@baton/proto/baton/audit/v1/audit_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { ed25519, jwsFromText, resign, withMember } from './support/forge.js';
import { delegateHop, hopClaims } from './support/hops.js';
import { outcomeOf } from './support/outcome.js';
import { CEILING, startStack, type Stack, type TestAgent } from './support/stack.js';

let s: Stack;
let victim: TestAgent;
let signing: KeyPair;

beforeAll(async () => {
  s = await startStack();
  victim = await s.agent();
  signing = s.signingKey();
});
afterAll(async () => {
  await s?.close();
});

const BAD = [
  { name: 'NaN', v: Number.NaN },
  { name: 'Infinity', v: Number.POSITIVE_INFINITY },
  { name: '-Infinity', v: Number.NEGATIVE_INFINITY },
  { name: '1e308', v: 1e308 },
  { name: '-1e308', v: -1e308 },
  { name: 'Number.MAX_VALUE', v: Number.MAX_VALUE },
  { name: '2^53', v: 2 ** 53 },
  { name: '2^53+1 (rounds to 2^53)', v: 2 ** 53 + 1 },
];

type ProtoConstraint = MessageInitShape<typeof ConstraintSchema>;
const approve = (amount: ProtoConstraint) => ({ action: 'approve', resource: 'invoice', id: '*', constraints: { amount } });

describe('non-finite and unsafe numbers as protobuf doubles', () => {
  it.each(BAD)('$name as max, min or eq is refused by CreateWorkflow, CreateLaunchToken, Register and Renew', async ({ v }) => {
    const lt = await s.launchToken();
    const before = await s.state();
    for (const c of [{ max: v }, { max: 100, min: v }, { eq: { kind: { case: 'numberValue' as const, value: v } } }, { anyOf: [{ kind: { case: 'numberValue' as const, value: v } }] }]) {
      const wf = { id: 'wf-numbers', policy: { scopeCeiling: [approve(c)], audiences: ['payments'] } };
      const created = await outcomeOf(
        s.identity.createWorkflow(wf, { metadata: s.keyProof(s.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf) }),
      );
      const minted = await outcomeOf(s.launchToken({ scopes: [approve(c)] }));
      const registered = await outcomeOf(s.identity.register(await s.registerRequest(lt, { requestedScopes: [approve(c)] })));
      const renewed = await outcomeOf(s.issuer.renew({ scopes: [approve(c)] }, { metadata: s.dpop(victim.key, victim.token, IssuerService.method.renew) }));
      expect({ c, created, minted, registered, renewed }).toEqual({ c, created: 'ERR_POLICY_INVALID', minted: 'ERR_SCOPE_INVALID', registered: 'ERR_SCOPE_INVALID', renewed: 'ERR_SCOPE_INVALID' });
    }
    expect(await s.state()).toEqual(before);
    // The launch token survived every refusal, and the victim's token was never renewed.
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt)))).toBe('OK');
    expect(await outcomeOf(s.approve(victim))).toBe('OK');
  });
});

describe('negative bounds are numbers, so loosening them is an escalation', () => {
  it.each([
    { name: 'max alone (min 0 dropped)', c: { max: -1 } },
    { name: 'a negative min', c: { max: 5000, min: -100 } },
    { name: 'both negative', c: { max: -1, min: -10 } },
    { name: 'min -1e15 (finite, safe)', c: { max: 10, min: -1e15 } },
  ])('Register asking for $name → ERR_SCOPE_ESCALATION, launch token unused', async ({ c }) => {
    const lt = await s.launchToken();
    const before = await s.state();
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt, { requestedScopes: [approve(c)] })))).toBe('ERR_SCOPE_ESCALATION');
    expect(await s.state()).toEqual(before);
  });

  it('a tighter negative range is a real narrowing and is granted as asked', async () => {
    const lt = await s.launchToken();
    const res = await s.identity.register(await s.registerRequest(lt, { requestedScopes: [approve({ max: 10, min: 0 })] }));
    expect(res.scopes.map((x) => x.constraints['amount']?.max)).toEqual([10]);
  });
});

describe('numbers in JSON: a signed token and a hop', () => {
  const scopesWith = (amountJson: string) => `[{"action":"approve","resource":"invoice","id":"*","constraints":{"amount":${amountJson}}}]`;
  it.each([
    { json: '{"max":1e999}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":-1e999,"min":0}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":1E400}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":1e308}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":9007199254740993}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":"Infinity"}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":"NaN"}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":"5000"}', code: 'ERR_TOKEN_CLAIMS_INVALID' },
    { json: '{"max":NaN}', code: 'ERR_TOKEN_MALFORMED' },
    { json: '{"max":Infinity}', code: 'ERR_TOKEN_MALFORMED' },
    { json: '{"max":0x1388}', code: 'ERR_TOKEN_MALFORMED' },
    { json: '{"max":+5000}', code: 'ERR_TOKEN_MALFORMED' },
  ])('scopes with amount $json, signed by the real key → $code', async ({ json, code }) => {
    const token = resign(victim.token, signing.privateKey, { payload: (p) => withMember(p, 'scopes', scopesWith(json)) });
    expect(await outcomeOf(s.approve({ key: victim.key, token }))).toBe(code);
    expect(await outcomeOf(s.issuer.renew({}, { metadata: s.dpop(victim.key, token, IssuerService.method.renew) }))).toBe(code);
  });

  it.each(['1e999', '-1e999', '1e308', '9007199254740993', '"Infinity"', 'NaN'])('a hop granting amount max %s → ERR_CHAIN_INVALID, nothing recorded', async (max) => {
    const delegatee = await s.agent();
    const before = await s.state();
    const claims = { ...hopClaims(victim, delegatee), scp: [['approve:invoice:*', { amount: { max: 1, min: 0 } }]] };
    // Written as text: canonicalJson (rightly) cannot produce these numbers.
    const payload = canonicalJson(claims).replace('"max":1', `"max":${max}`);
    const hop = jwsFromText(canonicalJson({ alg: 'EdDSA', kid: victim.key.thumbprint, typ: 'baton-hop+jwt' }), payload, ed25519(victim.key.privateKey));
    expect(await outcomeOf(delegateHop(s, victim, hop))).toBe('ERR_CHAIN_INVALID');
    expect(await s.state()).toEqual(before);
  });
});

describe('numbers as request attributes at the guard (ceiling: 0 ≤ amount ≤ 5000)', () => {
  it.each([
    { amount: -1, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: -1e308, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: Number.NaN, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: Number.POSITIVE_INFINITY, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: Number.NEGATIVE_INFINITY, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: 1e308, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: 2 ** 53 + 1, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: 5000.000001, code: 'ERR_CONSTRAINT_VIOLATED' },
    { amount: 5000, code: 'OK' },
    { amount: -0, code: 'OK' },
    { amount: Number.MIN_VALUE, code: 'OK' },
  ])('approve $amount → $code', async ({ amount, code }) => {
    expect(await outcomeOf(s.approve(victim, amount))).toBe(code);
  });

  it('the constraint is the ceiling the workflow set', () => {
    expect(scopeToProto(CEILING[0]!).constraints?.['amount']).toEqual({ max: 5000, min: 0 });
  });
});

describe('2^53+1, 2^63−1 and 2^64−1 in 64-bit fields on the wire', () => {
  it.each([2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 1n])('%s: a resume point past the store gets a reset snapshot; log positions are refused', async (v) => {
    let first: unknown;
    for await (const ev of s.issuer.watchRevocations({ fromSequence: v })) {
      first = ev.event;
      break;
    }
    expect(first).toMatchObject({ case: 'snapshotBegin', value: { reset: true } });
    const size = await s.audit.size();
    const verify = { fromSequence: 1n, toSequence: v };
    const query = { filter: { fromSequence: v, until: 2n ** 63n - 1n }, pageSize: 4_294_967_295 };
    expect({
      inclusion: await outcomeOf(s.audit.client.getInclusionProof({ sequence: v, treeSize: v })),
      inclusionInSmallTree: await outcomeOf(s.audit.client.getInclusionProof({ sequence: 1n, treeSize: v })),
      consistency: await outcomeOf(s.audit.client.getConsistencyProof({ firstSize: 1n, secondSize: v })),
      verify: await outcomeOf(s.audit.client.verify(verify, { metadata: s.audit.keyProof(s.audit.operator, AuditService.method.verify, VerifyRequestSchema, verify) })),
      query: await outcomeOf(s.audit.client.query(query, { metadata: s.audit.keyProof(s.audit.operator, AuditService.method.query, QueryRequestSchema, query) })),
    }).toEqual({ inclusion: 'ERR_INVALID_ARGUMENT', inclusionInSmallTree: 'ERR_INVALID_ARGUMENT', consistency: 'ERR_INVALID_ARGUMENT', verify: 'ERR_INVALID_ARGUMENT', query: 'ERR_INVALID_ARGUMENT' });
    expect(await s.audit.size()).toBe(size);
  });
});
