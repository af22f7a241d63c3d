/**
 * Every gRPC service an attacker can reach in the stack, with where it listens: the
 * authority's (identity, issuer, delegation, audit and anomaly as far as it hosts them),
 * whatever is composed beside it, a guarded resource server, and health and reflection
 * on every server.
 */
import type { DescService } from '@bufbuild/protobuf';
import { AnomalyService } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { Health } from '@baton/proto/grpc/health/v1/health_pb.js';
import { ServerReflection } from '@baton/proto/grpc/reflection/v1/reflection_pb.js';
import type { Stack } from './stack.js';

export interface Target {
  readonly service: DescService;
  readonly address: string;
}

/** Every server address of `stack`. */
export function serversOf(stack: Stack): string[] {
  return [...new Set([stack.address, stack.delegationAddress, stack.audit.address, stack.paymentsAddress])];
}

/** The services of `stack`, each at its address (health and reflection on every server). */
export function reachableServices(stack: Stack): Target[] {
  const servers = serversOf(stack);
  return [
    { service: IdentityService, address: stack.address },
    { service: IssuerService, address: stack.address },
    { service: DelegationService, address: stack.delegationAddress },
    { service: AuditService, address: stack.audit.address },
    ...(stack.config.services.includes('anomaly') ? [{ service: AnomalyService, address: stack.address }] : []),
    { service: PaymentsService, address: stack.paymentsAddress },
    ...servers.flatMap((address) => [
      { service: Health, address },
      { service: ServerReflection, address },
    ]),
  ];
}
