/**
 * The default {@link GuardMeter}: Baton's KPI instruments from @baton/telemetry
 * (decisions by outcome and reason, bearer-mode uses, delegation depth). No-ops until the
 * program sets up metrics.
 */
import { kpis } from '@baton/telemetry';
import type { DecisionMetric, GuardMeter } from './guard-options.js';

/** Records guard decisions on the globally registered KPI instruments. */
export const kpiGuardMeter: GuardMeter = Object.freeze({
  recordDecision(m: DecisionMetric): void {
    const k = kpis();
    k.validationDecisions.add(1, { outcome: m.allow ? 'allow' : 'deny', reason: m.allow ? 'ok' : (m.code ?? 'ERR_INTERNAL') });
    if (m.allow) {
      if (m.bearer) k.bearerModeUses.add(1);
      k.delegationDepth.record(m.depth);
    }
  },
});
