/**
 * Makes the anomaly engine's revocations through IssuerService.Revoke over gRPC, proven
 * by the anomaly service's own key (the issuer lets service `anomaly` revoke tokens,
 * agents and tasks with reason ANOMALY only).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { systemClock, type Clock, type KeyPair } from '@baton/core';
import { keyProofMetadata } from '@baton/guard';
import type { Client } from '@baton/proto';
import { IssuerService, RevocationLevel, RevocationReason, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { AnomalyAction } from './anomaly-engine.js';

/** Options of {@link issuerRevoker}. */
export interface IssuerRevokerOptions {
  readonly client: Client<typeof IssuerService>;
  /** The anomaly service's key; the issuer must list its thumbprint as service `anomaly`. */
  readonly serviceKey: KeyPair;
  readonly clock?: Clock;
}

const LEVEL = { token: RevocationLevel.TOKEN, agent: RevocationLevel.AGENT, task: RevocationLevel.TASK } as const;

/** A `revoke` for the anomaly service; resolves with the revocation's sequence. */
export function issuerRevoker(o: IssuerRevokerOptions): (action: AnomalyAction) => Promise<bigint> {
  if (typeof o?.client?.revoke !== 'function') throw new TypeError('issuerRevoker: client must be an IssuerService client');
  const clock = o.clock ?? systemClock;
  return async (action) => {
    const req = create(RevokeRequestSchema, {
      level: LEVEL[action.level],
      target: action.target,
      reason: RevocationReason.ANOMALY,
      note: `anomaly rule ${action.rule}: ${action.detail}`.slice(0, 1024),
    });
    const res = await o.client.revoke(req, {
      metadata: keyProofMetadata(o.serviceKey, IssuerService.method.revoke, toBinary(RevokeRequestSchema, req), clock.now()),
    });
    return res.sequence;
  };
}
