/**
 * The rules engine: decisions about verified tokens go in, revocations to make come out.
 * No I/O of its own (the rules come through `rulesFor`, acting is the caller's job), an
 * injected clock, bounded state.
 */
import { systemClock, type Clock } from '@baton/core';
import { LruMap } from '@baton/guard';
import { MinuteRate, RecentEvents } from './event-window.js';
import type { AnomalyRuleName, AnomalyRules } from './rules.js';

/** What the engine needs to know about the token a decision was about (from verified claims). */
export interface ObservedToken {
  readonly sub: string;
  readonly jti: string;
  readonly wf: string;
  readonly orch_id: string;
  readonly task_id: string;
  readonly principal: string;
  /** Seconds. */
  readonly exp: number;
}

/** One guard decision about a verified token. */
export interface ObservedDecision {
  readonly token: ObservedToken;
  /** Undefined for an allow; otherwise the stable deny code. */
  readonly code?: string | undefined;
}

/** A revocation the engine asks for (always reason ANOMALY). */
export interface AnomalyAction {
  readonly rule: AnomalyRuleName;
  readonly level: 'token' | 'agent' | 'task';
  /** jti, agent SPIFFE id, or `<orchestration>/<task>`. */
  readonly target: string;
  /** The token whose decision tipped the rule. */
  readonly token: ObservedToken;
  /** Why, for the audit log and the revocation note. */
  readonly detail: string;
}

/** Options of {@link createAnomalyEngine}. */
export interface AnomalyEngineOptions {
  /** The rules of a workflow; undefined (or a rejection) = no rules, nothing tracked. */
  readonly rulesFor: (workflowId: string) => AnomalyRules | undefined | Promise<AnomalyRules | undefined>;
  /** Default the system clock. */
  readonly clock?: Clock;
  /** Agents and tokens tracked per rule (LRU). Default 100 000. */
  readonly maxTrackedKeys?: number;
  /** How long a target already acted on is not acted on again, ms. Default 3 600 000. */
  readonly actedMemoryMs?: number;
}

/** The defaults of {@link AnomalyEngineOptions}. */
export const ANOMALY_ENGINE_DEFAULTS = Object.freeze({
  maxTrackedKeys: 100_000,
  actedMemoryMs: 3_600_000,
});

/** A running engine. */
export interface AnomalyEngine {
  /** Counts a decision against its workflow's rules; returns the revocations it newly calls for. */
  observe(decision: ObservedDecision): Promise<AnomalyAction[]>;
  /** Lets a target be acted on again (e.g. after its revocation failed). */
  forgetAction(action: AnomalyAction): void;
  /** Keys currently tracked, for tests and metrics. */
  readonly trackedKeys: number;
}

/** Denials of what the token permits. */
const SCOPE_DENIALS: ReadonlySet<string> = new Set(['ERR_SCOPE_DENIED', 'ERR_CONSTRAINT_VIOLATED']);

/** Failures to prove possession of the token's key: someone holds the token without its key. */
export function isProofFailure(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('ERR_PROOF_') || code === 'ERR_CERT_BINDING_MISMATCH');
}

/** Denials the scope-denial rule counts. */
export function isScopeDenial(code: string | undefined): boolean {
  return code !== undefined && SCOPE_DENIALS.has(code);
}

/**
 * Creates the engine. Rules, each per workflow:
 * - `scopeDenials` {count, window}: that many scope/constraint denials of one agent
 *   instance within the window → revoke the AGENT;
 * - `releasedTokenUse`: a token presented after its agent released it → revoke the TASK
 *   (whoever holds a released token is not the agent that finished the task);
 * - `proofFailures` {count, window}: that many proof failures for one token → revoke the TOKEN;
 * - `maxRequestsPerMinute`: more requests than that by one agent instance over 60 s → revoke the AGENT.
 * Each target is acted on once (then remembered for `actedMemoryMs`).
 *
 * @example
 * const engine = createAnomalyEngine({ rulesFor: (wf) => rules.get(wf) });
 * for (const action of await engine.observe({ token: claims, code: 'ERR_SCOPE_DENIED' })) await revoke(action);
 */
export function createAnomalyEngine(options: AnomalyEngineOptions): AnomalyEngine {
  if (typeof options?.rulesFor !== 'function') throw new TypeError('createAnomalyEngine: rulesFor required');
  const clock = options.clock ?? systemClock;
  const maxKeys = options.maxTrackedKeys ?? ANOMALY_ENGINE_DEFAULTS.maxTrackedKeys;
  const actedMemoryMs = options.actedMemoryMs ?? ANOMALY_ENGINE_DEFAULTS.actedMemoryMs;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new TypeError('createAnomalyEngine: maxTrackedKeys must be a positive integer');
  if (!Number.isSafeInteger(actedMemoryMs) || actedMemoryMs < 0) throw new TypeError('createAnomalyEngine: actedMemoryMs must be a non-negative integer');
  const denials = new RecentEvents(maxKeys, clock);
  const proofs = new RecentEvents(maxKeys, clock);
  const rate = new MinuteRate(maxKeys, clock);
  const acted = new LruMap<string, number>(maxKeys, { clock });

  const actedKey = (a: Pick<AnomalyAction, 'level' | 'target'>) => `${a.level} ${a.target}`;

  /** Claims the target for this action unless it was acted on recently. */
  function claim(action: AnomalyAction, nowMs: number): AnomalyAction | undefined {
    const k = actedKey(action);
    const at = acted.get(k);
    if (at !== undefined && nowMs - at < actedMemoryMs) return undefined;
    acted.set(k, nowMs, nowMs + actedMemoryMs);
    return action;
  }

  async function rulesOf(wf: string): Promise<AnomalyRules | undefined> {
    try {
      return await options.rulesFor(wf);
    } catch {
      // Rules unavailable: nothing is revoked automatically (the decision itself stood).
      return undefined;
    }
  }

  return {
    async observe(d) {
      const t = d.token;
      const rules = await rulesOf(t.wf);
      if (rules === undefined) return [];
      // From here on synchronous: two concurrent observations cannot both claim a target.
      const now = clock.now();
      const out: AnomalyAction[] = [];
      const push = (a: AnomalyAction) => {
        const claimed = claim(a, now);
        if (claimed) out.push(claimed);
      };
      const sd = rules.scopeDenials;
      if (sd.count > 0 && isScopeDenial(d.code) && denials.hit(t.sub, now, sd.count, sd.windowSeconds * 1000)) {
        denials.forget(t.sub);
        push({ rule: 'scope_denials', level: 'agent', target: t.sub, token: t, detail: `${sd.count} scope denials within ${sd.windowSeconds} s (last: ${d.code})` });
      }
      if (rules.releasedTokenUse && d.code === 'ERR_TOKEN_RELEASED') {
        push({ rule: 'released_token_use', level: 'task', target: `${t.orch_id}/${t.task_id}`, token: t, detail: `released token ${t.jti} presented again` });
      }
      const pf = rules.proofFailures;
      if (pf.count > 0 && isProofFailure(d.code) && proofs.hit(t.jti, now, pf.count, pf.windowSeconds * 1000)) {
        proofs.forget(t.jti);
        push({ rule: 'proof_failures', level: 'token', target: t.jti, token: t, detail: `${pf.count} proof failures within ${pf.windowSeconds} s (last: ${d.code})` });
      }
      if (rules.maxRequestsPerMinute > 0) {
        const n = rate.hit(t.sub, now);
        if (n > rules.maxRequestsPerMinute) {
          rate.forget(t.sub);
          push({ rule: 'request_rate', level: 'agent', target: t.sub, token: t, detail: `${n} requests within 60 s (budget ${rules.maxRequestsPerMinute})` });
        }
      }
      return out;
    },
    forgetAction(action) {
      acted.delete(actedKey(action));
    },
    get trackedKeys() {
      return denials.size + proofs.size + rate.size;
    },
  };
}
