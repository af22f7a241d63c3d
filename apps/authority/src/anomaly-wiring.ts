/**
 * The anomaly responder as the authority hosts it: rules from identity, revocations
 * through the issuer (both over gRPC, proven by the anomaly service key), evidence tokens
 * checked against the issuer's JWKS, and reports accepted from the resource servers the
 * config lists under `resources` (a resource's `id` is the audience its guard serves).
 */
import { createAnomalyService, issuerRevoker, workflowRulesFromIdentity, type Anomaly, type ReporterEntry } from '@baton/anomaly';
import { jwkThumbprint, type AuditSink, type Clock, type KeyPair } from '@baton/core';
import { jwksFromIssuer } from '@baton/guard';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { AuthorityConfig } from './config.js';
import type { PeerChannels } from './peer-channels.js';

/** A hosted responder and what it holds open. */
export interface HostedAnomaly {
  readonly anomaly: Anomaly;
  close(): Promise<void>;
}

/** Where the responder reaches its peers, and with what. */
export interface AnomalyWiring {
  /** Where the issuer and identity are (with TLS credentials when remote). */
  readonly peers: PeerChannels;
  /** The anomaly service key (`service-anomaly.jwk`), trusted by issuer and identity. */
  readonly serviceKey: KeyPair;
  readonly audit: AuditSink;
  readonly clock: Clock;
}

/** Reporter keys from `config.resources`: each may report decisions about tokens for its own audience. */
export function reportersOf(config: AuthorityConfig): Map<string, ReporterEntry> {
  return new Map(config.resources.map((r) => [jwkThumbprint(r.jwk), { id: r.id, audiences: [r.id] }]));
}

/** Builds the responder (add `anomaly.service` to the server). */
export function hostAnomaly(config: AuthorityConfig, w: AnomalyWiring): HostedAnomaly {
  const issuerClient = w.peers.client(IssuerService, 'issuer');
  const identityClient = w.peers.client(IdentityService, 'identity');
  const onError = (err: unknown): void => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`[anomaly] ${e?.code ?? ''} ${e?.message ?? String(err)}\n`);
  };
  const revoke = issuerRevoker({ client: issuerClient, serviceKey: w.serviceKey, clock: w.clock });
  const anomaly = createAnomalyService({
    issuer: config.issuer,
    keys: jwksFromIssuer(issuerClient, { clock: w.clock }),
    rulesFor: workflowRulesFromIdentity({ client: identityClient, serviceKey: w.serviceKey, clock: w.clock, onError }),
    revoke: async (action) => void (await revoke(action)),
    introspect: async (token) => (await issuerClient.introspect({ token })).inactiveCode || undefined,
    reporters: reportersOf(config),
    audit: w.audit,
    clock: w.clock,
    onError,
  });
  return {
    anomaly,
    async close() {
      await anomaly.close();
      issuerClient.close();
      identityClient.close();
    },
  };
}
