import { chainVerifier, createDelegation, resolveFromIssuer, type Delegation } from '@baton/delegation';
import { createGuard, createRevocationFeed, jwksFromIssuer, type Decision, type DecisionInfo } from '@baton/guard';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { AuditSink, Clock, KeyPair } from '@baton/core';
import type { SqlDatabase } from '@baton/store';
import type { AuthorityConfig } from './config.js';
import type { PeerChannels } from './peer-channels.js';

/** What {@link hostDelegation} needs from the composition. */
export interface DelegationWiring {
  readonly db: SqlDatabase;
  /** Where the issuer and identity are (with TLS credentials when remote). */
  readonly peers: PeerChannels;
  readonly serviceKey: KeyPair;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly onDecision?: (decision: Decision, info: DecisionInfo) => void;
}

/**
 * The DelegationService with its own gRPC clients to the issuer and identity, and a
 * guard that authenticates delegators: revocation feed + chain verification, so a
 * delegated token re-delegating is checked hop by hop like at any resource.
 */
export async function hostDelegation(config: AuthorityConfig, w: DelegationWiring): Promise<{ delegation: Delegation; close(): Promise<void> }> {
  const issuerClient = w.peers.client(IssuerService, 'issuer');
  const identityClient = w.peers.client(IdentityService, 'identity');
  const feed = createRevocationFeed({ client: issuerClient, clock: w.clock });
  const guard = createGuard({
    audience: config.issuer,
    issuer: config.issuer,
    keys: jwksFromIssuer(issuerClient, { clock: w.clock }),
    revocation: feed,
    chain: chainVerifier({ resolve: resolveFromIssuer(issuerClient) }),
    clock: w.clock,
    ...(w.onDecision ? { onDecision: w.onDecision } : {}),
  });
  const delegation = await createDelegation({
    db: w.db,
    issuer: config.issuer,
    issuerClient,
    identityClient,
    serviceKey: w.serviceKey,
    guard,
    audit: w.audit,
    clock: w.clock,
  });
  return {
    delegation,
    async close() {
      await delegation.close();
      feed.close();
      issuerClient.close();
      identityClient.close();
    },
  };
}
