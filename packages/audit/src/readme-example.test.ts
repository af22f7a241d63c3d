/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 */
import { afterAll, describe, expect, it } from 'vitest';

// #region readme
import { checkInclusionProof, createAuditLog, createNoteSigner, createSanitizer, createSqliteAuditStore, formatVerifierKey, parseVerifierKey } from '@baton/audit';
import { generateKeyPair, randomBytes, randomId } from '@baton/core';

const origin = 'acme.example/baton/audit';
const logKey = generateKeyPair(); // the checkpoint-signing key (the authority keeps it in a 0600 file)
const log = await createAuditLog({
  store: await createSqliteAuditStore({ path: ':memory:' }), // a file path in production
  origin,
  signer: createNoteSigner(origin, logKey),
  sanitizer: createSanitizer({ key: randomBytes(32) }), // keyed hashes for principals and free text
});

const [denied] = await log.append([
  {
    eventId: randomId(),
    time: Date.now(),
    type: 'validation.denied',
    source: 'guard:payments',
    outcome: 'deny',
    agent: 'spiffe://baton.local/agent/orch-1/inv-7/q3LbX0Zs8kTz1aWcVbN2yA',
    principal: 'user:vp@acme.example', // stored only as a keyed hash
    action: 'approve',
    resource: 'payments',
    reasonCode: 'ERR_CONSTRAINT_VIOLATED',
    reasonDetail: 'amount 6000 exceeds max 5000',
  },
]);

// Anyone holding the log's public key can check that the entry is in the signed tree.
const verifierKey = formatVerifierKey(origin, logKey.publicKey); // what GetTrustBundle.log_authorities publishes
const proof = await log.inclusionProof(denied!.sequence);
const checkpoint = checkInclusionProof(proof, parseVerifierKey(verifierKey)); // throws ERR_MERKLE_PROOF_INVALID / ERR_CHECKPOINT_INVALID
const report = await log.verify(); // hash chain + Merkle root + every stored checkpoint: { ok: true, entries: 1, … }
// #endregion

afterAll(() => log.close());

describe('README example: an audit log that proves itself', () => {
  it('appends, proves inclusion against a signed checkpoint, and verifies', () => {
    expect(denied).toMatchObject({ status: 'accepted', sequence: 1 });
    expect(proof.entry.event.principal).toMatch(/^kh:/);
    expect(proof.entry.event.reasonDetail).toBe('amount 6000 exceeds max 5000');
    expect(checkpoint).toMatchObject({ origin, size: 1 });
    expect(report).toMatchObject({ ok: true, entries: 1 });
  });

  it('refuses the proof under another key and for a tampered entry', () => {
    const stranger = parseVerifierKey(formatVerifierKey(origin, generateKeyPair().publicKey));
    expect(() => checkInclusionProof(proof, stranger)).toThrow(expect.objectContaining({ code: 'ERR_CHECKPOINT_INVALID' }));
    const tampered = { ...proof.entry, event: { ...proof.entry.event, reasonCode: 'ERR_SCOPE_DENIED' } };
    expect(() => checkInclusionProof({ ...proof, entry: tampered }, parseVerifierKey(verifierKey))).toThrow(expect.objectContaining({ code: 'ERR_MERKLE_PROOF_INVALID' }));
  });
});
