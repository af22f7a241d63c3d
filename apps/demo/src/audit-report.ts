/**
 * Reading the audit log back, as an operator and as a skeptic: wait until every
 * decision is delivered, verify the signed checkpoint with the log's published key,
 * check the hash chain, and verify an RFC 9162 inclusion proof for every denial against
 * that checkpoint. Also finds, per step, who refused it and the precise reason.
 */
import { checkInclusionProof, eventFromProto, parseVerifierKey, verifyCheckpoint } from '@baton/audit';
import type { AuditEntry, AuditEventFields, NoteVerifier } from '@baton/audit';
import type { Client } from '@baton/proto';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import type { AuditEntry as ProtoEntry } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { drainEmitters } from './audit-lookup.js';
import type { DemoWorld } from './demo-world.js';

/** One denial as the log recorded it. */
export interface LoggedDenial {
  readonly sequence: number;
  readonly traceId: string;
  readonly source: string;
  readonly type: string;
  readonly reasonCode: string;
  readonly reasonDetail: string;
  /** Its inclusion proof verified against the signed checkpoint. */
  readonly proven: boolean;
}

/** What the log says about the run. */
export interface AuditReport {
  readonly entries: number;
  readonly treeSize: number;
  readonly rootHex: string;
  readonly origin: string;
  readonly checkpointVerified: boolean;
  /** The service's own full verification of the hash chain and tree. */
  readonly chainVerified: boolean;
  readonly denials: readonly LoggedDenial[];
}

/** The entry as `@baton/audit` types it, from the wire (so its hash can be recomputed here). */
function entryOf(e: ProtoEntry): AuditEntry {
  return { sequence: Number(e.sequence), loggedAt: Number(e.loggedAt), prevHash: e.prevHash, eventHash: e.eventHash, event: eventFromProto(e.event!) as unknown as AuditEventFields };
}

async function allEntries(client: Client<typeof AuditService>): Promise<ProtoEntry[]> {
  const out: ProtoEntry[] = [];
  let pageToken = '';
  do {
    const page = await client.query({ pageSize: 500, pageToken });
    out.push(...page.entries);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`audit: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Checks the inclusion proof of every denial against the verified checkpoint. */
async function provenDenials(client: Client<typeof AuditService>, entries: readonly ProtoEntry[], treeSize: number, verifiers: readonly NoteVerifier[]): Promise<LoggedDenial[]> {
  const out: LoggedDenial[] = [];
  for (const e of entries) {
    const entry = entryOf(e);
    if (entry.event.outcome !== 'deny') continue;
    const p = await client.getInclusionProof({ sequence: e.sequence, treeSize: BigInt(treeSize) });
    let proven = true;
    try {
      // The entry itself goes in: its hash is recomputed here, not taken from the server.
      checkInclusionProof({ entry, leafIndex: Number(p.leafIndex), treeSize: Number(p.treeSize), leafHash: Buffer.from(p.leafHash), hashes: p.hashes.map((h) => Buffer.from(h)), checkpoint: p.checkpoint }, verifiers);
    } catch {
      proven = false;
    }
    const ev = entry.event;
    out.push({ sequence: entry.sequence, traceId: ev.traceId, source: ev.source, type: ev.type, reasonCode: ev.reasonCode, reasonDetail: ev.reasonDetail, proven });
  }
  return out;
}

/** Drains every emitter, then reads and verifies the log as the operator. */
export async function readAuditLog(world: DemoWorld): Promise<AuditReport> {
  await drainEmitters(world);
  const client = world.auditReader;
  const entries = await allEntries(client);
  const last = entries.length > 0 ? Number(entries[entries.length - 1]!.sequence) : 0;
  const verifiers = [parseVerifierKey(world.audit.verifierKey)];
  // Checkpoints are signed on a short timer: wait for one that covers every entry.
  const cp = await until('a checkpoint covering every entry', async () => {
    const res = await client.getCheckpoint({});
    return Number(res.treeSize) >= last ? res : undefined;
  });
  const verified = verifyCheckpoint(cp.checkpoint, verifiers, { origin: world.audit.origin });
  const chain = await client.verify({});
  return {
    entries: entries.length,
    treeSize: verified.size,
    rootHex: Buffer.from(verified.rootHash).toString('hex'),
    origin: verified.origin,
    checkpointVerified: true,
    chainVerified: chain.ok && Number(chain.entries) >= entries.length,
    denials: await provenDenials(client, entries, verified.size, verifiers),
  };
}
