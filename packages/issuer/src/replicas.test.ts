import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { IssuerService, RevocationLevel as L, RevocationReason as R, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase } from '@baton/store';
import { openStore, PG_URL, startHarness, type Harness } from './testing/harness.js';

// Two issuer replicas on one PostgreSQL schema (each with its own pool, server and key ring).
describe('two replicas sharing PostgreSQL', () => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const first = await openStore('postgres', 'replicas');
    const second = await openDatabase(PG_URL, { schema: first.schema! });
    a = await startHarness('postgres', 'replicas', { store: first, keepAliveMs: 50 });
    b = await startHarness('postgres', 'replicas', { store: { db: second, cleanup: () => second.close() }, keepAliveMs: 50 });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const revokeOn = async (h: Harness, target: string) => {
    const req: MessageInitShape<typeof RevokeRequestSchema> = { level: L.WORKFLOW, target, reason: R.MANUAL };
    return (await h.client.revoke(req, { metadata: h.keyProof(h.operator, IssuerService.method.revoke, RevokeRequestSchema, req) })).sequence;
  };

  it('hands out unique, gap-free sequences across replicas', async () => {
    const seqs = await Promise.all(Array.from({ length: 30 }, (_, i) => revokeOn(i % 2 ? a : b, `wf-${i}`)));
    const sorted = [...seqs].sort((x, y) => (x < y ? -1 : 1));
    expect(sorted).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i + 1)));
  });

  it('a subscriber on one replica catches up with entries written on the other by its keep-alive', async () => {
    const ac = new AbortController();
    const seen: bigint[] = [];
    let snapshotDone = false;
    const done = (async () => {
      try {
        for await (const m of a.client.watchRevocations({ fromSequence: 0n }, { signal: ac.signal })) {
          if (m.event.case === 'entry') seen.push(m.event.value.sequence);
          if (m.event.case === 'snapshotEnd') snapshotDone = true;
        }
      } catch {
        // cancelled
      }
    })();
    await vi.waitFor(() => expect(snapshotDone).toBe(true));
    const s = await revokeOn(b, 'wf-remote');
    await vi.waitFor(() => expect(seen.at(-1)).toBe(s));
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => BigInt(i + 1)));
    ac.abort();
    await done;
  });
});
