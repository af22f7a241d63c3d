/**
 * Runs one scenario step in its own trace and turns its outcome into a {@link StepRecord}:
 * ✓ only when the verdict and (for refusals) the code are what the scenario expects.
 */
import { isBatonError } from '@baton/core';
import type { Narrator, StepRecord, Verdict } from './narrator.js';
import { inSpan } from './process-tracing.js';

/** What a step's body reports. */
export interface StepOutcome {
  readonly actual: Verdict;
  readonly code: string | null;
  /** One line: what was tried. */
  readonly headline: string;
  /** Label/text pairs shown under the step. */
  readonly details?: readonly (readonly [string, string])[];
}

/** A step definition. */
export interface StepSpec {
  readonly id: string;
  readonly expected: Verdict;
  /** Codes a refusal must carry (any of them) for the step to count as expected. */
  readonly expectedCodes?: readonly string[];
  readonly run: () => Promise<StepOutcome>;
}

/** Runs a step in a new trace (`step <id>`), narrates it and returns its record. */
export async function runStep(narrator: Narrator, spec: StepSpec): Promise<StepRecord> {
  let traceId: string | null = null;
  let outcome: StepOutcome;
  let crashed = false;
  try {
    outcome = await inSpan(
      `step ${spec.id}`,
      async (span) => {
        traceId = span.spanContext().traceId;
        return spec.run();
      },
      { root: true, attributes: { 'baton.demo.step': spec.id } },
    );
  } catch (err) {
    crashed = true;
    const code = isBatonError(err) ? err.code : 'ERR_INTERNAL';
    outcome = { actual: 'deny', code, headline: `failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
    if (!isBatonError(err) && !narrator.json) process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  const codeOk = outcome.actual === 'allow' || spec.expectedCodes === undefined || (outcome.code !== null && spec.expectedCodes.includes(outcome.code));
  const record: StepRecord = {
    step: spec.id,
    expected: spec.expected,
    actual: outcome.actual,
    ok: !crashed && outcome.actual === spec.expected && codeOk,
    code: outcome.actual === 'allow' ? null : outcome.code,
    traceId,
  };
  narrator.step(record, outcome.headline);
  for (const [label, text] of outcome.details ?? []) narrator.detail(label, text);
  return record;
}
