/**
 * `baton audit verify` (the whole log: online with the Verify RPC, or offline on a SQLite
 * file with progress) and `baton audit prove <sequence>` (an inclusion proof checked
 * locally against a signed checkpoint).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  checkInclusionProof,
  createNoteVerifier,
  createSqliteAuditStore,
  leafHashOf,
  parseCheckpointText,
  parseVerifierKey,
  verifyInclusion,
  verifyLogFile,
  type NoteVerifier,
} from '@baton/audit';
import { importPublicJwk, isBatonError, parseJsonStrict } from '@baton/core';
import { EXIT, failure, fileError, withHint } from '../cli-error.js';
import { list, str, type CommandSpec } from '../command-spec.js';
import { CONNECTION_DEFAULTS, baseDir, loadKey, withConnection, type Connection } from '../connection.js';
import { entryView, parseSequence } from '../audit-view.js';

function hex(b: Uint8Array | undefined): string {
  return b && b.length ? Buffer.from(b).toString('hex') : '';
}

function verifiersFrom(keys: readonly string[]): NoteVerifier[] {
  return keys.map((k) => {
    try {
      return parseVerifierKey(k.trim());
    } catch (err) {
      if (isBatonError(err)) throw withHint(err, 'a log key is a signed-note verifier key: <name>+<8 hex key id>+<base64 key>');
      throw err;
    }
  });
}

/** The log's checkpoint keys from the trust bundle (JWKS), named after the checkpoint's origin. */
async function bundleVerifiers(c: Connection, origin: string): Promise<NoteVerifier[]> {
  try {
    const bundle = await c.identity().getTrustBundle({});
    if (!bundle.logAuthorities) return [];
    const jwks = parseJsonStrict(bundle.logAuthorities) as { keys?: unknown[] };
    return (jwks.keys ?? []).map((jwk) => createNoteVerifier(origin, importPublicJwk({ ...(jwk as object), kid: undefined, alg: undefined, use: undefined })));
  } catch {
    return [];
  }
}

/**
 * The authority keeps its checkpoint key beside the operator key (`<dir>/keys/audit-log.jwk`):
 * on the authority's own host the CLI can authenticate checkpoints without being told the key.
 */
function localVerifiers(dir: string, origin: string | undefined): NoteVerifier[] {
  const file = path.join(dir, path.dirname(CONNECTION_DEFAULTS.operatorKey), 'audit-log.jwk');
  if (origin === undefined || !fs.existsSync(file)) return [];
  try {
    return [createNoteVerifier(origin, loadKey(file, 'audit log key').publicKey)];
  } catch {
    return [];
  }
}

/** The origin line of the newest checkpoint stored in a log file, if any. */
async function storedOrigin(file: string): Promise<string | undefined> {
  const store = await createSqliteAuditStore({ path: file, readonly: true });
  try {
    const cps = await store.checkpoints();
    const note = cps[cps.length - 1]?.note;
    return note === undefined ? undefined : note.slice(0, note.indexOf('\n'));
  } catch {
    return undefined;
  } finally {
    await store.close();
  }
}

const LOG_KEY_OPTION = { type: 'string', multiple: true, value: '<verifier-key>', description: 'trusted checkpoint key (signed-note verifier key)' } as const;

export const auditVerifyCommand: CommandSpec = {
  path: ['audit', 'verify'],
  summary: 'Verify the audit log: hash chain, sequence and Merkle roots against signed checkpoints.',
  description:
    'Online (default) the authority verifies its log (Verify RPC, operator key). With --file the SQLite log file is verified here, read-only, with progress: every entry\'s hash and link, and the Merkle root against each stored checkpoint (authenticated when --log-key is given) and any --checkpoint obtained elsewhere. Exit status 0 only when the log verifies.',
  positionals: [],
  options: {
    file: { type: 'string', value: '<sqlite-file>', description: 'verify this log file offline instead of asking the authority', default: 'online' },
    'log-key': { ...LOG_KEY_OPTION, default: "<dir>/keys/audit-log.jwk when present, else checkpoints are compared but not authenticated" },
    checkpoint: { type: 'string', multiple: true, value: '<file>', description: 'a signed checkpoint obtained outside the file (needs --log-key)', default: 'none' },
    from: { type: 'string', value: '<sequence>', description: 'online: first entry to verify', default: '1' },
    to: { type: 'string', value: '<sequence>', description: 'online: last entry to verify', default: 'the last' },
  },
  client: true,
  examples: ['baton audit verify', 'baton audit verify --file copy-of-audit.db --log-key "$LOG_KEY"'],
  async run(input, ctx) {
    const file = str(input, 'file');
    if (file !== undefined) {
      const p = path.resolve(ctx.io.cwd, file);
      if (!fs.existsSync(p)) throw fileError(Object.assign(new Error('missing'), { code: 'ENOENT' }), p, 'log file');
      const given = verifiersFrom(list(input, 'log-key'));
      const verifiers = given.length ? given : localVerifiers(baseDir(input, ctx.io), await storedOrigin(p));
      const checkpoints = list(input, 'checkpoint').map((f) => {
        const cp = path.resolve(ctx.io.cwd, f);
        try {
          return fs.readFileSync(cp, 'utf8');
        } catch (err) {
          throw fileError(err, cp, 'checkpoint file');
        }
      });
      if (checkpoints.length > 0 && verifiers.length === 0) throw failure('ERR_INVALID_ARGUMENT', '--checkpoint needs --log-key to authenticate it');
      const r = await verifyLogFile(p, { verifiers, checkpoints, onProgress: (n, seq) => ctx.out.progress(`verified ${n} entries (up to #${seq})…`) });
      const code = r.firstBad ? 'ERR_LOG_TAMPERED' : r.ok ? undefined : 'ERR_CHECKPOINT_INVALID';
      const doc = {
        ok: r.ok,
        ...(code ? { code } : {}),
        file: p,
        entries: r.entries,
        lastSequence: r.lastSequence,
        rootHash: hex(r.rootHash),
        checkpointSize: r.checkpointSize,
        checkpointsUsed: r.checkpointsUsed,
        checkpointsAuthenticated: r.checkpointsAuthenticated,
        rejectedCheckpoints: r.rejectedCheckpoints,
        ...(r.firstBad ? { firstBad: r.firstBad } : {}),
      };
      ctx.out.result(doc, () =>
        [
          r.ok ? `✓ ${r.entries} entries verified in ${path.relative(ctx.io.cwd, p) || p}` : `✗ log verification failed (${code})`,
          ...(r.firstBad ? [`  first bad entry #${r.firstBad.sequence}: ${r.firstBad.problem} (${r.firstBad.detail})`] : []),
          `  Merkle root ${doc.rootHash || '-'} over ${r.lastSequence} entries`,
          `  checkpoints: ${r.checkpointsUsed} stored used (${r.checkpointsAuthenticated ? 'signatures verified' : 'signatures NOT checked: pass --log-key'}), largest matched at size ${r.checkpointSize}`,
          ...r.rejectedCheckpoints.map((c) => `  ✗ checkpoint at size ${c.size} rejected: ${c.code}`),
        ].join('\n'),
      );
      return r.ok ? EXIT.ok : EXIT.failure;
    }
    const from = str(input, 'from');
    const to = str(input, 'to');
    const r = await withConnection(input, ctx, (c) =>
      c.audit().verify({ fromSequence: from === undefined ? 0n : parseSequence(from, '--from'), toSequence: to === undefined ? 0n : parseSequence(to, '--to') }),
    );
    const doc = { ok: r.ok, entries: Number(r.entries), rootHash: hex(r.rootHash), ...(r.ok ? {} : { firstBadSequence: Number(r.firstBadSequence), problem: r.problem, code: 'ERR_LOG_TAMPERED' }) };
    ctx.out.result(doc, () =>
      r.ok
        ? `✓ ${doc.entries} entries verified by ${ctx.facts.authority}\n  Merkle root ${doc.rootHash || '-'}`
        : `✗ log verification failed (ERR_LOG_TAMPERED)\n  first bad entry #${doc.firstBadSequence}: ${r.problem}`,
    );
    return r.ok ? EXIT.ok : EXIT.failure;
  },
};

export const auditProveCommand: CommandSpec = {
  path: ['audit', 'prove'],
  summary: 'Prove that one audit entry is in the log (inclusion proof against a signed checkpoint).',
  description:
    'Fetches the inclusion proof of the entry and checks it here: the proof leads to the checkpoint\'s Merkle root, the checkpoint is signed by a trusted log key (--log-key, else the trust bundle\'s, else the authority\'s own key file in --dir), and the proven leaf is the entry\'s hash. Exit status 0 only when all hold.',
  positionals: [{ name: 'sequence', description: 'sequence number of the entry' }],
  options: {
    'tree-size': { type: 'string', value: '<n>', description: 'prove against the checkpoint of this size', default: 'the latest checkpoint' },
    'log-key': { ...LOG_KEY_OPTION, default: "the trust bundle's log keys, else <dir>/keys/audit-log.jwk" },
  },
  client: true,
  examples: ['baton audit prove 42', 'baton audit prove 42 --log-key "$LOG_KEY" --json'],
  async run(input, ctx) {
    const sequence = parseSequence(input.positionals[0]!, '<sequence>');
    const size = str(input, 'tree-size');
    const treeSize = size === undefined ? 0n : parseSequence(size, '--tree-size');
    const given = verifiersFrom(list(input, 'log-key'));
    const out = await withConnection(input, ctx, async (c) => {
      const proof = await c.audit().getInclusionProof({ sequence, treeSize });
      if (!proof.checkpoint) throw failure('ERR_CHECKPOINT_INVALID', `no signed checkpoint at size ${proof.treeSize}`, 'omit --tree-size to prove against the latest checkpoint');
      const cp = parseCheckpointText(proof.checkpoint.slice(0, proof.checkpoint.indexOf('\n\n') + 1));
      let verifiers = given.length ? given : await bundleVerifiers(c, cp.origin);
      if (verifiers.length === 0) verifiers = localVerifiers(c.dir, cp.origin);
      const entry = await c
        .audit()
        .query({ filter: { fromSequence: sequence }, pageSize: 1 })
        .then((r) => (r.entries[0] && r.entries[0].sequence === sequence ? r.entries[0] : undefined))
        .catch(() => undefined);
      return { proof, cp, verifiers, entry };
    });
    const { proof, cp, verifiers, entry } = out;
    const input2 = { leafIndex: Number(proof.leafIndex), treeSize: Number(proof.treeSize), leafHash: proof.leafHash, hashes: proof.hashes, checkpoint: proof.checkpoint };
    const pathOk = verifyInclusion(input2.leafIndex, input2.treeSize, input2.leafHash, input2.hashes, cp.rootHash) && cp.size === input2.treeSize;
    let authenticated: boolean | string = false;
    if (verifiers.length > 0) {
      try {
        checkInclusionProof(input2, verifiers);
        authenticated = true;
      } catch (err) {
        authenticated = isBatonError(err) ? err.code : 'ERR_CHECKPOINT_INVALID';
      }
    }
    const leafMatches = entry ? leafHashOf(entry.eventHash).equals(Buffer.from(proof.leafHash)) : undefined;
    const ok = pathOk && authenticated === true && leafMatches !== false;
    const code = !pathOk || leafMatches === false ? 'ERR_MERKLE_PROOF_INVALID' : authenticated === true ? null : typeof authenticated === 'string' ? authenticated : 'ERR_CHECKPOINT_INVALID';
    const doc = {
      ok,
      code,
      sequence: Number(sequence),
      leafIndex: input2.leafIndex,
      treeSize: input2.treeSize,
      rootHash: hex(cp.rootHash),
      leafHash: hex(proof.leafHash),
      proof: proof.hashes.map(hex),
      proofBytes: proof.hashes.reduce((n, h) => n + h.length, 0),
      checkpoint: proof.checkpoint,
      checkpointAuthenticated: authenticated === true,
      ...(entry ? { entry: entryView(entry) } : {}),
    };
    ctx.out.result(doc, () =>
      [
        ok ? `✓ entry #${doc.sequence} is in the log of ${doc.treeSize} entries` : `✗ inclusion of entry #${doc.sequence} not proven (${code})`,
        `  ${pathOk ? '✓' : '✗'} proof of ${proof.hashes.length} hashes (${doc.proofBytes} bytes) leads to root ${doc.rootHash}`,
        `  ${authenticated === true ? '✓ checkpoint signed by a trusted log key' : verifiers.length ? `✗ checkpoint signature not trusted (${String(authenticated)})` : '- checkpoint signature not checked: no log key (pass --log-key)'}`,
        `  ${leafMatches === undefined ? '- entry not readable with this key; leaf not compared' : leafMatches ? `✓ leaf is the hash of entry #${doc.sequence} (${entry!.event?.type ?? ''})` : '✗ leaf is not the entry\'s hash'}`,
      ].join('\n'),
    );
    return ok ? EXIT.ok : EXIT.failure;
  },
};
