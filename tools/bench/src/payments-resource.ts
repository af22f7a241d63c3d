/**
 * A guarded resource server for the benchmarks: `bench.v1.Payments/Approve` behind
 * `guardGrpcService`, with keys and revocations from the authority, on 127.0.0.1:0. The
 * service descriptor is built at runtime (a benchmark needs no .proto file).
 */
import { create, createFileRegistry, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { chainVerifier, resolveFromIssuer } from '@baton/delegation';
import { createGuard, createRevocationFeed, decisionOf, guardGrpcService, jwksFromIssuer } from '@baton/guard';
import { createServer, type CallContext, type ServiceImpl } from '@baton/proto';
import { AUDIENCE, ISSUER, type BenchAuthority } from './bench-authority.js';

type ApproveRequest = Message<'bench.v1.ApproveRequest'> & { invoice: string; amount: number };
type ApproveResponse = Message<'bench.v1.ApproveResponse'> & { approvedBy: string };

/** The Payments service descriptor. */
export type PaymentsService = GenService<{
  approve: { methodKind: 'unary'; input: GenMessage<ApproveRequest>; output: GenMessage<ApproveResponse> };
}>;

/** Builds the descriptor of `bench.v1.Payments`. */
export function paymentsService(): PaymentsService {
  const STRING = 9;
  const DOUBLE = 1;
  const OPTIONAL = 1;
  const file = create(FileDescriptorProtoSchema, {
    name: 'bench/v1/payments.proto',
    package: 'bench.v1',
    syntax: 'proto3',
    messageType: [
      {
        name: 'ApproveRequest',
        field: [
          { name: 'invoice', jsonName: 'invoice', number: 1, type: STRING, label: OPTIONAL },
          { name: 'amount', jsonName: 'amount', number: 2, type: DOUBLE, label: OPTIONAL },
        ],
      },
      { name: 'ApproveResponse', field: [{ name: 'approved_by', jsonName: 'approvedBy', number: 1, type: STRING, label: OPTIONAL }] },
    ],
    service: [{ name: 'Payments', method: [{ name: 'Approve', inputType: '.bench.v1.ApproveRequest', outputType: '.bench.v1.ApproveResponse' }] }],
  });
  return createFileRegistry(file, () => undefined).getService('bench.v1.Payments') as unknown as PaymentsService;
}

/** A running guarded resource. */
export interface PaymentsResource {
  readonly address: string;
  readonly service: PaymentsService;
  close(): Promise<void>;
}

/** Starts the guarded Payments server (approve needs `approve:payments` covering `max_amount`). */
export async function startPayments(authority: BenchAuthority): Promise<PaymentsResource> {
  const service = paymentsService();
  const keys = jwksFromIssuer(authority.issuerClient);
  const feed = createRevocationFeed({ client: authority.issuerClient });
  await Promise.all([keys.ready(), feed.ready(10_000)]);
  const guard = createGuard({ audience: AUDIENCE, issuer: ISSUER, keys, revocation: feed, chain: chainVerifier({ resolve: resolveFromIssuer(authority.issuerClient) }) });
  const impl: Partial<ServiceImpl<PaymentsService>> = {
    approve: async (_req: ApproveRequest, ctx: CallContext) => ({ approvedBy: decisionOf(ctx).subject }),
  };
  const server = createServer();
  server.addService(
    service,
    guardGrpcService(guard, impl, {
      service,
      toRequest: (_m, req) => ({ action: 'approve', resource: 'payments', attributes: { max_amount: (req as ApproveRequest).amount } }),
    }),
  );
  const port = await server.listen('127.0.0.1:0');
  return {
    address: `127.0.0.1:${port}`,
    service,
    async close() {
      await feed.close();
      await server.shutdown(0);
    },
  };
}
