import { describe, expect, it } from 'vitest';
import { isBatonError, permits } from '@baton/core';
import { paymentsScopeRequest } from './payments-service.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? err.code : 'NOT_A_BATON_ERROR';
  }
  return undefined;
}

describe('paymentsScopeRequest', () => {
  it('maps each RPC to the scope request the guard checks', () => {
    expect(paymentsScopeRequest('approveInvoice', { amount: 4000 })).toEqual({ action: 'approve', resource: 'payments', attributes: { amount: 4000 } });
    expect(paymentsScopeRequest('lookupVendor', {})).toEqual({ action: 'read', resource: 'vendors' });
    expect(paymentsScopeRequest('getInvoice', {})).toEqual({ action: 'read', resource: 'invoices' });
    expect(paymentsScopeRequest('somethingNew', {})).toBeUndefined();
  });

  it('puts the amount where the approve constraint sees it', () => {
    const scope = { action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 5000 } } };
    expect(permits(scope, paymentsScopeRequest('approveInvoice', { amount: 4000 })!)).toBe(true);
    expect(permits(scope, paymentsScopeRequest('approveInvoice', { amount: 6000 })!)).toBe(false);
    expect(permits(scope, paymentsScopeRequest('approveInvoice', { amount: -1 })!)).toBe(false);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, undefined, '4000'])('refuses the amount %s before any scope check', (amount) => {
    expect(codeOf(() => paymentsScopeRequest('approveInvoice', { amount }))).toBe('ERR_INVALID_ARGUMENT');
  });
});
