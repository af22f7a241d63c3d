/**
 * The audit log at scale (DESIGN §10): offline verification of a 1 M-entry SQLite log
 * with `verifyLogFile` (what `baton audit verify <file>` runs: every entry's hash and
 * chain link, and the Merkle root against every stored signed checkpoint), and the size
 * of an inclusion proof at that size. `--quick` uses 100 k entries and scales:
 * verification time linearly, proof size by the extra tree levels.
 */
import { randomBytes } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { checkInclusionProof, createAuditLog, createNoteSigner, createNoteVerifier, createSanitizer, createSqliteAuditStore, verifyLogFile } from '@baton/audit';
import { generateKeyPair, importPublicJwk } from '@baton/core';
import { GetInclusionProofResponseSchema } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { LOG_ORIGIN, prepareLogFile } from './audit-log-file.js';
import { row, summarize, type BenchOptions, type BenchRow } from './harness.js';

const FULL_SIZE = 1_000_000;

/** Verification time of a 1 M-entry log, and inclusion-proof bytes at 1 M. */
export async function benchAuditScale({ quick, fresh }: BenchOptions): Promise<BenchRow[]> {
  const size = quick ? 100_000 : FULL_SIZE;
  const runs = 3; // the report quotes the median
  const scale = FULL_SIZE / size;
  const prepared = await prepareLogFile(size, fresh === true);
  const verifier = createNoteVerifier(LOG_ORIGIN, importPublicJwk({ kty: 'OKP', crv: 'Ed25519', x: prepared.publicX }));

  // Inclusion proofs against the signed checkpoint at `size`, for leaves across the tree.
  const store = await createSqliteAuditStore({ path: prepared.file });
  const log = createAuditLog({
    store,
    signer: createNoteSigner(LOG_ORIGIN, generateKeyPair()), // never used: the log does not grow here
    verifiers: [verifier],
    origin: LOG_ORIGIN,
    sanitizer: createSanitizer({ key: randomBytes(32) }),
    checkpointIntervalMs: 0,
  });
  const picks = [1, 2, Math.floor(size / 3), Math.floor(size / 2) + 1, size - 1, size];
  const proofBytes: number[] = [];
  let hashes = 0;
  let checkpointBytes = 0;
  try {
    for (const seq of picks) {
      const p = await log.inclusionProof(seq, size);
      checkInclusionProof(p, [verifier], { origin: LOG_ORIGIN });
      hashes = Math.max(hashes, p.hashes.length);
      checkpointBytes = Buffer.byteLength(p.checkpoint);
      // The proof as the AuditService sends it, without the signed checkpoint it refers to.
      const msg = create(GetInclusionProofResponseSchema, { leafIndex: BigInt(p.leafIndex), treeSize: BigInt(p.treeSize), hashes: p.hashes, leafHash: p.leafHash });
      proofBytes.push(toBinary(GetInclusionProofResponseSchema, msg).length);
    }
  } finally {
    await log.close();
    await store.close();
  }

  const seconds: number[] = [];
  let threads = '';
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const report = await verifyLogFile(prepared.file, { verifiers: [verifier], origin: LOG_ORIGIN });
    seconds.push(((performance.now() - t) / 1000) * scale);
    if (!report.ok || report.entries !== size || report.checkpointSize !== size || !report.checkpointsAuthenticated) {
      throw new Error(`verification did not pass: ${JSON.stringify(report).slice(0, 300)}`);
    }
    const used = (report as { threadsUsed?: unknown }).threadsUsed;
    if (typeof used === 'number') threads = `, ${used} thread(s)`;
  }

  // At 1 M a path has up to ⌈log2(1 M)⌉ = 20 hashes; a smaller tree's proofs get the extra levels (34 bytes each on the wire).
  const fullHashes = Math.ceil(Math.log2(FULL_SIZE));
  const extraLevels = fullHashes - Math.ceil(Math.log2(size));
  const measured = quick ? `measured on ${size.toLocaleString('en-US')} entries and scaled ×${scale} (linear)` : `measured on ${size.toLocaleString('en-US')} entries`;
  return [
    row({
      name: 'audit_verify_1m_s', unit: 's', stats: summarize(seconds),
      target: '≤ 10 s', meets: (v) => v <= 10,
      note: `verifyLogFile with default options${threads} (entry hashes, chain links, Merkle root vs the signed checkpoint), ${measured}; ${prepared.reused ? `log file reused from an earlier run with the same @baton/audit build (it took ${prepared.buildSeconds.toFixed(0)} s to build; --fresh rebuilds it)` : `log built for this run in ${prepared.buildSeconds.toFixed(0)} s and kept for later runs`}`,
    }),
    row({
      name: 'audit_proof_bytes_1m', unit: 'bytes', stats: summarize(proofBytes.map((b) => b + extraLevels * 34)),
      target: '≤ 1024', meets: (v) => v <= 1024,
      note: `protobuf GetInclusionProofResponse (leaf index, tree size, up to ${fullHashes} path hashes, leaf hash) for ${picks.length} leaves across the tree, each checked against the signed checkpoint; the checkpoint it refers to (${checkpointBytes} bytes) is shared by every proof at that size${quick ? `; measured at ${size.toLocaleString('en-US')} (up to ${hashes} hashes) plus ${extraLevels} levels for 1 M` : ''}`,
    }),
  ];
}
