import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import { generateKeyPair, randomId } from '@baton/core';
import { resolveConfig, startAuthority } from '@baton/authority';
import { createClient } from '@baton/proto';
import { keyProofMetadata } from '@baton/guard';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService, RevokeRequestSchema, RevocationLevel, RevocationReason } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adv-'));
const op = generateKeyPair();
const t0 = Date.now();
const config = resolveConfig({ dataDir: dir, listen: '127.0.0.1:0', operators: [{ id: 'op', jwk: op.publicJwk }] }, dir, {});
const a = await startAuthority(config, { audit: { emit: async (r) => console.log('audit', r.type, r.outcome, r.reasonCode) } });
console.log('started', Date.now() - t0, a.address, a.services);
const raw = new grpc.Client(a.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
const id = (x) => x;
for (const s of [IdentityService, IssuerService]) for (const m of s.methods) {
  const p = `/${s.typeName}/${m.name}`;
  const r = await new Promise((res) => {
    if (m.methodKind === 'unary') raw.makeUnaryRequest(p, id, id, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 3000 }, (err, v) => res(err ? `${err.code} ${err.metadata?.get('baton-error-code')}` : `OK ${v.length}`));
    else { const c = raw.makeServerStreamRequest(p, id, id, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 3000 }); c.on('data', (d) => { res(`DATA ${d.length}`); c.cancel(); }); c.on('error', (err) => res(`${err.code} ${err.metadata?.get('baton-error-code')}`)); }
  });
  console.log(p, r);
}
const big = Buffer.alloc(10 * 1024 * 1024, 0x41);
let t = Date.now();
const r = await new Promise((res) => raw.makeUnaryRequest('/baton.identity.v1.IdentityService/Register', id, id, big, new grpc.Metadata(), { deadline: Date.now() + 10000 }, (err, v) => res(err ? `${err.code} ${err.details} ${err.metadata?.get('baton-error-code')}` : 'OK')));
console.log('10MB', r, Date.now() - t);
// revoke unknown jti
const issuer = createClient(IssuerService, a.address);
const req = { level: RevocationLevel.TOKEN, target: randomId(16), reason: RevocationReason.MANUAL };
t = Date.now();
try { const res = await issuer.revoke(req, { metadata: keyProofMetadata(op, IssuerService.method.revoke, toBinary(RevokeRequestSchema, create(RevokeRequestSchema, req))) }); console.log('revoke', res, Date.now() - t); } catch (e) { console.log('revoke err', e.code, e.detail); }
t = Date.now();
await Promise.all(Array.from({ length: 200 }, async () => { const req = { level: RevocationLevel.TOKEN, target: randomId(16), reason: RevocationReason.MANUAL }; await issuer.revoke(req, { metadata: keyProofMetadata(op, IssuerService.method.revoke, toBinary(RevokeRequestSchema, create(RevokeRequestSchema, req))) }); }));
console.log('200 revokes', Date.now() - t);
console.log(fs.readdirSync(path.join(dir, 'keys'), { recursive: true }));
await a.close(); raw.close(); issuer.close();
