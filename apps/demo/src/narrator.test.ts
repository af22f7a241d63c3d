import { describe, expect, it } from 'vitest';
import { createNarrator } from './narrator.js';
import type { StepRecord } from './narrator.js';

const record: StepRecord = { step: 'constraint-refused', expected: 'deny', actual: 'deny', ok: true, code: 'ERR_CONSTRAINT_VIOLATED', traceId: 'f'.repeat(32) };

function capture(json: boolean) {
  let out = '';
  const n = createNarrator({ json, color: false, write: (t) => (out += t) });
  return { n, out: () => out };
}

describe('narrator', () => {
  it('--json prints exactly one object per step and a summary line, and nothing else', () => {
    const { n, out } = capture(true);
    n.section('Setup');
    n.check(true, 'authority started');
    n.detail('born', 'spiffe://…');
    n.step(record, 'ignored in json');
    n.summary({ ok: true, steps: 1, auditEntries: 12, checkpointVerified: true });
    const lines = out().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { step: 'constraint-refused', expected: 'deny', actual: 'deny', ok: true, code: 'ERR_CONSTRAINT_VIOLATED', traceId: 'f'.repeat(32) },
      { summary: { ok: true, steps: 1, auditEntries: 12, checkpointVerified: true } },
    ]);
  });

  it('marks an expected outcome ✓ and an unexpected one ✗ with what was expected', () => {
    const { n, out } = capture(false);
    n.step(record, '$6,000 asked');
    n.step({ ...record, actual: 'allow', ok: false, code: null }, '$6,000 asked');
    const [good, bad] = out().trimEnd().split('\n');
    expect(good).toBe('  ✓ [constraint-refused] $6,000 asked — refused ERR_CONSTRAINT_VIOLATED');
    expect(bad).toBe('  ✗ [constraint-refused] $6,000 asked — allowed (expected deny)');
  });
});
