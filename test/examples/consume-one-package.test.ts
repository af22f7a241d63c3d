/**
 * The root README's "consume one package" example, run as a test. The code between the
 * region markers appears verbatim in README.md (checked by test/readme-examples.test.ts).
 */
import { describe, expect, it } from 'vitest';

// #region readme
import { checkRequest, coversAll, parseScopes } from '@baton/core';

// What the VP authorized the manager to do, and what the manager hands the intern.
const manager = parseScopes([{ action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 10000 } } }]);
const intern = parseScopes([{ action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 5000 } } }]);
const forged = parseScopes([{ action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 50000 } } }]);

const narrowed = coversAll(manager, intern); // { ok: true }: authority only narrows
const widened = coversAll(manager, forged); // { ok: false, code: 'ERR_SCOPE_ESCALATION', reason: 'widened amount 10000 → 50000', … }

const approve = (amount: number) => checkRequest(intern, { action: 'approve', resource: 'payments', attributes: { amount } });
const small = approve(4000); // { ok: true, scope: … }
const large = approve(6000); // { ok: false, code: 'ERR_CONSTRAINT_VIOLATED', reason: 'amount 6000 exceeds max 5000' }
// #endregion

describe('README: consume one package (@baton/core scope algebra)', () => {
  it('accepts the narrowing and refuses the widening, with the precise reason', () => {
    expect(narrowed).toEqual({ ok: true });
    expect(widened).toMatchObject({ ok: false, index: 0, code: 'ERR_SCOPE_ESCALATION' });
    expect(widened.ok ? '' : widened.reason).toBe('widened amount 10000 → 50000');
  });

  it('decides requests against the narrowed scope', () => {
    expect(small).toMatchObject({ ok: true, scope: intern[0] });
    expect(large).toEqual({ ok: false, code: 'ERR_CONSTRAINT_VIOLATED', reason: 'amount 6000 exceeds max 5000' });
    expect(approve(-1)).toMatchObject({ ok: false, code: 'ERR_CONSTRAINT_VIOLATED' });
    expect(checkRequest(intern, { action: 'refund', resource: 'payments', attributes: { amount: 1 } })).toMatchObject({ ok: false, code: 'ERR_SCOPE_DENIED' });
  });
});
