/**
 * `__proto__`, `constructor` and `prototype` as keys in every JSON-shaped input an
 * attacker reaches: constraint maps of structured scopes (workflow ceiling, launch token,
 * Register, Renew), proof headers and payloads (DPoP and key proofs), hops, the
 * authority's config file and audit event attributes. (Token payloads: see
 * token-payloads.test.ts.) The services run in this process, so a pollution of
 * Object.prototype anywhere in them would show here; none does, and every refusal leaves
 * the store unchanged.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, createProof, generateKeyPair, isBatonError } from '@baton/core';
import { loadConfig } from '@baton/authority';
import { MetadataKey, scopeToProto } from '@baton/proto';
import { AppendRequestSchema, AppendResult_Status, AuditService, QueryRequestSchema } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { AddOrchestratorRequestSchema, CreateWorkflowRequestSchema, IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService, RevocationLevel, RevocationReason, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { appendMember, ed25519, jwsFromText, segmentsOf } from './support/forge.js';
import { delegateHop, hopClaims } from './support/hops.js';
import { outcomeOf, prototypeKeys } from './support/outcome.js';
import { mintLaunchToken, registerRequest } from './support/provision.js';
import { CEILING, startStack, type Stack, type TestAgent } from './support/stack.js';

const KEYS = ['__proto__', 'constructor', 'prototype'] as const;
const pristine = prototypeKeys();

let s: Stack;
let victim: TestAgent;

beforeAll(async () => {
  s = await startStack();
  victim = await s.agent();
});
afterAll(async () => {
  await s?.close();
});
afterEach(() => {
  expect(prototypeKeys()).toEqual(pristine);
  expect(({} as Record<string, unknown>)['max']).toBeUndefined();
});

const withConstraintKey = (key: string) => ({
  action: 'approve',
  resource: 'invoice',
  id: '*',
  constraints: { amount: { max: 10, min: 0 }, [key]: { max: 1e6 } },
});

describe('prototype keys in structured scopes on the wire (protobuf map keys)', () => {
  it.each(KEYS)('constraint key %s is refused by CreateWorkflow, CreateLaunchToken, Register and Renew', async (key) => {
    const lt = await s.launchToken();
    const before = await s.state();
    const scope = withConstraintKey(key);
    expect(Object.keys(scope.constraints)).toContain(key);
    const wf = { id: 'wf-proto', policy: { scopeCeiling: [scope], audiences: ['payments'] } };
    const created = await outcomeOf(s.identity.createWorkflow(wf, { metadata: s.keyProof(s.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf) }));
    const minted = await outcomeOf(s.launchToken({ scopes: [scope] }));
    const registered = await outcomeOf(s.identity.register(await s.registerRequest(lt, { requestedScopes: [scope] })));
    const renewed = await outcomeOf(s.issuer.renew({ scopes: [scope] }, { metadata: s.dpop(victim.key, victim.token, IssuerService.method.renew) }));
    expect({ created, minted, registered, renewed }).toEqual({ created: 'ERR_POLICY_INVALID', minted: 'ERR_SCOPE_INVALID', registered: 'ERR_SCOPE_INVALID', renewed: 'ERR_SCOPE_INVALID' });
    expect(await s.state()).toEqual(before);
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt)))).toBe('OK');
  });

  it('prototype words as action and resource names are plain strings: not covered by the ceiling, so refused', async () => {
    const before = await s.state();
    const weird = { action: 'constructor', resource: '__proto__', id: 'prototype' };
    expect(await outcomeOf(s.launchToken({ scopes: [weird] }))).toBe('ERR_SCOPE_ESCALATION');
    expect(await s.state()).toEqual(before);
  });
});

describe('prototype words as ids, end to end', () => {
  it('a workflow "constructor", orchestrator "prototype" and task "hasOwnProperty" are plain ids: served, revoked, and never confused with others', async () => {
    const orchestrator = generateKeyPair();
    const wf = { id: 'constructor', policy: { scopeCeiling: CEILING.map(scopeToProto), audiences: ['payments'] } };
    await s.identity.createWorkflow(wf, { metadata: s.keyProof(s.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf) });
    const orch = { id: 'prototype', publicKey: orchestrator.rawPublicKey, workflowIds: ['constructor'] };
    await s.identity.addOrchestrator(orch, { metadata: s.keyProof(s.operator, IdentityService.method.addOrchestrator, AddOrchestratorRequestSchema, orch) });
    const key = generateKeyPair();
    const lt = await mintLaunchToken(s.identity, orchestrator, { workflowId: 'constructor', taskId: 'hasOwnProperty' });
    const res = await s.identity.register(await registerRequest(s.identity, lt, key, { name: 'tostring' }));
    const odd = { key, token: res.accessToken };
    expect(res.spiffeId).toMatch(/\/agent\/prototype\/hasOwnProperty\//);
    expect(await outcomeOf(s.approve(odd))).toBe('OK');
    const revoke = { level: RevocationLevel.WORKFLOW, target: 'constructor', reason: RevocationReason.MANUAL };
    await s.issuer.revoke(revoke, { metadata: s.keyProof(s.operator, IssuerService.method.revoke, RevokeRequestSchema, revoke) });
    await expect.poll(() => outcomeOf(s.approve(odd)), { timeout: 15_000 }).toBe('ERR_TOKEN_REVOKED');
    // Everyone else is untouched.
    expect(await outcomeOf(s.approve(victim))).toBe('OK');
  });
});

describe('prototype keys in proofs', () => {
  const method = `/${PaymentsService.typeName}/ApproveInvoice`;
  const dpopWith = (edit: { header?: (h: string) => string; payload?: (p: string) => string }) => {
    const { headerText, payloadText } = segmentsOf(createProof({ keyPair: victim.key, htm: 'POST', htu: method, accessToken: victim.token }));
    const proof = jwsFromText(edit.header?.(headerText) ?? headerText, edit.payload?.(payloadText) ?? payloadText, ed25519(victim.key.privateKey));
    return { [MetadataKey.authorization]: `DPoP ${victim.token}`, [MetadataKey.dpop]: proof };
  };

  it.each(KEYS)('a DPoP proof with %s in its header or payload → ERR_PROOF_INVALID', async (key) => {
    expect(await outcomeOf(s.approve(victim, 1, dpopWith({ header: (h) => appendMember(h, `"${key}":{"alg":"none"}`) })))).toBe('ERR_PROOF_INVALID');
    expect(await outcomeOf(s.approve(victim, 1, dpopWith({ payload: (p) => appendMember(p, `"${key}":{"htu":"/x/Y"}`) })))).toBe('ERR_PROOF_INVALID');
    expect(await outcomeOf(s.approve(victim, 1))).toBe('OK');
  });

  it.each(KEYS)('an operator key proof with %s in its header → ERR_PROOF_INVALID, no workflow created', async (key) => {
    const before = await s.state();
    const wf = { id: 'wf-proof', policy: { scopeCeiling: CEILING.map(scopeToProto), audiences: ['payments'] } };
    const good = s.keyProof(s.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf)[MetadataKey.proof]!;
    const { headerText, payloadText } = segmentsOf(good);
    const proof = jwsFromText(appendMember(headerText, `"${key}":{}`), payloadText, ed25519(s.operator.privateKey));
    expect(await outcomeOf(s.identity.createWorkflow(wf, { metadata: { [MetadataKey.proof]: proof } }))).toBe('ERR_PROOF_INVALID');
    expect(await s.state()).toEqual(before);
  });
});

describe('prototype keys in hops', () => {
  it.each(KEYS)('%s in the hop payload or among its constraints → ERR_CHAIN_INVALID, nothing recorded', async (key) => {
    const delegatee = await s.agent();
    const before = await s.state();
    const header = canonicalJson({ alg: 'EdDSA', kid: victim.key.thumbprint, typ: 'baton-hop+jwt' });
    const claims = hopClaims(victim, delegatee);
    const top = canonicalJson(claims).replace('{', `{"${key}":{"dep":1},`);
    const inScope = canonicalJson({ ...claims, scp: [['approve:invoice:*', { amount: { max: 10, min: 0 } }]] }).replace('{"amount"', `{"${key}":{"max":1},"amount"`);
    for (const payload of [top, inScope]) {
      expect(await outcomeOf(delegateHop(s, victim, jwsFromText(header, payload, ed25519(victim.key.privateKey))))).toBe('ERR_CHAIN_INVALID');
    }
    expect(await s.state()).toEqual(before);
  });
});

describe('prototype keys in the authority config file', () => {
  it.each([
    '{"listen":"127.0.0.1:0","__proto__":{"services":["identity","issuer","audit"]}}',
    '{"listen":"127.0.0.1:0","constructor":{"prototype":{"admin":true}}}',
    '{"listen":"127.0.0.1:0","prototype":1}',
    '{"listen":"127.0.0.1:0","operators":[{"id":"op","jwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA","__proto__":{}}}]}',
  ])('%s → ERR_JSON_INVALID', (text) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-adv-cfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'authority.json'), text);
      let code = 'loaded';
      try {
        loadConfig(path.join(dir, 'authority.json'), {});
      } catch (err) {
        code = isBatonError(err) ? err.code : 'not a BatonError';
      }
      expect(code).toBe('ERR_JSON_INVALID');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('prototype keys in audit event attributes (AuditService over gRPC)', () => {
  const event = (attributes: Record<string, string>) => ({
    eventId: crypto.randomBytes(16).toString('base64url'),
    time: BigInt(Date.now()),
    type: 'token.issued',
    source: 'issuer',
    agent: victim.spiffeId,
    attributes,
  });

  it('a __proto__ attribute rejects only its own event; constructor and prototype are dropped as not allowlisted', async () => {
    const sizeBefore = await s.audit.size();
    const events = [event({ method: 'Renew' }), event({ ['__proto__']: 'x' }), event({ constructor: 'x', prototype: 'y', method: 'Issue' })];
    expect(Object.keys(events[1]!.attributes)).toEqual(['__proto__']);
    const req = { events };
    const res = await s.audit.client.append(req, { metadata: s.audit.keyProof(s.audit.source, AuditService.method.append, AppendRequestSchema, req) });
    expect(res.results.map((r) => [r.status, r.code])).toEqual([
      [AppendResult_Status.ACCEPTED, ''],
      [AppendResult_Status.REJECTED, 'ERR_AUDIT_EVENT_INVALID'],
      [AppendResult_Status.ACCEPTED, ''],
    ]);
    expect(await s.audit.size()).toBe(sizeBefore + 2);
    const q = { filter: { fromSequence: BigInt(sizeBefore + 1) }, pageSize: 10 };
    const stored = await s.audit.client.query(q, { metadata: s.audit.keyProof(s.audit.operator, AuditService.method.query, QueryRequestSchema, q) });
    expect(stored.entries.map((e) => Object.keys(e.event?.attributes ?? {}))).toEqual([['method'], ['method']]);
  });
});
