/**
 * The DelegationService factory: migrates delegation's tables, wires the handlers and
 * starts the pruning timer.
 */
import { noopAuditSink, nowSeconds, systemClock } from '@baton/core';
import type { ServiceImpl } from '@baton/proto';
import type { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { migrate } from '@baton/store';
import { resolveFromIssuer } from './chain-resolvers.js';
import { delegationService } from './delegation-service.js';
import { pruneExpired } from './hop-repo.js';
import { DELEGATION_DEFAULTS, checkOptions, type DelegationOptions } from './options.js';
import { DELEGATION_MIGRATIONS } from './schema.js';
import type { DelegationContext } from './service-context.js';

/** A running delegation service, ready to be added to a gRPC server. */
export interface Delegation {
  /** DelegationService handlers (`server.addService(DelegationService, delegation.service)`). */
  readonly service: ServiceImpl<typeof DelegationService>;
  /** Deletes chains and hops expired longer than `retentionMs` ago; returns rows removed. */
  prune(): Promise<number>;
  /** Stops the pruning timer. Does not close the database or the clients. */
  close(): Promise<void>;
}

/**
 * Creates the DelegationService.
 *
 * @example
 * const delegation = await createDelegation({
 *   db, issuer: 'spiffe://baton.local/authority',
 *   issuerClient, identityClient,
 *   serviceKey,          // the issuer's `services` has it as 'delegation', identity's too
 *   guard: createGuard({ audience: issuer, issuer, keys, revocation, chain: chainVerifier({ resolve: resolveFromIssuer(issuerClient) }) }),
 *   audit,
 * });
 * server.addService(DelegationService, delegation.service);
 */
export async function createDelegation(options: DelegationOptions): Promise<Delegation> {
  checkOptions(options);
  await migrate(options.db, 'delegation', DELEGATION_MIGRATIONS);
  const d = DELEGATION_DEFAULTS;
  const ctx: DelegationContext = {
    db: options.db,
    clock: options.clock ?? systemClock,
    audit: options.audit ?? noopAuditSink,
    issuer: options.issuer,
    issuerClient: options.issuerClient,
    identityClient: options.identityClient,
    serviceKey: options.serviceKey,
    guard: options.guard,
    leewaySeconds: options.leewaySeconds ?? d.leewaySeconds,
    onlineCheck: options.onlineCheck ?? d.onlineCheck,
    resolveChain: options.resolveChain ?? resolveFromIssuer(options.issuerClient),
  };
  const retentionSeconds = Math.ceil((options.retentionMs ?? d.retentionMs) / 1000);
  const prune = (): Promise<number> => pruneExpired(ctx.db, nowSeconds(ctx.clock) - ctx.leewaySeconds - retentionSeconds);
  let running: Promise<unknown> | undefined;
  const interval = options.pruneIntervalMs ?? d.pruneIntervalMs;
  const timer =
    interval > 0
      ? setInterval(() => {
          running ??= prune()
            .catch(() => undefined)
            .finally(() => {
              running = undefined;
            });
        }, interval)
      : undefined;
  timer?.unref();
  return {
    service: delegationService(ctx),
    prune,
    async close() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
