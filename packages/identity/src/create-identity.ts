/**
 * The IdentityService factory: migrates identity's tables, wires the handlers and starts
 * the background sweeper.
 */
import { ReplayCache, noopAuditSink, systemClock } from '@baton/core';
import { migrate } from '@baton/store';
import { kpis } from '@baton/telemetry';
import { createChallengeStore } from './challenges.js';
import type { IdentityContext } from './context.js';
import { identityService } from './identity-service.js';
import { IDENTITY_DEFAULTS, resolveLimits, type IdentityMeter, type IdentityOptions } from './options.js';
import type { IdentityService, ServiceImpl } from './proto.js';
import { IDENTITY_MIGRATIONS } from './schema.js';
import { sweep, type SweepResult } from './sweeper.js';
import { createTrustBundleSource } from './trust-bundle.js';

/** A running identity service, ready to be added to a gRPC server. */
export interface Identity {
  /** IdentityService handlers (`server.addService(IdentityService, identity.service)`). */
  readonly service: ServiceImpl<typeof IdentityService>;
  /**
   * One sweep now: flag (and by policy revoke) agents that missed heartbeats, retry
   * pending revocations, prune expired rows. The timer runs it every `sweepIntervalMs`.
   */
  sweep(): Promise<SweepResult>;
  /** Stops the sweeper (waiting for a running sweep). Does not close the database. */
  close(): Promise<void>;
}

const kpiMeter: IdentityMeter = {
  launchTokenReplay: () => kpis().launchTokenReplays.add(1),
  heartbeatMissed: (misses) => kpis().heartbeatMisses.add(misses),
};

/** A meter that never throws into the request path. */
function safeMeter(m: IdentityMeter): IdentityMeter {
  return {
    launchTokenReplay: () => {
      try {
        m.launchTokenReplay();
      } catch {
        /* telemetry never breaks a request */
      }
    },
    heartbeatMissed: (n) => {
      try {
        m.heartbeatMissed(n);
      } catch {
        /* telemetry never breaks a request */
      }
    },
  };
}

/**
 * Creates the IdentityService.
 *
 * @example
 * const identity = await createIdentity({
 *   db,
 *   trustDomain: 'baton.local',
 *   issuer: 'spiffe://baton.local/authority',
 *   issuerClient: createClient(IssuerService, 'localhost:7443'),
 *   serviceKey,                                   // its thumbprint is in the issuer's `services`
 *   operators: new Map([[operatorJkt, 'alice']]),
 *   guard,                                        // audience = the authority audience
 * });
 * server.addService(IdentityService, identity.service);
 */
export async function createIdentity(options: IdentityOptions): Promise<Identity> {
  const limits = resolveLimits(options);
  const clock = options.clock ?? systemClock;
  await migrate(options.db, 'identity', IDENTITY_MIGRATIONS);

  const ctx: IdentityContext = {
    db: options.db,
    clock,
    audit: options.audit ?? noopAuditSink,
    meter: safeMeter(options.meter ?? kpiMeter),
    trustDomain: options.trustDomain,
    issuer: options.issuer,
    issuerClient: options.issuerClient,
    serviceKey: options.serviceKey,
    operators: options.operators,
    services: options.services ?? new Map(),
    guard: options.guard,
    limits,
    challenges: createChallengeStore(options.db, clock, {
      ttlSeconds: IDENTITY_DEFAULTS.challengeTtlSeconds,
      maxOutstanding: limits.maxOutstandingChallenges,
    }),
    proofReplay: new ReplayCache(),
    ca: options.ca,
    logAuthorities: options.logAuthorities ?? [],
  };

  let running: Promise<SweepResult> | undefined;
  const sweepOnce = (): Promise<SweepResult> => {
    running ??= sweep(ctx).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer =
    limits.sweepIntervalMs > 0
      ? setInterval(() => {
          // A failed sweep (e.g. the store is briefly down) is retried on the next tick.
          sweepOnce().catch(() => undefined);
        }, limits.sweepIntervalMs)
      : undefined;
  timer?.unref();

  return {
    service: identityService(ctx, createTrustBundleSource(ctx)),
    sweep: sweepOnce,
    async close() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
