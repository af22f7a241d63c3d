/**
 * The payments resource server's business side: a small invoice and vendor book, the
 * handlers, and the mapping from each RPC to the scope request the guard checks.
 */
import { BatonError, randomId } from '@baton/core';
import type { ScopeRequest } from '@baton/core';
import { decisionOf } from '@baton/guard';
import type { CallContext, ServiceImpl } from '@baton/proto';
import type { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';

/** An invoice in the demo's book. */
export interface InvoiceRecord {
  readonly id: string;
  readonly vendor: string;
  readonly amount: number;
  readonly description: string;
}

/** The invoices the scenario works with. */
export const INVOICES: readonly InvoiceRecord[] = Object.freeze([
  { id: 'inv-1001', vendor: 'acme-supplies', amount: 4000, description: 'Office chairs (20)' },
  { id: 'inv-1002', vendor: 'globex', amount: 6000, description: 'Docking stations (30)' },
  { id: 'inv-1003', vendor: 'initech', amount: 50000, description: 'Data-center lease, Q3' },
]);

const VENDORS: ReadonlyMap<string, { name: string; verified: boolean }> = new Map([
  ['acme-supplies', { name: 'Acme Supplies Ltd', verified: true }],
  ['globex', { name: 'Globex Corporation', verified: true }],
  ['initech', { name: 'Initech', verified: false }],
]);

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

function requireId(v: unknown, what: string): string {
  if (typeof v !== 'string' || !ID_RE.test(v)) throw new BatonError('ERR_INVALID_ARGUMENT', `${what} is malformed`);
  return v;
}

/**
 * The scope request of a call, from its method local name and request. The amount is
 * the attribute the `approve:payments` constraint (e.g. `amount ≤ 5000`) is checked
 * against; a non-finite amount never reaches the scope check.
 */
export function paymentsScopeRequest(method: string, request: unknown): ScopeRequest | undefined {
  switch (method) {
    case 'approveInvoice': {
      const amount = (request as { amount?: unknown } | undefined)?.amount;
      if (typeof amount !== 'number' || !Number.isFinite(amount)) throw new BatonError('ERR_INVALID_ARGUMENT', 'amount must be a finite number');
      return { action: 'approve', resource: 'payments', attributes: { amount } };
    }
    case 'lookupVendor':
      return { action: 'read', resource: 'vendors' };
    case 'getInvoice':
      return { action: 'read', resource: 'invoices' };
    default:
      // An RPC without a mapping is denied rather than let through unscoped.
      return undefined;
  }
}

/** Who an approval is recorded against. */
export interface Approver {
  readonly approvedBy: string;
  readonly principal: string;
  readonly delegationDepth: number;
  readonly chain: readonly string[];
}

/** The approver of a call the guard allowed: the verified subject, principal and chain. */
export function guardApprover(ctx: CallContext): Approver {
  const d = decisionOf(ctx);
  return { approvedBy: d.subject, principal: d.principal, delegationDepth: d.depth, chain: d.agents };
}

/**
 * Handlers. With the default `approver` they run only after the guard allowed the call;
 * the legacy server of the exfiltration demo passes its own.
 */
export function createPaymentsImpl(approver: (ctx: CallContext) => Approver = guardApprover): ServiceImpl<typeof PaymentsService> {
  return {
    async approveInvoice(req, ctx) {
      const who = approver(ctx);
      const invoice = INVOICES.find((i) => i.id === requireId(req.invoiceId, 'invoice_id'));
      if (!invoice) throw new BatonError('ERR_NOT_FOUND', 'unknown invoice');
      if (invoice.amount !== req.amount || invoice.vendor !== requireId(req.vendor, 'vendor')) {
        throw new BatonError('ERR_INVALID_ARGUMENT', 'amount or vendor does not match the invoice');
      }
      return {
        approvalId: `apr_${randomId(9)}`,
        approvedBy: who.approvedBy,
        principal: who.principal,
        delegationDepth: who.delegationDepth,
        chain: [...who.chain],
      };
    },
    async lookupVendor(req) {
      const id = requireId(req.vendor, 'vendor');
      const v = VENDORS.get(id);
      if (!v) throw new BatonError('ERR_NOT_FOUND', 'unknown vendor');
      return { vendor: { id, name: v.name, verified: v.verified } };
    },
    async getInvoice(req) {
      const invoice = INVOICES.find((i) => i.id === requireId(req.invoiceId, 'invoice_id'));
      if (!invoice) throw new BatonError('ERR_NOT_FOUND', 'unknown invoice');
      return { invoice: { ...invoice } };
    },
  };
}
