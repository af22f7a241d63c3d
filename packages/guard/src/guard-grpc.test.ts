import { create, createFileRegistry, toBinary } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Metadata } from '@grpc/grpc-js';
import { BatonError, ERROR_CODES, ReplayCache, generateKeyPair, isBatonError, type ErrorCode } from '@baton/core';
import { createClient, createServer, type BatonServer, type CallContext, type Client, type ServiceImpl } from '@baton/proto';
import {
  IntrospectRequestSchema,
  IntrospectResponseSchema,
  IssuerService,
  RevokeRequestSchema,
  file_baton_issuer_v1_issuer,
} from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from './create-guard.js';
import type { AllowDecision, Decision, DecisionInfo } from './decision.js';
import { authenticateCall, decisionOf, guardGrpcService } from './guard-grpc.js';
import { verifyKeyProof } from './key-proof.js';
import { staticKeys } from './key-source.js';
import { dpopMetadata, keyProofMetadata } from './proof-metadata.js';
import { AUDIENCE, ISSUER, fixture, type Fixture } from './testing/fixtures.js';

// The guarded "resource server" reuses IssuerService's shapes: Introspect (unary),
// WatchRevocations (server streaming), Revoke (key-holder calls).
const INTROSPECT = '/baton.issuer.v1.IssuerService/Introspect';
const REVOKE = '/baton.issuer.v1.IssuerService/Revoke';

/** A runtime-built service with a client-streaming method (no Baton RPC has one yet). */
function uploadService(): GenService<{ upload: { methodKind: 'client_streaming'; input: typeof IntrospectRequestSchema; output: typeof IntrospectResponseSchema } }> {
  const proto = create(FileDescriptorProtoSchema, {
    name: 'guardtest/v1/upload.proto',
    package: 'guardtest.v1',
    syntax: 'proto3',
    dependency: ['baton/issuer/v1/issuer.proto'],
    service: [
      {
        name: 'Upload',
        method: [{ name: 'Upload', inputType: '.baton.issuer.v1.IntrospectRequest', outputType: '.baton.issuer.v1.IntrospectResponse', clientStreaming: true }],
      },
    ],
  });
  const registry = createFileRegistry(proto, (n) => (n === 'baton/issuer/v1/issuer.proto' ? file_baton_issuer_v1_issuer : undefined));
  return registry.getService('guardtest.v1.Upload') as never;
}
const Upload = uploadService();

let f: Fixture;
let guard: Guard;
let server: BatonServer;
let client: Client<typeof IssuerService>;
let uploads: Client<typeof Upload>;
const decisions: [Decision, DecisionInfo][] = [];
const seen: AllowDecision[] = [];
const keyCache = new ReplayCache();
const operator = generateKeyPair();

beforeAll(async () => {
  f = fixture();
  f.clock.set(Date.now()); // the client and server share the real clock here
  guard = createGuard({
    audience: AUDIENCE,
    issuer: ISSUER,
    keys: staticKeys(new Map([[f.kid, f.issuerKey.publicKey]])),
    clock: f.clock,
    onDecision: (d, i) => void decisions.push([d, i]),
  });
  const resource: Partial<ServiceImpl<typeof IssuerService>> = {
    async introspect(req, ctx) {
      const d = decisionOf(ctx);
      seen.push(d);
      return { active: true, sub: d.subject, scope: req.token };
    },
    async *watchRevocations(_req, ctx) {
      seen.push(decisionOf(ctx));
      yield { event: { case: 'keepAlive', value: { sequence: 1n } } };
      yield { event: { case: 'keepAlive', value: { sequence: 2n } } };
    },
    async release(_req, ctx) {
      decisionOf(ctx); // never reached: not wrapped below
      return {};
    },
  };
  const guarded = guardGrpcService(guard, resource, {
    service: IssuerService,
    toRequest: (method, req) => {
      if (method === 'introspect') return { action: 'read', resource: 'invoice', id: (req as { token: string }).token };
      if (method === 'watchRevocations') return { action: 'read', resource: 'invoice' };
      return undefined;
    },
  });
  // Key-holder endpoint: verifyKeyProof only (no token).
  guarded.revoke = async (req, ctx) => {
    const { jkt } = verifyKeyProof(ctx, req, { replayCache: keyCache });
    if (jkt !== operator.thumbprint) throw new BatonError('ERR_PERMISSION_DENIED', 'unknown key');
    return { sequence: 1n };
  };
  // An unwrapped handler using decisionOf is a wiring bug that must fail closed.
  const unwrapped = guarded as Partial<ServiceImpl<typeof IssuerService>>;
  unwrapped.release = resource.release!;

  const uploadImpl = guardGrpcService(
    guard,
    {
      async upload(reqs, ctx) {
        let n = 0;
        for await (const _ of reqs) n++;
        return { active: true, sub: decisionOf(ctx).subject, scope: String(n) };
      },
    },
    { service: Upload, toRequest: () => ({ action: 'read', resource: 'invoice' }), route: { proof: 'required' } },
  );
  server = createServer({ tracing: false });
  server.addService(IssuerService, guarded as ServiceImpl<typeof IssuerService>);
  server.addService(Upload, uploadImpl);
  const port = await server.listen('127.0.0.1:0');
  client = createClient(IssuerService, `127.0.0.1:${port}`, { tracing: false });
  uploads = createClient(Upload, `127.0.0.1:${port}`, { tracing: false });
});

afterAll(async () => {
  client.close();
  uploads.close();
  await server.shutdown(0);
});

async function failure(p: Promise<unknown>): Promise<{ code: ErrorCode; detail: string; details: string }> {
  try {
    await p;
  } catch (err) {
    if (!isBatonError(err)) throw err;
    return { code: err.code, detail: err.detail, details: String((err.cause as { details?: unknown })?.details) };
  }
  throw new Error('expected the call to fail');
}

describe('guardGrpcService', () => {
  it('checks a unary call and hands the decision to the handler', async () => {
    const token = f.mint();
    const res = await client.introspect({ token: 'inv-1' }, { metadata: dpopMetadata(f.holder, token, INTROSPECT) });
    expect(res.active).toBe(true);
    expect(res.sub).toBe(seen.at(-1)!.subject);
    expect(seen.at(-1)).toMatchObject({ allow: true, bearer: false, jkt: f.holder.thumbprint });
    expect(decisions.at(-1)![1]).toMatchObject({ htm: 'POST', htu: INTROSPECT });
  });

  it('checks a server-streaming call before the first message', async () => {
    const token = f.mint();
    const got: bigint[] = [];
    for await (const m of client.watchRevocations({}, { metadata: dpopMetadata(f.holder, token, IssuerService.method.watchRevocations) })) {
      if (m.event.case === 'keepAlive') got.push(m.event.value.sequence);
    }
    expect(got).toEqual([1n, 2n]);
    const denied = (async () => {
      for await (const _ of client.watchRevocations({})) throw new Error('must not receive a message');
    })();
    expect((await failure(denied)).code).toBe('ERR_TOKEN_MISSING');
  });

  it('checks a client-streaming call before reading the requests', async () => {
    const token = f.mint();
    const path = '/guardtest.v1.Upload/Upload';
    const res = await uploads.upload([{ token: 'a' }, { token: 'b' }], { metadata: dpopMetadata(f.holder, token, path) });
    expect(res.scope).toBe('2');
    expect((await failure(uploads.upload([{ token: 'a' }]))).code).toBe('ERR_TOKEN_MISSING');
  });

  it.each<[string, () => Record<string, string> | Metadata, ErrorCode]>([
    ['no credentials', () => ({}), 'ERR_TOKEN_MISSING'],
    ['a token without proof', () => ({ authorization: `DPoP ${f.mint()}` }), 'ERR_PROOF_MISSING'],
    ['Bearer scheme for a bound token', () => ({ authorization: `Bearer ${f.mint()}`, dpop: 'ignored' }), 'ERR_PROOF_MISSING'],
    ['an unknown scheme', () => ({ authorization: `Basic ${f.mint()}` }), 'ERR_TOKEN_MISSING'],
    ['a proof for another method', () => dpopMetadata(f.holder, f.mint(), REVOKE), 'ERR_PROOF_METHOD_MISMATCH'],
    ['a proof by another key', () => dpopMetadata(generateKeyPair(), f.mint(), INTROSPECT), 'ERR_PROOF_KEY_MISMATCH'],
    ['a token for another audience', () => dpopMetadata(f.holder, f.mint({ aud: ['billing'] }), INTROSPECT), 'ERR_TOKEN_AUDIENCE_INVALID'],
    ['an expired token', () => dpopMetadata(f.holder, f.mint({ exp: sec() - 31, iat: sec() - 400, nbf: sec() - 400 }), INTROSPECT), 'ERR_TOKEN_EXPIRED'],
    [
      'two dpop proofs (both valid)',
      () => {
        const md = new Metadata();
        const t = f.mint();
        md.add('authorization', `DPoP ${t}`);
        md.add('dpop', dpopMetadata(f.holder, t, INTROSPECT).dpop!);
        md.add('dpop', dpopMetadata(f.holder, t, INTROSPECT).dpop!);
        return md;
      },
      'ERR_PROOF_INVALID',
    ],
    ['an oversized token', () => ({ authorization: `DPoP ${'a'.repeat(9000)}` }), 'ERR_TOKEN_TOO_LARGE'],
  ])('denies %s with %s, sending only the generic problem', async (_n, md, code) => {
    const before = decisions.length;
    const err = await failure(client.introspect({ token: 'inv-1' }, { metadata: md() }));
    expect(err.code).toBe(code);
    expect(err.details).toBe(ERROR_CODES[code].title);
    const [d] = decisions.at(-1)!;
    expect(decisions.length).toBe(before + 1);
    if (d.allow) throw new Error('expected a deny');
    expect(d.code).toBe(code);
    // The precise reason stays in the audit hook.
    expect(err.detail).not.toContain(d.reason);
    expect(err.details).not.toContain(d.reason);
  });

  it('denies a replayed proof', async () => {
    const md = dpopMetadata(f.holder, f.mint(), INTROSPECT);
    await client.introspect({ token: 'inv-1' }, { metadata: md });
    expect((await failure(client.introspect({ token: 'inv-1' }, { metadata: md }))).code).toBe('ERR_PROOF_REPLAYED');
  });

  it('maps scope denials to PERMISSION_DENIED', async () => {
    const token = f.mint({ scope: 'read:invoice:inv-1', scopes: undefined });
    const err = await failure(client.introspect({ token: 'inv-2' }, { metadata: dpopMetadata(f.holder, token, INTROSPECT) }));
    expect(err.code).toBe('ERR_SCOPE_DENIED');
    expect(err.details).toBe(ERROR_CODES.ERR_SCOPE_DENIED.title);
  });

  it('an unwrapped handler calling decisionOf fails closed', async () => {
    expect((await failure(client.release({}))).code).toBe('ERR_UNAUTHENTICATED');
  });

  it('rejects wiring mistakes with TypeError', () => {
    expect(() => guardGrpcService(guard, {}, { service: IssuerService, toRequest: () => undefined, route: { highAssurance: true } })).not.toThrow();
    expect(() =>
      guardGrpcService(guard, { introspect: async () => ({}) }, { service: IssuerService, toRequest: () => undefined, route: { highAssurance: true } }),
    ).toThrow(TypeError);
    expect(() => guardGrpcService(guard, {}, { service: IssuerService } as never)).toThrow(TypeError);
  });
});

describe('verifyKeyProof over gRPC', () => {
  const request = { level: 2, target: 'spiffe://baton.local/agent/o/t/AAAAAAAAAAAAAAAAAAAAAA', reason: 1 } as const;
  const bytes = (r: object = request): Uint8Array => toBinary(RevokeRequestSchema, create(RevokeRequestSchema, r));

  it('accepts a proof over the exact request bytes and returns the caller key thumbprint', async () => {
    const res = await client.revoke(request, { metadata: keyProofMetadata(operator, REVOKE, bytes()) });
    expect(res.sequence).toBe(1n);
  });

  it.each<[string, () => Record<string, string>, ErrorCode]>([
    ['no proof', () => ({}), 'ERR_PROOF_MISSING'],
    ['a proof over another body (rh mismatch)', () => keyProofMetadata(operator, REVOKE, bytes({ ...request, target: 'other' })), 'ERR_PROOF_REQUEST_MISMATCH'],
    ['a proof for another method', () => keyProofMetadata(operator, INTROSPECT, bytes()), 'ERR_PROOF_METHOD_MISMATCH'],
    ['a stale proof', () => keyProofMetadata(operator, REVOKE, bytes(), Date.now() - 61_000), 'ERR_PROOF_STALE'],
    ['an agent DPoP proof instead', () => ({ 'baton-proof': dpopMetadata(operator, f.mint(), REVOKE).dpop! }), 'ERR_PROOF_REQUEST_MISMATCH'],
    ['a valid proof by an unknown key', () => keyProofMetadata(generateKeyPair(), REVOKE, bytes()), 'ERR_PERMISSION_DENIED'],
  ])('denies %s with %s', async (_n, md, code) => {
    expect((await failure(client.revoke(request, { metadata: md() }))).code).toBe(code);
  });

  it('denies a replayed key proof', async () => {
    const md = keyProofMetadata(operator, REVOKE, bytes());
    await client.revoke(request, { metadata: md });
    expect((await failure(client.revoke(request, { metadata: md }))).code).toBe('ERR_PROOF_REPLAYED');
  });

  it('throws TypeError for a request that did not come off the wire', () => {
    const ctx = { metadata: new Metadata(), method: REVOKE } as unknown as CallContext;
    expect(() => verifyKeyProof(ctx, create(RevokeRequestSchema, request), { replayCache: keyCache })).toThrow(TypeError);
  });
});

function sec(): number {
  return Math.floor(f.clock.now() / 1000);
}

describe('authenticateCall', () => {
  const callWith = (md: Record<string, string>): CallContext => {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(md)) metadata.set(k, v);
    return { metadata, method: INTROSPECT } as unknown as CallContext;
  };

  it('returns the allow decision with the kid the token verified under', async () => {
    const token = f.mint();
    const d = await authenticateCall(guard, callWith(dpopMetadata(f.holder, token, INTROSPECT)));
    expect(d).toMatchObject({ allow: true, kid: f.kid, bearer: false, jkt: f.holder.thumbprint });
  });

  it('throws the denial code, with the reason kept as the detail', async () => {
    await expect(authenticateCall(guard, callWith({}))).rejects.toMatchObject({ code: 'ERR_TOKEN_MISSING' });
    const token = f.mint();
    // A proof for another method path.
    const err = await authenticateCall(guard, callWith(dpopMetadata(f.holder, token, REVOKE))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatonError);
    expect((err as BatonError).code).toBe('ERR_PROOF_METHOD_MISMATCH');
    expect((err as BatonError).detail).not.toBe('');
  });
});

