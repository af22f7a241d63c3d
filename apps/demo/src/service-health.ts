/**
 * Which services a process actually serves, asked the standard way (`grpc.health.v1`),
 * so the demo adapts to the authority build it runs against instead of assuming.
 */
import { createClient } from '@baton/proto';
import { Health, HealthCheckResponse_ServingStatus } from '@baton/proto/grpc/health/v1/health_pb.js';

/** True when `address` reports `service` (e.g. `baton.audit.v1.AuditService`) SERVING. */
export async function isServing(address: string, service: string): Promise<boolean> {
  const client = createClient(Health, address, { tracing: false });
  try {
    const res = await client.check({ service }, { deadlineMs: 5000 });
    return res.status === HealthCheckResponse_ServingStatus.SERVING;
  } catch {
    return false; // NOT_FOUND: not hosted here
  } finally {
    client.close();
  }
}
