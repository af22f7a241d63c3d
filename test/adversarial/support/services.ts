/**
 * Every gRPC service an attacker can reach in the stack, with where it listens: the
 * authority's (identity, issuer, health, reflection), delegation, audit, and a guarded
 * resource server.
 */
import type { DescService } from '@bufbuild/protobuf';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { Health } from '@baton/proto/grpc/health/v1/health_pb.js';
import { ServerReflection } from '@baton/proto/grpc/reflection/v1/reflection_pb.js';
import type { AuditStack } from './audit-stack.js';
import type { Stack } from './stack.js';

export interface Target {
  readonly service: DescService;
  readonly address: string;
}

/** The services of `stack` and `audit`, each at its address (health and reflection on every server). */
export function reachableServices(stack: Stack, audit: AuditStack): Target[] {
  const servers = [stack.address, stack.delegationAddress, audit.address, stack.paymentsAddress];
  return [
    { service: IdentityService, address: stack.address },
    { service: IssuerService, address: stack.address },
    { service: DelegationService, address: stack.delegationAddress },
    { service: AuditService, address: audit.address },
    { service: PaymentsService, address: stack.paymentsAddress },
    ...[...new Set(servers)].flatMap((address) => [
      { service: Health, address },
      { service: ServerReflection, address },
    ]),
  ];
}
