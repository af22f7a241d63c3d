/**
 * Workflow anomaly rules read from identity (GetWorkflow, proven by the anomaly
 * service's own key), cached briefly so a burst of decisions costs one call.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { isBatonError, systemClock, type Clock, type KeyPair } from '@baton/core';
import { LruMap, keyProofMetadata } from '@baton/guard';
import type { Client } from '@baton/proto';
import { GetWorkflowRequestSchema, IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { rulesFromProto, type AnomalyRules } from './rules.js';

/** Options of {@link workflowRulesFromIdentity}. */
export interface WorkflowRulesOptions {
  readonly client: Client<typeof IdentityService>;
  /** The anomaly service's key; identity must list its thumbprint as service `anomaly`. */
  readonly serviceKey: KeyPair;
  readonly clock?: Clock;
  /** How long rules are reused, ms. Default 30 000 (a policy change applies within that). */
  readonly cacheMs?: number;
  /** Workflows cached. Default 10 000. */
  readonly maxEntries?: number;
  /** Diagnostics for failed lookups. Must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** Failed lookups are retried after this long, ms, so an identity outage is not hammered. */
const FAILURE_CACHE_MS = 1000;

/**
 * A `rulesFor` for the anomaly service. An unknown workflow has no rules; an unreachable
 * identity means no rules for now (nothing is revoked automatically meanwhile).
 */
export function workflowRulesFromIdentity(o: WorkflowRulesOptions): (workflowId: string) => Promise<AnomalyRules | undefined> {
  if (typeof o?.client?.getWorkflow !== 'function') throw new TypeError('workflowRulesFromIdentity: client must be an IdentityService client');
  const clock = o.clock ?? systemClock;
  const cacheMs = o.cacheMs ?? 30_000;
  const cache = new LruMap<string, { rules: AnomalyRules | undefined; until: number }>(o.maxEntries ?? 10_000);
  const inflight = new Map<string, Promise<AnomalyRules | undefined>>();

  async function fetch(id: string): Promise<AnomalyRules | undefined> {
    const req = create(GetWorkflowRequestSchema, { id });
    try {
      const res = await o.client.getWorkflow(req, {
        metadata: keyProofMetadata(o.serviceKey, IdentityService.method.getWorkflow, toBinary(GetWorkflowRequestSchema, req), clock.now()),
      });
      const rules = rulesFromProto(res.workflow?.policy?.anomaly);
      cache.set(id, { rules, until: clock.now() + cacheMs });
      return rules;
    } catch (err) {
      const known = isBatonError(err) && err.code === 'ERR_WORKFLOW_NOT_FOUND';
      if (!known) {
        try {
          o.onError?.(err);
        } catch {
          // diagnostics never break the lookup
        }
      }
      cache.set(id, { rules: undefined, until: clock.now() + (known ? cacheMs : FAILURE_CACHE_MS) });
      return undefined;
    }
  }

  return (id) => {
    const hit = cache.get(id);
    if (hit !== undefined && hit.until > clock.now()) return Promise.resolve(hit.rules);
    let p = inflight.get(id);
    if (p === undefined) {
      p = fetch(id).finally(() => inflight.delete(id));
      inflight.set(id, p);
    }
    return p;
  };
}
