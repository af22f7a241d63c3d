import { create, toBinary } from '@bufbuild/protobuf';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyProofMetadata } from '@baton/guard';
import { IssueRequestSchema, IssuerService, type IssueRequest } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { generateKeyPair, parseAccessTokenClaims, sha256B64url, type ErrorCode } from '@baton/core';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { codeOf, ISSUER, startHarness, STORES, type Harness } from './testing/harness.js';
import { countTokens } from './token-repo.js';

type IssueInit = Partial<MessageInitShape<typeof IssueRequestSchema>>;

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe.each(STORES)('Issue over gRPC (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, 'issue');
  });
  afterAll(async () => h?.close());

  it('signs an EdDSA at+jwt with kid and cnf.jkt that plain jose verifies against GetKeys', async () => {
    const agent = h.newAgent();
    const res = await h.issue(agent, { requestedTtlSeconds: 120 });
    expect(res.grantedTtlSeconds).toBe(120);
    const header = decodeProtectedHeader(res.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: h.keyRing.activeKid });

    const keys = await h.client.getKeys({});
    const jwks = JSON.parse(keys.jwks) as { keys: Record<string, unknown>[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: h.keyRing.activeKid, alg: 'EdDSA', use: 'sig' });
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    const { payload, protectedHeader } = await jwtVerify(res.accessToken, createLocalJWKSet(jwks as never), {
      issuer: ISSUER,
      audience: 'payments',
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
    });
    expect(protectedHeader.kid).toBe(h.keyRing.activeKid);
    const claims = parseAccessTokenClaims(payload as Record<string, unknown>);
    expect(claims).toMatchObject({
      sub: agent.sub,
      jti: res.jti,
      exp: Number(res.expiresAt),
      task_id: 'task-1',
      orch_id: 'orch-1',
      wf: 'invoices',
      iid: agent.iid,
      principal: 'user:vp@acme.example',
      rnw: 0,
      cnf: { jkt: agent.key.thumbprint },
      scope: 'read:invoice approve:invoice',
    });
    expect(claims.aud).toEqual(['payments', ISSUER]);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.exp - claims.iat).toBe(120);
    // Constraints travel as structured scopes.
    expect(claims.scopes).toEqual([
      { action: 'read', resource: 'invoice' },
      { action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } },
    ]);
    expect(h.audit.find((a) => a.type === 'token.issued' && a.attributes?.jti === res.jti)).toMatchObject({
      agent: agent.sub,
      outcome: 'allow',
      action: 'issue',
      principal: 'user:vp@acme.example',
      attributes: { kid: h.keyRing.activeKid, ttl_s: '120', scope: 'read:invoice approve:invoice' },
    });
  });

  it('applies the TTL rules and returns the granted TTL explicitly', async () => {
    const now = Math.floor(h.clock.now() / 1000);
    const cases: { over: IssueInit; ttl: number }[] = [
      { over: {}, ttl: 300 }, // issuer default
      { over: { defaultTtlSeconds: 90 }, ttl: 90 }, // policy default
      { over: { requestedTtlSeconds: 5000 }, ttl: 3600 }, // issuer ceiling
      { over: { requestedTtlSeconds: 5000, maxTtlSeconds: 600 }, ttl: 600 }, // policy max
      { over: { requestedTtlSeconds: 600, taskDeadline: BigInt(now + 45) }, ttl: 45 }, // deadline
    ];
    for (const c of cases) {
      const res = await h.issue(h.newAgent(), c.over);
      expect(res.grantedTtlSeconds, JSON.stringify(c.over, (_, v) => (typeof v === 'bigint' ? String(v) : v))).toBe(c.ttl);
      expect(Number(res.expiresAt)).toBe(now + c.ttl);
      expect(payloadOf(res.accessToken).exp).toBe(now + c.ttl);
    }
  });

  it('refuses a task whose deadline has passed', async () => {
    const now = Math.floor(h.clock.now() / 1000);
    expect(await codeOf(h.issue(h.newAgent(), { taskDeadline: BigInt(now) }))).toBe('ERR_TASK_DEADLINE_PASSED');
  });

  it('embeds delegation material as del + RFC 8693 act nesting', async () => {
    const agent = h.newAgent();
    const root = h.newAgent();
    const mid = h.newAgent();
    const hops = ['aGRy.cGF5bG9hZDE.c2ln', 'aGRy.cGF5bG9hZDI.c2ln'];
    const delegation = {
      hops,
      chainHash: sha256B64url('chain'),
      depth: 2,
      actors: [root.sub, mid.sub],
      rootTokenHash: sha256B64url('root token'),
      rootJti: 'AAAAAAAAAAAAAAAAAAAAAA',
    };
    const res = await h.issue(agent, { delegation }, h.delegation);
    expect(res.reference).toBe('');
    const claims = parseAccessTokenClaims(payloadOf(res.accessToken));
    expect(claims.del).toEqual({ hops, ch: delegation.chainHash, d: 2, root: { jti: delegation.rootJti, th: delegation.rootTokenHash } });
    expect(claims.act).toEqual({ sub: mid.sub, act: { sub: root.sub } });
  });

  it('moves delegation hops out by reference above 4 KB and serves them through ResolveReference', async () => {
    const agent = h.newAgent();
    const big = (i: number) => `aGRy.${Buffer.alloc(700, i).toString('base64url')}.c2ln`;
    const delegation = {
      hops: [0, 1, 2, 3, 4].map(big),
      chainHash: sha256B64url('big chain'),
      depth: 5,
      actors: [0, 1, 2, 3, 4].map(() => h.newAgent().sub),
      rootTokenHash: sha256B64url('root'),
      rootJti: 'BBBBBBBBBBBBBBBBBBBBBB',
    };
    const res = await h.issue(agent, { delegation }, h.delegation);
    expect(res.reference).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.byteLength(res.accessToken)).toBeLessThanOrEqual(4096);
    const claims = parseAccessTokenClaims(payloadOf(res.accessToken));
    expect(claims.del).toMatchObject({ ref: res.reference, ch: delegation.chainHash, d: 5 });
    expect(claims.del?.hops).toBeUndefined();
    const resolved = await h.client.resolveReference({ reference: res.reference });
    expect(resolved.delegation).toMatchObject({ hops: delegation.hops, chainHash: delegation.chainHash, depth: 5, actors: delegation.actors, rootJti: delegation.rootJti });
    expect(await codeOf(h.client.resolveReference({ reference: 'CCCCCCCCCCCCCCCCCCCCCC' }))).toBe('ERR_TOKEN_REFERENCE_UNKNOWN');
    expect(await codeOf(h.client.resolveReference({ reference: '../../etc' }))).toBe('ERR_TOKEN_REFERENCE_UNKNOWN');
  });

  it('is refused to anyone but the identity and delegation services', async () => {
    const agent = h.newAgent();
    expect(await codeOf(h.issue(agent, {}, h.stranger))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(h.issue(agent, {}, h.operator))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(h.issue(agent, {}, agent.key))).toBe('ERR_PERMISSION_DENIED');
    // Delegation material only from the delegation service.
    const delegation = { hops: ['a.b.c'], chainHash: sha256B64url('x'), depth: 1, actors: [agent.sub], rootTokenHash: sha256B64url('y'), rootJti: 'DDDDDDDDDDDDDDDDDDDDDD' };
    expect(await codeOf(h.issue(agent, { delegation }, h.identity))).toBe('ERR_PERMISSION_DENIED');
  });

  it('needs a valid proof over the exact request bytes', async () => {
    const agent = h.newAgent();
    const req: MessageInitShape<typeof IssueRequestSchema> = {
      subject: agent.sub,
      workflowId: 'invoices',
      orchestrationId: 'orch-1',
      taskId: 'task-1',
      instanceId: agent.iid,
      principal: 'user:p',
      scopes: [{ action: 'read', resource: 'invoice' }],
      audiences: ['payments'],
      keyThumbprint: agent.key.thumbprint,
    };
    const method = IssuerService.method.issue;
    expect(await codeOf(h.client.issue(req))).toBe('ERR_PROOF_MISSING');
    // A proof for another body (wider scope) does not carry over.
    const other = { ...req, scopes: [{ action: '*', resource: '*' }] };
    const md = h.keyProof(h.identity, method, IssueRequestSchema, req);
    expect(await codeOf(h.client.issue(other, { metadata: md }))).toBe('ERR_PROOF_REQUEST_MISMATCH');
    // A proof for another method.
    const wrong = keyProofMetadata(h.identity, IssuerService.method.revoke, toBinary(IssueRequestSchema, create(IssueRequestSchema, req)), h.clock.now());
    expect(await codeOf(h.client.issue(req, { metadata: wrong }))).toBe('ERR_PROOF_METHOD_MISMATCH');
    // Replay of a used proof.
    const once = h.keyProof(h.identity, method, IssueRequestSchema, req);
    await h.client.issue(req, { metadata: once });
    expect(await codeOf(h.client.issue(req, { metadata: once }))).toBe('ERR_PROOF_REPLAYED');
  });

  it('validates every field', async () => {
    const agent = h.newAgent();
    const other = h.newAgent('task-2');
    const now = Math.floor(h.clock.now() / 1000);
    const cases: [string, IssueInit, ErrorCode][] = [
      ['subject not SPIFFE', { subject: 'agent-1' }, 'ERR_SPIFFE_ID_INVALID'],
      ['subject of another trust domain', { subject: `spiffe://evil.example/agent/orch-1/task-1/${agent.iid}` }, 'ERR_SPIFFE_ID_INVALID'],
      ['subject not an agent', { subject: 'spiffe://baton.local/authority' }, 'ERR_SPIFFE_ID_INVALID'],
      ['subject for another task', { subject: other.sub }, 'ERR_INVALID_ARGUMENT'],
      ['workflow id with uppercase', { workflowId: 'Invoices' }, 'ERR_ID_INVALID'],
      ['task id with a slash', { taskId: 'task/1' }, 'ERR_ID_INVALID'],
      ['instance id too short', { instanceId: 'abc' }, 'ERR_ID_INVALID'],
      ['empty principal', { principal: '' }, 'ERR_INVALID_ARGUMENT'],
      ['principal with a newline', { principal: 'user:a\nuser:b' }, 'ERR_INVALID_ARGUMENT'],
      ['no scopes', { scopes: [] }, 'ERR_SCOPE_INVALID'],
      ['malformed scope', { scopes: [{ action: 'read', resource: 'in voice' }] }, 'ERR_SCOPE_INVALID'],
      ['65 scopes', { scopes: Array.from({ length: 65 }, (_, i) => ({ action: 'read', resource: `r${i}` })) }, 'ERR_SCOPE_INVALID'],
      ['no audience', { audiences: [] }, 'ERR_INVALID_ARGUMENT'],
      ['audience with a space', { audiences: ['pay ments'] }, 'ERR_INVALID_ARGUMENT'],
      ['16 audiences', { audiences: Array.from({ length: 16 }, (_, i) => `a${i}`) }, 'ERR_INVALID_ARGUMENT'],
      ['jkt too short', { keyThumbprint: 'abc' }, 'ERR_INVALID_ARGUMENT'],
      ['jkt not base64url', { keyThumbprint: `${'a'.repeat(42)}=` }, 'ERR_INVALID_ARGUMENT'],
      ['cert thumbprint malformed', { certificateThumbprint: 'zz' }, 'ERR_INVALID_ARGUMENT'],
      ['negative deadline', { taskDeadline: -5n }, 'ERR_INVALID_ARGUMENT'],
      ['deadline beyond year 9999', { taskDeadline: 10n ** 15n }, 'ERR_INVALID_ARGUMENT'],
      ['absurd TTL', { requestedTtlSeconds: 4_000_000_000 }, 'ERR_INVALID_ARGUMENT'],
      ['deadline passed', { taskDeadline: BigInt(now - 1) }, 'ERR_TASK_DEADLINE_PASSED'],
    ];
    const before = await countTokens(h.db);
    for (const [name, over, code] of cases) {
      expect(await codeOf(h.issue(agent, over)), name).toBe(code);
    }
    expect(await countTokens(h.db)).toBe(before);
  });

  it('validates delegation material', async () => {
    const agent = h.newAgent();
    const good = {
      hops: ['a.b.c'],
      chainHash: sha256B64url('x'),
      depth: 1,
      actors: [agent.sub],
      rootTokenHash: sha256B64url('y'),
      rootJti: 'EEEEEEEEEEEEEEEEEEEEEE',
    };
    const cases: [string, Partial<typeof good>, ErrorCode][] = [
      ['depth 6', { depth: 6, hops: ['a.b.c', 'a.b.d', 'a.b.e', 'a.b.f', 'a.b.g', 'a.b.h'], actors: Array(6).fill(agent.sub) }, 'ERR_DELEGATION_DEPTH_EXCEEDED'],
      ['depth 0', { depth: 0, hops: [], actors: [] }, 'ERR_DELEGATION_DEPTH_EXCEEDED'],
      ['depth and hops disagree', { depth: 2 , actors: [agent.sub, agent.sub] }, 'ERR_INVALID_ARGUMENT'],
      ['hop not a JWS', { hops: ['not a jws'] }, 'ERR_INVALID_ARGUMENT'],
      ['actor not SPIFFE', { actors: ['bob'] }, 'ERR_INVALID_ARGUMENT'],
      ['chain hash malformed', { chainHash: 'abc' }, 'ERR_INVALID_ARGUMENT'],
      ['root jti malformed', { rootJti: 'short' }, 'ERR_INVALID_ARGUMENT'],
    ];
    for (const [name, over, code] of cases) {
      expect(await codeOf(h.issue(agent, { delegation: { ...good, ...over } }, h.delegation)), name).toBe(code);
    }
  });

  it('rejects requests from a key the issuer does not know even with a perfect proof', async () => {
    const unknown = generateKeyPair();
    const req: Partial<IssueRequest> = {};
    expect(await codeOf(h.issue(h.newAgent(), req, unknown))).toBe('ERR_PERMISSION_DENIED');
  });
});
