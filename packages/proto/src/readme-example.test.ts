/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 */
import { afterAll, describe, expect, it } from 'vitest';

// #region readme
import { BatonError, isBatonError } from '@baton/core';
import { createClient, createServer } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';

const server = createServer(); // grpc.health.v1 and server reflection included
server.addService(PaymentsService, {
  async approveInvoice(req) {
    if (req.amount > 5000) throw new BatonError('ERR_CONSTRAINT_VIOLATED', `amount ${req.amount} exceeds max 5000`);
    return { approvalId: `ap-${req.invoiceId}`, approvedBy: 'spiffe://baton.local/agent/orch-1/inv-7/q3LbX0Zs8kTz1aWcVbN2yA' };
  },
  async lookupVendor(req) {
    return { vendor: { id: req.vendor, name: 'ACME Supplies', verified: true } };
  },
  async getInvoice(req) {
    return { invoice: { id: req.invoiceId, vendor: 'acme', amount: 4000, description: '' } };
  },
});
const port = await server.listen('127.0.0.1:0');

const payments = createClient(PaymentsService, `127.0.0.1:${port}`);
const ok = await payments.approveInvoice({ invoiceId: 'inv-7', amount: 4000 }); // { approvalId: 'ap-inv-7', … }
let code = '';
try {
  await payments.approveInvoice({ invoiceId: 'inv-8', amount: 6000 });
} catch (err) {
  // The code travels in grpc-status-details-bin (a baton.type.v1.Problem); the detail never leaves the server.
  if (isBatonError(err)) code = err.code; // 'ERR_CONSTRAINT_VIOLATED'
}
// #endregion

afterAll(async () => {
  payments.close();
  await server.shutdown(0);
});

describe('README example: a typed server and client', () => {
  it('calls through the adapter and maps a BatonError to its code, without the detail', () => {
    expect(ok.approvalId).toBe('ap-inv-7');
    expect(code).toBe('ERR_CONSTRAINT_VIOLATED');
  });

  it('sends the generic title, never the precise detail', async () => {
    let detail = '';
    try {
      await payments.approveInvoice({ invoiceId: 'inv-9', amount: 9000 });
    } catch (err) {
      if (isBatonError(err)) detail = err.detail;
    }
    expect(detail).not.toContain('9000');
    expect(detail).toContain('Request violates a scope constraint');
  });
});
