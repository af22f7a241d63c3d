/**
 * JSON nested 10 000 levels deep (and as deep as each entry point's size limit allows)
 * wherever JSON is parsed from outside: access tokens at the guard, Renew and Introspect,
 * DPoP and key proofs, hops at Delegate, tokens at Delegation.Verify, and the authority's
 * config file. A recursive parser would overflow its stack (an ERR_INTERNAL or a crash);
 * here every one is refused with the entry point's own code, and the services keep
 * serving.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, createProof, isBatonError } from '@baton/core';
import { loadConfig } from '@baton/authority';
import { MetadataKey, scopeToProto } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { CreateWorkflowRequestSchema, IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { ed25519, jwsFromText, resign, segmentsOf } from './support/forge.js';
import { delegateHop } from './support/hops.js';
import { outcomeOf } from './support/outcome.js';
import { CEILING, startStack, type Stack, type TestAgent } from './support/stack.js';

let s: Stack;
let victim: TestAgent;

beforeAll(async () => {
  s = await startStack();
  victim = await s.agent();
});
afterAll(async () => {
  await s?.close();
});

/** `{"a":[[[…]]]}` with `levels` arrays, closed. */
const nested = (levels: number): string => `{"a":${'['.repeat(levels)}${']'.repeat(levels)}}`;
/** 10 000 opening brackets and nothing else: the deepest nesting that fits 16 KB as base64url. */
const unclosed = '['.repeat(10_000);

describe('deep JSON in access tokens (re-signed with the real key)', () => {
  const deepToken = (payload: string) => resign(victim.token, s.signingKey().privateKey, { payload: () => payload });
  it.each([
    { name: '2 900 levels (fits the guard’s 8 KB)', payload: () => nested(2900), guard: 'ERR_TOKEN_MALFORMED', introspect: 'ERR_TOKEN_MALFORMED' },
    { name: '10 000 levels, unclosed', payload: () => unclosed, guard: 'ERR_TOKEN_TOO_LARGE', introspect: 'ERR_TOKEN_MALFORMED' },
    { name: '10 000 levels, closed', payload: () => nested(10_000), guard: 'ERR_METADATA_TOO_LARGE', introspect: 'ERR_TOKEN_TOO_LARGE' },
  ])('$name → guard and Renew $guard, Introspect $introspect', async ({ payload, guard, introspect }) => {
    const token = deepToken(payload());
    expect(await outcomeOf(s.approve({ key: victim.key, token }))).toBe(guard);
    expect(await outcomeOf(s.issuer.renew({}, { metadata: s.dpop(victim.key, token, IssuerService.method.renew) }))).toBe(guard);
    const intro = await s.issuer.introspect({ token });
    expect([intro.active, intro.inactiveCode]).toEqual([false, introspect]);
  });

  it('in the header too: 10 000 unclosed levels → ERR_TOKEN_MALFORMED at Introspect', async () => {
    const token = resign(victim.token, s.signingKey().privateKey, { header: () => unclosed });
    const intro = await s.issuer.introspect({ token });
    expect(intro.inactiveCode).toBe('ERR_TOKEN_MALFORMED');
  });

  it('at Delegation.Verify (token in the message body)', async () => {
    for (const [token, code] of [
      [deepToken(nested(2900)), 'ERR_TOKEN_MALFORMED'],
      [deepToken(unclosed), 'ERR_TOKEN_TOO_LARGE'],
    ] as const) {
      const res = await s.delegation.verify({ accessToken: token, action: 'approve', resource: 'invoice', id: 'inv-1' });
      expect([res.valid, res.code]).toEqual([false, code]);
    }
  });
});

describe('deep JSON in proofs', () => {
  it('a DPoP proof whose payload is 10 000 levels deep → ERR_PROOF_INVALID', async () => {
    const { headerText } = segmentsOf(createProof({ keyPair: victim.key, htm: 'POST', htu: `/${PaymentsService.typeName}/ApproveInvoice`, accessToken: victim.token }));
    const proof = jwsFromText(headerText, unclosed, ed25519(victim.key.privateKey));
    expect(proof.length).toBeGreaterThan(13_000);
    expect(await outcomeOf(s.approve(victim, 1, { [MetadataKey.authorization]: `DPoP ${victim.token}`, [MetadataKey.dpop]: proof }))).toBe('ERR_PROOF_INVALID');
  });

  it('an operator key proof whose header is 10 000 levels deep → ERR_PROOF_INVALID, nothing created', async () => {
    const before = await s.state();
    const wf = { id: 'wf-deep', policy: { scopeCeiling: CEILING.map(scopeToProto), audiences: ['payments'] } };
    const { payloadText } = segmentsOf(s.keyProof(s.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf)[MetadataKey.proof]!);
    const proof = jwsFromText(unclosed, payloadText, ed25519(s.operator.privateKey));
    expect(await outcomeOf(s.identity.createWorkflow(wf, { metadata: { [MetadataKey.proof]: proof } }))).toBe('ERR_PROOF_INVALID');
    expect(await s.state()).toEqual(before);
  });
});

describe('deep JSON in hops', () => {
  it.each([
    { name: '2 500 levels (fits 8 KB)', payload: () => nested(2500) },
    { name: '10 000 levels', payload: () => nested(10_000) },
  ])('a hop payload $name → ERR_CHAIN_INVALID, nothing recorded', async ({ payload }) => {
    const before = await s.state();
    const hop = jwsFromText(canonicalJson({ alg: 'EdDSA', kid: victim.key.thumbprint, typ: 'baton-hop+jwt' }), payload(), ed25519(victim.key.privateKey));
    expect(await outcomeOf(delegateHop(s, victim, hop))).toBe('ERR_CHAIN_INVALID');
    expect(await s.state()).toEqual(before);
  });
});

describe('deep JSON in the authority config file', () => {
  it('10 000 levels → ERR_JSON_INVALID, not a stack overflow', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-adv-deep-'));
    try {
      fs.writeFileSync(path.join(dir, 'authority.json'), `{"listen":"127.0.0.1:0","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
      let code = 'loaded';
      try {
        loadConfig(path.join(dir, 'authority.json'), {});
      } catch (err) {
        code = isBatonError(err) ? err.code : `not a BatonError: ${(err as Error).name}`;
      }
      expect(code).toBe('ERR_JSON_INVALID');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('afterwards', () => {
  it('every service still serves', async () => {
    expect(await outcomeOf(s.approve(victim, 5))).toBe('OK');
    expect(await outcomeOf(s.agent())).toBe('OK');
  });
});
