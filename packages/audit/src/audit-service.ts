/**
 * `baton.audit.v1.AuditService` over an {@link AuditLog}, for the grpc-js adapter of
 * `@baton/proto`. Appends and reads of entries need an authorizer (default: refuse);
 * checkpoints and proofs reveal only hashes and are open.
 */
import { BatonError } from '@baton/core';
import type { CallContext, ServiceImpl } from '@baton/proto';
import { AuditService, type AppendRequest } from '@baton/proto/baton/audit/v1/audit_pb.js';
import type { AuditLog } from './audit-log.js';
import { appendResultToProto, entryToProto, eventFromProto, filterFromProto, safeNumber } from './proto-convert.js';

/** Decides whether a call may proceed; throw a BatonError to refuse. */
export type AuditAuthorizer<R> = (ctx: CallContext, request: R) => void | Promise<void>;

/** Options of {@link createAuditService}. */
export interface AuditServiceOptions {
  /**
   * Who may append (e.g. {@link keyProofAuthorizer} over the registered source keys).
   * Default: nobody (ERR_PERMISSION_DENIED).
   */
  readonly authorizeAppend?: AuditAuthorizer<AppendRequest>;
  /** Who may Query, Tail and Verify (operators). Default: nobody. */
  readonly authorizeRead?: AuditAuthorizer<object>;
  /** How often a Tail re-checks the store for entries appended by other replicas. Default 1000 ms. */
  readonly tailPollMs?: number;
}

const deny: AuditAuthorizer<unknown> = () => {
  throw new BatonError('ERR_PERMISSION_DENIED', 'no authorizer configured for this call');
};

/**
 * The AuditService implementation.
 *
 * @example
 * server.addService(AuditService, createAuditService(log, {
 *   authorizeAppend: keyProofAuthorizer({ isAllowed: (jkt) => sourceKeys.has(jkt), replayCache }),
 * }));
 */
export function createAuditService(log: AuditLog, options: AuditServiceOptions = {}): ServiceImpl<typeof AuditService> {
  const authorizeAppend = options.authorizeAppend ?? deny;
  const authorizeRead = options.authorizeRead ?? deny;
  const tailPollMs = options.tailPollMs ?? 1000;

  return {
    async append(req, ctx) {
      await authorizeAppend(ctx, req);
      const results = await log.append(req.events.map(eventFromProto));
      return { results: results.map(appendResultToProto) };
    },

    async query(req, ctx) {
      await authorizeRead(ctx, req);
      const page = await log.query(filterFromProto(req.filter), {
        ...(req.pageSize > 0 ? { pageSize: req.pageSize } : {}),
        ...(req.pageToken ? { pageToken: req.pageToken } : {}),
      });
      return { entries: page.entries.map(entryToProto), nextPageToken: page.nextPageToken };
    },

    async *tail(req, ctx) {
      await authorizeRead(ctx, req);
      for await (const entry of log.tail(filterFromProto(req.filter), { signal: ctx.signal, pollMs: tailPollMs })) {
        yield { entry: entryToProto(entry) };
      }
    },

    async getCheckpoint() {
      const cp = await log.latestCheckpoint();
      return { checkpoint: cp.note, treeSize: BigInt(cp.size), rootHash: cp.rootHash };
    },

    async getInclusionProof(req) {
      const p = await log.inclusionProof(safeNumber(req.sequence, 'sequence'), safeNumber(req.treeSize, 'tree_size'));
      return { leafIndex: BigInt(p.leafIndex), treeSize: BigInt(p.treeSize), hashes: p.hashes, leafHash: p.leafHash, checkpoint: p.checkpoint };
    },

    async getConsistencyProof(req) {
      const hashes = await log.consistencyProof(safeNumber(req.firstSize, 'first_size'), safeNumber(req.secondSize, 'second_size'));
      return { hashes };
    },

    async verify(req, ctx) {
      await authorizeRead(ctx, req);
      const from = req.fromSequence > 0n ? safeNumber(req.fromSequence, 'from_sequence') : 1;
      const to = req.toSequence > 0n ? safeNumber(req.toSequence, 'to_sequence') : undefined;
      const r = await log.verify({ from, ...(to !== undefined ? { to } : {}) });
      return {
        ok: r.ok,
        entries: BigInt(r.entries),
        rootHash: r.rootHash ?? new Uint8Array(),
        firstBadSequence: BigInt(r.firstBad?.sequence ?? 0),
        problem: r.firstBad ? `${r.firstBad.problem}: ${r.firstBad.detail}` : '',
      };
    },
  };
}
