/**
 * A zero-length message to every RPC of every service (identity, issuer, delegation,
 * audit, anomaly, a guarded resource, and health and reflection on each server), sent raw. An
 * empty protobuf message is every field at its default, so each handler sees the most
 * degenerate request it can get: each answers at once with a success or a coded Baton
 * error — never ERR_INTERNAL, never a crash, never a hang — and nothing is written.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { methodsOf, rawCall, type RawOutcome } from './support/raw-call.js';
import { reachableServices } from './support/services.js';
import { useRawStack } from './support/raw-stack.js';
import type { Stack } from './support/stack.js';

const raw = useRawStack();
const client = raw.client;
let s: Stack;
beforeAll(() => {
  s = raw.stack();
});

// Methods for which an empty request is a complete, valid request that needs no credentials.
const VALID_WHEN_EMPTY = new Set([
  '/baton.identity.v1.IdentityService/GetChallenge',
  '/baton.identity.v1.IdentityService/GetTrustBundle',
  '/baton.issuer.v1.IssuerService/GetKeys',
  '/baton.issuer.v1.IssuerService/Introspect',
  '/baton.issuer.v1.IssuerService/WatchRevocations',
  '/baton.delegation.v1.DelegationService/Verify',
  // Public log material: the latest checkpoint, and the (empty) proof between empty trees.
  '/baton.audit.v1.AuditService/GetCheckpoint',
  '/baton.audit.v1.AuditService/GetConsistencyProof',
  '/grpc.health.v1.Health/Check',
  '/grpc.health.v1.Health/List',
  '/grpc.health.v1.Health/Watch',
  // Answers in-band (an error_response message), as the reflection protocol prescribes.
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
]);

describe('zero-length messages', () => {
  it('every RPC of every service answers promptly: success where an empty request is valid, else a coded error', async () => {
    const results: RawOutcome[] = [];
    for (const { service, address } of reachableServices(s)) {
      for (const { path, kind } of methodsOf(service)) results.push(await rawCall(client(address), path, kind, Buffer.alloc(0)));
    }
    expect(results.length).toBeGreaterThanOrEqual(40);
    for (const r of results) {
      const verdict = r.status === 0 ? 'OK' : r.code === '' ? `uncoded status ${r.status}` : r.code === 'ERR_INTERNAL' ? 'ERR_INTERNAL' : 'coded';
      const expected = VALID_WHEN_EMPTY.has(r.path) ? 'OK' : 'coded';
      expect({ path: r.path, verdict }).toEqual({ path: r.path, verdict: expected });
    }
    // Spot-check the codes an attacker learns: the first check each method makes.
    const codeOf = (p: string) => results.find((r) => r.path === p)?.code;
    expect(codeOf('/baton.identity.v1.IdentityService/Register')).toBe('ERR_LAUNCH_TOKEN_INVALID');
    expect(codeOf('/baton.issuer.v1.IssuerService/Renew')).toBe('ERR_TOKEN_MISSING');
    expect(codeOf('/baton.issuer.v1.IssuerService/Revoke')).toBe('ERR_PROOF_MISSING');
    expect(codeOf('/baton.delegation.v1.DelegationService/Delegate')).toBe('ERR_TOKEN_MISSING');
    expect(codeOf('/baton.audit.v1.AuditService/Append')).toBe('ERR_PROOF_MISSING');
    expect(codeOf('/baton.demo.v1.PaymentsService/ApproveInvoice')).toBe('ERR_TOKEN_MISSING');
  });

  it('changed nothing, and every server still serves', () => raw.expectUnchangedAndServing());
});
