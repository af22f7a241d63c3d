/**
 * "Who stopped it, and why", read back from the audit log: the denial entries recorded
 * in a step's trace. Emitters deliver asynchronously (durable spool first), so the demo
 * drains the ones it runs and then polls briefly for the authority's own entries.
 */
import { Outcome } from '@baton/proto/baton/audit/v1/audit_pb.js';
import type { DemoWorld } from './demo-world.js';

/** A denial as the log holds it. */
export interface DenialEntry {
  readonly sequence: number;
  readonly source: string;
  readonly reasonCode: string;
  readonly reasonDetail: string;
}

/** Waits until every process the demo runs has delivered its audit events. */
export async function drainEmitters(world: DemoWorld): Promise<void> {
  await world.payments.request('drain-audit');
  if (world.delegation.child) await world.delegation.child.request('drain-audit');
}

/** The denial entries of `traceId` (empty if none arrived within `timeoutMs`). */
export async function denialsInTrace(world: DemoWorld, traceId: string, timeoutMs = 3000): Promise<DenialEntry[]> {
  await drainEmitters(world);
  const start = Date.now();
  for (;;) {
    const page = await world.auditReader.query({ filter: { traceId, outcome: Outcome.DENY }, pageSize: 50 });
    if (page.entries.length > 0 || Date.now() - start > timeoutMs) {
      return page.entries.map((e) => ({
        sequence: Number(e.sequence),
        source: e.event?.source ?? '',
        reasonCode: e.event?.reasonCode ?? '',
        reasonDetail: e.event?.reasonDetail ?? '',
      }));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Detail lines for a refused step: `#seq source: CODE — reason`. */
export async function refusalDetails(world: DemoWorld, traceId: string | null): Promise<(readonly [string, string])[]> {
  if (!traceId) return [];
  const found = await denialsInTrace(world, traceId);
  if (found.length === 0) return [['audit', 'no entry yet']];
  return found.map((d) => ['audit', `#${d.sequence} refused by ${d.source}: ${d.reasonCode} — ${d.reasonDetail}`] as const);
}
