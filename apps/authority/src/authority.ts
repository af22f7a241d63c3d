import path from 'node:path';
import { jwkThumbprint, systemClock, type AuditSink, type Clock, type KeyPair } from '@baton/core';
import { createGuard, createRevocationFeed, jwksFromIssuer, type Decision, type DecisionInfo, type RevocationFeed } from '@baton/guard';
import { createIdentity, type Identity } from '@baton/identity';
import { createIssuer, type Issuer } from '@baton/issuer';
import { createServer, type BatonServer, type Client } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { AnomalyService } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';
import { openDatabase, type SqlDatabase } from '@baton/store';
import { hostAnomaly } from './anomaly-wiring.js';
import { auditClientFor, auditVerifierKey, hostAudit } from './audit-wiring.js';
import { hostDelegation } from './delegation-wiring.js';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { openIssuerSharing } from './issuer-sharing.js';
import { operatorMap, type AuthorityConfig, type ServiceName } from './config.js';
import { loadOrCreateKeyFile } from './key-files.js';
import { openAuthorityTls } from './authority-tls.js';
import { deferredAuditSink } from './deferred-sink.js';
import { openPeerChannels } from './peer-channels.js';

/** A running authority process (some or all of Baton's services). */
export interface Authority {
  /** `host:port` the gRPC server listens on. */
  readonly address: string;
  readonly services: readonly ServiceName[];
  readonly config: AuthorityConfig;
  close(): Promise<void>;
}

/** Options beyond the config file, mostly for tests. */
export interface StartOptions {
  readonly clock?: Clock;
  /** Overrides the durable audit clients (tests). Default: one spooled client per service. */
  readonly audit?: AuditSink;
}

/** The key a Baton service authenticates to its peers with (`<dataDir>/keys/service-<name>.jwk`, 0600). */
export function serviceKey(config: AuthorityConfig, name: ServiceName): KeyPair {
  return loadOrCreateKeyFile(path.join(config.dataDir, 'keys', `service-${name}.jwk`));
}

/**
 * Starts the configured services on one gRPC server. Services reach each other only
 * through gRPC clients (even when co-hosted), so each can also run alone.
 */
export async function startAuthority(config: AuthorityConfig, options: StartOptions = {}): Promise<Authority> {
  const clock = options.clock ?? systemClock;
  const operators = operatorMap(config);
  const trustedServices = new Map([
    [serviceKey(config, 'identity').thumbprint, 'identity' as const],
    [serviceKey(config, 'delegation').thumbprint, 'delegation' as const],
    [serviceKey(config, 'audit').thumbprint, 'audit' as const],
    [serviceKey(config, 'anomaly').thumbprint, 'anomaly' as const],
  ]);
  // Guards in this process feed the anomaly responder once it is up (it starts last).
  let anomalyIngest: ((decision: Decision, info: DecisionInfo) => void) | undefined;
  const toAnomaly = (decision: Decision, info: DecisionInfo): void => anomalyIngest?.(decision, info);
  const closers: (() => Promise<void> | void)[] = [];
  let db: SqlDatabase | undefined;
  const server: BatonServer = createServer({
    onInternalError: (err, ctx) => process.stderr.write(`[authority] internal error in ${ctx.method}: ${(err as Error)?.stack ?? String(err)}\n`),
  });
  try {
    const needsDb = config.services.some((s) => s === 'identity' || s === 'issuer' || s === 'delegation');
    if (needsDb) {
      db = await openDatabase(config.store);
      const d = db;
      closers.push(() => d.close());
    }

    if (config.services.includes('audit')) {
      const writers = new Set([
        ...trustedServices.keys(),
        serviceKey(config, 'issuer').thumbprint,
        ...config.resources.map((r) => jwkThumbprint(r.jwk)),
      ]);
      const audit = await hostAudit(config, writers, new Set(operators.keys()), clock);
      server.addService(AuditService, audit.service);
      closers.push(() => audit.close());
    }

    // Listen before the services start: they reach each other (and the audit log) by address.
    // A CA rotation while issuing the listener's certificate is identity's to record.
    const caAudit = deferredAuditSink();
    const tls = await openAuthorityTls(config, clock, config.services.includes('identity') ? caAudit : undefined);
    closers.push(() => tls.close());
    const port = await server.listen(config.listen, tls.credentials);
    const host = config.listen.slice(0, config.listen.lastIndexOf(':'));
    const publicAddress = `${host}:${port}`;
    // With TLS on, co-hosted services talk over a private socket; `address` is where they reach this process.
    const address = tls.internalListen ? (await server.listen(tls.internalListen), tls.internalListen) : publicAddress;
    // Peers in other processes: over TLS whenever TLS is configured (peer-channels.ts).
    const peers = openPeerChannels(config, tls, address);
    const auditFor = async (name: ServiceName): Promise<AuditSink> => {
      if (options.audit) return options.audit;
      const client = await auditClientFor(config, name, peers.channel('audit'), serviceKey(config, name), clock);
      closers.push(() => client.close());
      return client;
    };

    let issuer: Issuer | undefined;
    if (config.services.includes('issuer')) {
      // SQLite: keys on disk, fan-out in process. PostgreSQL: both shared by the replicas.
      const sharing = await openIssuerSharing(config, db!, clock);
      closers.push(() => sharing.close());
      issuer = await createIssuer({
        db: db!,
        keyRing: sharing.keyRing,
        ...(sharing.notifier ? { notifier: sharing.notifier } : {}),
        onAgentDecision: toAnomaly,
        issuer: config.issuer,
        trustDomain: config.trustDomain,
        operators,
        services: trustedServices,
        clock,
        audit: await auditFor('issuer'),
      });
      server.addService(IssuerService, issuer.service);
      const i = issuer;
      closers.push(() => i.close());
    }

    let identity: Identity | undefined;
    if (config.services.includes('identity')) {
      const issuerClient: Client<typeof IssuerService> = peers.client(IssuerService, 'issuer');
      closers.push(() => issuerClient.close());
      const feed: RevocationFeed = createRevocationFeed({ client: issuerClient, clock });
      closers.push(() => feed.close());
      const guard = createGuard({
        audience: config.issuer,
        issuer: config.issuer,
        keys: jwksFromIssuer(issuerClient, { clock }),
        revocation: feed,
        clock,
        onDecision: toAnomaly,
      });
      const identityAudit = await auditFor('identity');
      await caAudit.connect(identityAudit);
      identity = await createIdentity({
        db: db!,
        trustDomain: config.trustDomain,
        issuer: config.issuer,
        issuerClient,
        serviceKey: serviceKey(config, 'identity'),
        operators,
        services: new Map([...trustedServices].map(([k, v]) => [k, v])),
        guard,
        clock,
        audit: identityAudit,
        ...(tls.ca ? { ca: tls.ca } : {}),
        logAuthorities: [auditVerifierKey(config)],
      });
      server.addService(IdentityService, identity.service);
      const id = identity;
      closers.push(() => id.close());
    }

    if (config.services.includes('delegation')) {
      const hosted = await hostDelegation(config, {
        db: db!,
        peers,
        serviceKey: serviceKey(config, 'delegation'),
        audit: await auditFor('delegation'),
        clock,
        onDecision: toAnomaly,
      });
      server.addService(DelegationService, hosted.delegation.service);
      closers.push(() => hosted.close());
    }

    if (config.services.includes('anomaly')) {
      const hosted = hostAnomaly(config, {
        peers,
        serviceKey: serviceKey(config, 'anomaly'),
        audit: await auditFor('anomaly'),
        clock,
      });
      server.addService(AnomalyService, hosted.anomaly.service);
      anomalyIngest = hosted.anomaly.ingest;
      closers.push(() => hosted.close());
    }

    return {
      address: publicAddress,
      services: config.services,
      config,
      async close() {
        await server.shutdown(2000);
        for (const c of closers.reverse()) await c();
      },
    };
  } catch (err) {
    await server.shutdown(0).catch(() => undefined);
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw err;
  }
}
