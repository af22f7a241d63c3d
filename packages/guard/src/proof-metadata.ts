/**
 * Client side of Baton's one proof mechanism: the metadata an agent, orchestrator,
 * operator or Baton service attaches to a gRPC call, built the same way everywhere.
 */
import type { DescMethod } from '@bufbuild/protobuf';
import { createProof, sha256B64url, type KeyPair } from '@baton/core';
import { MetadataKey } from '@baton/proto';

/** A gRPC method as its full path (`/baton.issuer.v1.IssuerService/Renew`) or its descriptor. */
export type MethodRef = string | DescMethod;

/** `/package.Service/Method` of a method reference. */
export function methodPathOf(method: MethodRef): string {
  if (typeof method === 'string') {
    if (!/^\/[A-Za-z0-9_.]+\/[A-Za-z0-9_]+$/.test(method)) throw new TypeError(`not a gRPC method path: ${method}`);
    return method;
  }
  if (typeof method?.parent?.typeName !== 'string' || typeof method.name !== 'string') throw new TypeError('method must be a path or a DescMethod');
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * Metadata of an agent call: `authorization: DPoP <token>` and a fresh `dpop` proof for
 * this method with `ath` = hash of the token. Make a new one for every call (proofs are
 * single use).
 *
 * @example
 * await client.renew({}, { metadata: dpopMetadata(agentKey, token, IssuerService.method.renew) });
 */
export function dpopMetadata(keyPair: KeyPair, token: string, method: MethodRef, nowMs?: number): Record<string, string> {
  if (typeof token !== 'string' || token.length === 0) throw new TypeError('dpopMetadata: token required');
  const proof = createProof({ keyPair, htm: 'POST', htu: methodPathOf(method), accessToken: token, ...(nowMs !== undefined ? { nowMs } : {}) });
  return { [MetadataKey.authorization]: `DPoP ${token}`, [MetadataKey.dpop]: proof };
}

/**
 * Metadata of a key-holder call: `baton-proof` for this method with `rh` = hash of the
 * exact request bytes the client sends. Single use.
 *
 * @example
 * const bytes = toBinary(CreateWorkflowRequestSchema, request);
 * await client.createWorkflow(request, { metadata: keyProofMetadata(operatorKey, IdentityService.method.createWorkflow, bytes) });
 */
export function keyProofMetadata(keyPair: KeyPair, method: MethodRef, requestBytes: Uint8Array, nowMs?: number): Record<string, string> {
  if (!(requestBytes instanceof Uint8Array)) throw new TypeError('keyProofMetadata: requestBytes must be a Uint8Array');
  const proof = createProof({
    keyPair,
    htm: 'POST',
    htu: methodPathOf(method),
    requestHash: sha256B64url(requestBytes),
    ...(nowMs !== undefined ? { nowMs } : {}),
  });
  return { [MetadataKey.proof]: proof };
}
