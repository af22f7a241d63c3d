import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  DelegationClaimsSchema,
  RevocationEntrySchema,
  WatchRevocationsResponseSchema,
} from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { DelegationMaterial } from './delegation-claims.js';
import { LEVELS, REASONS, type RevocationRecord } from './revocation-model.js';
import type { WatchEvent } from './revocation-watch.js';

/** A stored entry on the wire. */
export function entryToProto(e: RevocationRecord): MessageInitShape<typeof RevocationEntrySchema> {
  return {
    sequence: BigInt(e.seq),
    level: LEVELS.indexOf(e.level),
    target: e.target,
    reason: REASONS.indexOf(e.reason),
    createdAt: BigInt(e.createdAt),
    expiresAt: BigInt(e.expiresAt),
    notAfterIat: BigInt(e.notAfterIat),
  };
}

/** A watch event on the wire. */
export function watchEventToProto(ev: WatchEvent): MessageInitShape<typeof WatchRevocationsResponseSchema> {
  switch (ev.kind) {
    case 'entry':
      return { event: { case: 'entry', value: entryToProto(ev.entry) } };
    case 'keepAlive':
      return { event: { case: 'keepAlive', value: { sequence: BigInt(ev.sequence), serverTime: BigInt(ev.serverTime) } } };
    case 'snapshotBegin':
    case 'snapshotEnd':
      return { event: { case: ev.kind, value: { reset: ev.reset, sequence: BigInt(ev.sequence) } } };
  }
}

/** Delegation material on the wire (ResolveReference). */
export function delegationToProto(m: DelegationMaterial): MessageInitShape<typeof DelegationClaimsSchema> {
  return {
    hops: [...m.hops],
    chainHash: m.chainHash,
    depth: m.depth,
    actors: [...m.actors],
    rootTokenHash: m.rootTokenHash,
    rootJti: m.rootJti,
  };
}

/** A uint64 resume point as a JS number; anything beyond 2^53 is "ahead of this store" (forces a reset). */
export function sequenceFromProto(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}
