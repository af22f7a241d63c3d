/**
 * Knowing when a revocation (or a release) has reached the payments guard, instead of
 * sleeping: the issuer says which sequence is newest, the guard process says when its
 * view is complete up to it. The difference between "revoked" and "applied at the guard"
 * is the propagation delay the demo reports.
 */
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import type { Client } from '@baton/proto';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { ChildHandle } from './child-process.js';

/**
 * The newest revocation sequence, as the end of a WatchRevocations snapshot names it.
 * Run outside the caller's trace: it is the demo's bookkeeping, not part of the story.
 */
export function newestRevocationSequence(issuer: Client<typeof IssuerService>): Promise<bigint> {
  return context.with(ROOT_CONTEXT, () => readSnapshotEnd(issuer));
}

async function readSnapshotEnd(issuer: Client<typeof IssuerService>): Promise<bigint> {
  const ac = new AbortController();
  try {
    for await (const msg of issuer.watchRevocations({ fromSequence: 0n }, { signal: ac.signal, deadlineMs: 10_000 })) {
      if (msg.event.case === 'snapshotEnd') return msg.event.value.sequence;
    }
  } finally {
    ac.abort();
  }
  throw new Error('revocation stream ended before its snapshot did');
}

/** Waits until the payments guard's revocation view covers `sequence`; resolves with when it did (epoch ms). */
export async function guardApplied(payments: ChildHandle, sequence: bigint): Promise<number> {
  const r = await payments.request<{ appliedAtMs: number }>('sync', { sequence: sequence.toString() });
  return r.appliedAtMs;
}
