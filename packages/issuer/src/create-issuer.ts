import { noopAuditSink, systemClock } from '@baton/core';
import type { ServiceImpl } from '@baton/proto';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { createAuthenticator } from './authenticate.js';
import type { IssuerContext } from './issuer-context.js';
import { issuerService } from './issuer-service.js';
import type { KeyRing, RotationResult } from './key-ring.js';
import { ISSUER_DEFAULTS, intOption, resolveTtlDefaults, type IssuerOptions } from './options.js';
import { prune, type PruneResult } from './prune.js';
import { localRevocationNotifier } from './revocation-notifier.js';
import { ringRefresher } from './ring-refresh.js';
import { revokeKey, rotateKeys } from './rotate-keys.js';
import { migrateIssuer } from './schema.js';
import { maxExpByKid } from './token-repo.js';

/** A running issuer, ready to be added to a gRPC server. */
export interface Issuer {
  /** IssuerService handlers (`server.addService(IssuerService, issuer.service)`). */
  readonly service: ServiceImpl<typeof IssuerService>;
  /**
   * The signing keys. `rotate()` here goes through the issuer: an emergency rotation also
   * writes the KEY revocation entry, and every rotation is audited.
   */
  readonly keyRing: KeyRing;
  /** One pruning pass now (the timer runs it every `pruneIntervalMs`). */
  prune(): Promise<PruneResult>;
  /** Stops the pruning timer, ends open revocation streams, closes the default notifier. */
  close(): Promise<void>;
}

function checkOptions(o: IssuerOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('createIssuer: options required');
  if (!o.db || typeof o.db.transaction !== 'function') throw new TypeError('createIssuer: db must be a SqlDatabase');
  if (!o.keyRing || typeof o.keyRing.sign !== 'function') throw new TypeError('createIssuer: keyRing required');
  if (typeof o.issuer !== 'string' || o.issuer === '') throw new TypeError('createIssuer: issuer required');
  if (typeof o.trustDomain !== 'string' || !/^[a-z0-9._-]{1,255}$/.test(o.trustDomain)) throw new TypeError('createIssuer: trustDomain malformed');
  if (!(o.operators instanceof Map) || !(o.services instanceof Map)) throw new TypeError('createIssuer: operators and services must be Maps');
}

/**
 * Creates the IssuerService: migrates its tables, seeds the key ring with the latest
 * expiry per kid from the token records (so a restart never retires a key too early), and
 * starts the pruning task.
 *
 * @example
 * const db = await openDatabase('sqlite:./baton.db');
 * const issuer = await createIssuer({
 *   db,
 *   keyRing: await openFileKeyRing('./keys'),
 *   issuer: 'spiffe://baton.local/authority',
 *   trustDomain: 'baton.local',
 *   operators: new Map([[operatorJkt, 'alice']]),
 *   services: new Map([[identityJkt, 'identity']]),
 * });
 * server.addService(IssuerService, issuer.service);
 */
export async function createIssuer(options: IssuerOptions): Promise<Issuer> {
  checkOptions(options);
  const clock = options.clock ?? systemClock;
  const leewaySeconds = intOption(options.leewaySeconds, ISSUER_DEFAULTS.leewaySeconds, 'leewaySeconds', true);
  const pruneIntervalMs = intOption(options.pruneIntervalMs, ISSUER_DEFAULTS.pruneIntervalMs, 'pruneIntervalMs', true);
  const ownNotifier = options.notifier === undefined;
  const closing = new AbortController();
  const ring = options.keyRing;

  await migrateIssuer(options.db);
  for (const { kid, exp } of await maxExpByKid(options.db)) await ring.noteIssued(kid, exp);

  const ctx: IssuerContext = {
    db: options.db,
    keyRing: ring,
    clock,
    issuer: options.issuer,
    trustDomain: options.trustDomain,
    ttl: resolveTtlDefaults(options.tokenTtlDefaults),
    leewaySeconds,
    referenceThresholdBytes: intOption(options.referenceThresholdBytes, ISSUER_DEFAULTS.referenceThresholdBytes, 'referenceThresholdBytes'),
    notifier: options.notifier ?? localRevocationNotifier(),
    audit: options.audit ?? noopAuditSink,
    keepAliveMs: intOption(options.keepAliveMs, ISSUER_DEFAULTS.keepAliveMs, 'keepAliveMs'),
    subscriberBufferLimit: intOption(options.subscriberBufferLimit, ISSUER_DEFAULTS.subscriberBufferLimit, 'subscriberBufferLimit'),
    closing: closing.signal,
    refreshKeys: ringRefresher(ring),
  };
  const auth = createAuthenticator({
    keyRing: ring,
    issuer: options.issuer,
    clock,
    leewaySeconds,
    operators: options.operators,
    services: options.services,
    ...(options.onAgentDecision ? { onAgentDecision: options.onAgentDecision } : {}),
  });
  // A ring shared by replicas learns of another replica's emergency rotation from the
  // feed at once (its periodic refresh would catch it later anyway).
  const unwatchKeys =
    typeof ring.refresh === 'function'
      ? ctx.notifier.subscribe((entry) => {
          if (entry.level === 'key') ring.refresh!().catch(() => undefined);
        })
      : undefined;

  // Rotations through the returned ring take the issuer's path (feed entry + audit).
  const keyRing: KeyRing = Object.create(ring, {
    rotate: {
      value: async ({ emergency = false }: { emergency?: boolean } = {}): Promise<RotationResult> => {
        const before = ring.list();
        const r = await rotateKeys(ctx, emergency, 'issuer');
        const old = before.find((k) => k.kid === r.retiredKid);
        return { newKid: r.newKid, retiredKid: r.retiredKid, emergency, retiredMaxExp: old?.maxExp ?? 0 };
      },
    },
    revoke: {
      value: async (kid: string): Promise<boolean> => {
        if (ring.status(kid) !== 'retired') return ring.status(kid) === 'revoked';
        await revokeKey(ctx, kid, 'key_compromise', 'issuer');
        return true;
      },
    },
  }) as KeyRing;

  let pruning: Promise<unknown> = Promise.resolve();
  const runPrune = (): Promise<PruneResult> => {
    const p = pruning.then(() => prune(ctx));
    pruning = p.catch(() => undefined);
    return p;
  };
  const timer =
    pruneIntervalMs > 0
      ? setInterval(() => {
          // A failed pass (store briefly down) is retried on the next tick.
          runPrune().catch(() => undefined);
        }, pruneIntervalMs)
      : undefined;
  timer?.unref();

  return {
    service: issuerService(ctx, auth),
    keyRing,
    prune: runPrune,
    async close() {
      if (timer) clearInterval(timer);
      unwatchKeys?.();
      closing.abort();
      await pruning;
      if (ownNotifier) await ctx.notifier.close();
    },
  };
}
