/**
 * Integration proof (issue 7): a client that knows Baton only through `proto/` and the
 * documented formats. The contracts are loaded at run time with @grpc/proto-loader; every
 * signature, proof, registration message and delegation hop is built by hand with
 * node:crypto (./third-party-client.ts). Baton code is used only to locate and start the
 * authority process. This file is the worked example of docs/integration.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnReady, stopAllProcesses } from '../support/processes.js';
import {
  CallFailed,
  ThirdPartyClient,
  b64u,
  canonicalJson,
  claimsOf,
  dpop,
  keyProof,
  newKey,
  sha256,
  sha256B64u,
  signJws,
  thumbprintOf,
  type Ed25519Key,
} from './third-party-client.js';

const IDENTITY = 'baton.identity.v1.IdentityService';
const ISSUER = 'baton.issuer.v1.IssuerService';
const DELEGATION = 'baton.delegation.v1.DelegationService';
const AUDIT = 'baton.audit.v1.AuditService';

const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const WORKFLOW = 'expense-approval';
const ORCHESTRATOR = 'orch-pl';
const TASK = 'inv-7';
const PRINCIPAL = 'user:vp@acme.example';
const CEILING = [
  { action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 10_000 } } },
  { action: 'read', resource: 'invoices' },
];

interface Registered {
  readonly key: Ed25519Key;
  readonly spiffeId: string;
  token: string;
}

let dir: string;
let client: ThirdPartyClient;
const operator = newKey();
const orchestrator = newKey();

/** The failure of a call that must fail. */
async function failureOf(p: Promise<unknown>): Promise<CallFailed> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CallFailed) return err;
    throw err;
  }
  throw new Error('the call succeeded');
}

/** The registration message: "baton-register-v1\n" || nonce || SHA-256(launch token) || public key. */
function registrationMessage(nonce: Buffer, launchToken: string, publicKey: Buffer): Buffer {
  return Buffer.concat([Buffer.from('baton-register-v1\n', 'utf8'), nonce, sha256(launchToken), publicKey]);
}

async function mintLaunchToken(): Promise<string> {
  const res = await client.call<{ launch_token: string }>(
    IDENTITY,
    'CreateLaunchToken',
    { workflow_id: WORKFLOW, task_id: TASK, principal: PRINCIPAL, audiences: ['payments'] },
    keyProof(orchestrator),
  );
  return res.launch_token;
}

async function register(name: string, launchToken: string, key = newKey()): Promise<Registered> {
  const { nonce } = await client.call<{ nonce: Buffer }>(IDENTITY, 'GetChallenge', {});
  const signature = crypto.sign(null, registrationMessage(nonce, launchToken, key.raw), key.privateKey);
  const res = await client.call<{ spiffe_id: string; access_token: string }>(IDENTITY, 'Register', {
    launch_token: launchToken,
    public_key: key.raw,
    nonce,
    signature,
    name,
  });
  return { key, spiffeId: res.spiffe_id, token: res.access_token };
}

/** A token's scopes in hop form: `action:resource[:id]`, or `[that, constraints]`. */
function hopScopesOf(claims: Record<string, unknown>): unknown[] {
  const structured = claims['scopes'] as { action: string; resource: string; id?: string; constraints?: object }[] | undefined;
  if (structured === undefined) return String(claims['scope']).split(' ');
  return structured.map((s) => {
    const text = [s.action, s.resource, ...(s.id === undefined ? [] : [s.id])].join(':');
    return s.constraints === undefined ? text : [text, s.constraints];
  });
}

/**
 * Hop 1 from the holder of a root token to `to`, per packages/delegation/README.md: header
 * and payload in canonical JSON, `kid` = the signer's thumbprint, `prv` = SHA-256 of the
 * root token, `rt` = what the root token says, signed by its holder.
 */
function signFirstHop(from: Registered, to: Registered, scp: unknown[], exp: number, signer = from.key.privateKey): string {
  const c = claimsOf(from.token);
  const payload = {
    iss: from.spiffeId,
    sub: to.spiffeId,
    k: to.key.x,
    scp,
    exp,
    prv: sha256B64u(from.token),
    dep: 1,
    pri: c['principal'],
    tsk: `${String(c['orch_id'])}/${String(c['task_id'])}`,
    rt: { jti: c['jti'], k: from.key.x, scp: hopScopesOf(c), exp: c['exp'] },
  };
  const input = `${b64u(canonicalJson({ alg: 'EdDSA', kid: from.key.jkt, typ: 'baton-hop+jwt' }))}.${b64u(canonicalJson(payload))}`;
  return `${input}.${b64u(crypto.sign(null, Buffer.from(input, 'ascii'), signer))}`;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-proto-loader-'));
  const config = path.join(dir, 'authority.json');
  fs.writeFileSync(
    config,
    JSON.stringify({ dataDir: 'data', listen: '127.0.0.1:0', operators: [{ id: 'third-party', jwk: { kty: 'OKP', crv: 'Ed25519', x: operator.x } }] }),
    { mode: 0o600 },
  );
  // Test setup only: find the authority's entry point through its package and start it.
  const require = createRequire(import.meta.url);
  const script = path.join(path.dirname(require.resolve('@baton/authority')), 'main.js');
  const authority = await spawnReady({ name: 'authority', script, args: ['--config', config] });
  client = new ThirdPartyClient(String(authority.first['address']), PROTO_DIR);
});

afterAll(async () => {
  client?.close();
  await stopAllProcesses();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a third-party client built from proto/ alone', () => {
  let manager: Registered;
  let intern: Registered;
  let child: string;
  let chainHash: string;

  it('the operator creates a workflow and an orchestrator, each call signed over its exact request bytes', async () => {
    const created = await client.call<{ workflow: { id: string; policy: { max_delegation_depth: number; default_token_ttl_seconds: number } } }>(
      IDENTITY,
      'CreateWorkflow',
      { id: WORKFLOW, policy: { scope_ceiling: CEILING, audiences: ['payments'], max_task_ttl_seconds: 600 } },
      keyProof(operator),
    );
    expect(created.workflow.id).toBe(WORKFLOW);
    // Every default is stored explicitly.
    expect(created.workflow.policy.max_delegation_depth).toBe(5);
    expect(created.workflow.policy.default_token_ttl_seconds).toBe(300);

    const added = await client.call<{ key_thumbprint: string }>(
      IDENTITY,
      'AddOrchestrator',
      { id: ORCHESTRATOR, public_key: orchestrator.raw, workflow_ids: [WORKFLOW] },
      keyProof(operator),
    );
    expect(added.key_thumbprint).toBe(thumbprintOf(orchestrator.x));
  });

  it('refuses a key proof whose rh names other bytes, a proof without rh, and an unknown key', async () => {
    const listPath = client.method(IDENTITY, 'ListWorkflows').path;
    const otherBytes = client.method(IDENTITY, 'ListWorkflows').requestSerialize({ page_size: 7 });
    const moved = await failureOf(client.call(IDENTITY, 'ListWorkflows', { page_size: 1 }, () => keyProof(operator)(listPath, otherBytes)));
    expect(moved.problem?.code).toBe('ERR_PROOF_REQUEST_MISMATCH');

    const noRh = signJws(
      { alg: 'EdDSA', typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: operator.x } },
      { jti: b64u(crypto.randomBytes(16)), htm: 'POST', htu: listPath, iat: Math.floor(Date.now() / 1000) },
      operator.privateKey,
    );
    expect((await failureOf(client.call(IDENTITY, 'ListWorkflows', {}, () => ({ 'baton-proof': noRh })))).problem?.code).toBe('ERR_PROOF_REQUEST_MISMATCH');

    // The orchestrator's key proves itself, but it is not an operator.
    const stranger = await failureOf(client.call(IDENTITY, 'ListWorkflows', {}, keyProof(orchestrator)));
    expect(stranger.problem?.code).toBe('ERR_PERMISSION_DENIED');
  });

  it('the orchestrator mints launch tokens and two agents register with hand-signed challenges', async () => {
    const launchToken = await mintLaunchToken();
    expect(launchToken).toMatch(/^blt_[A-Za-z0-9_-]{43}$/);

    // A signature over the hex text of the parts instead of the raw bytes is refused, and
    // a refused registration consumes nothing: the launch token still works afterwards.
    const key = newKey();
    const { nonce } = await client.call<{ nonce: Buffer }>(IDENTITY, 'GetChallenge', {});
    const wrongMessage = Buffer.from(`baton-register-v1\n${nonce.toString('hex')}${sha256(launchToken).toString('hex')}${key.raw.toString('hex')}`);
    const refused = await failureOf(
      client.call(IDENTITY, 'Register', { launch_token: launchToken, public_key: key.raw, nonce, signature: crypto.sign(null, wrongMessage, key.privateKey) }),
    );
    expect(refused.problem?.code).toBe('ERR_REGISTRATION_SIGNATURE_INVALID');

    manager = await register('manager', launchToken, key);
    intern = await register('intern', await mintLaunchToken());
    for (const agent of [manager, intern]) {
      expect(agent.spiffeId).toMatch(new RegExp(`^spiffe://baton\\.local/agent/${ORCHESTRATOR}/${TASK}/[A-Za-z0-9_-]{16,64}$`));
      const claims = claimsOf(agent.token);
      expect(claims['sub']).toBe(agent.spiffeId);
      expect(claims['cnf']).toEqual({ jkt: agent.key.jkt });
      expect(claims['principal']).toBe(PRINCIPAL);
    }

    // Single use: the same launch token a second time.
    const replay = await failureOf(register('manager', launchToken));
    expect(replay.problem?.code).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
  });

  it('the agent renews its token with a DPoP proof; another key cannot use it', async () => {
    const renewed = await client.call<{ access_token: string; renewals_left: number }>(ISSUER, 'Renew', {}, dpop(manager.key, manager.token));
    const before = claimsOf(manager.token);
    const after = claimsOf(renewed.access_token);
    expect(after['sub']).toBe(before['sub']);
    expect(after['cnf']).toEqual(before['cnf']);
    expect(after['jti']).not.toBe(before['jti']);
    expect(after['rnw']).toBe(1);

    // The old token died with the renewal; the new one is useless with anyone else's key.
    expect((await failureOf(client.call(ISSUER, 'Renew', {}, dpop(manager.key, manager.token)))).problem?.code).toBe('ERR_TOKEN_REVOKED');
    expect((await failureOf(client.call(ISSUER, 'Renew', {}, dpop(intern.key, renewed.access_token)))).problem?.code).toBe('ERR_PROOF_KEY_MISMATCH');
    manager.token = renewed.access_token;

    const introspected = await client.call<{ active: boolean; sub: string; cnf_jkt: string }>(ISSUER, 'Introspect', { token: manager.token });
    expect(introspected).toMatchObject({ active: true, sub: manager.spiffeId, cnf_jkt: manager.key.jkt });
  });

  it('the manager delegates to the intern with a hop built and signed by hand; the chain hash is recomputed by hand', async () => {
    const exp = Number(claimsOf(manager.token)['exp']);
    const hop = signFirstHop(manager, intern, [['approve:payments', { amount: { max: 5000, min: 0 } }]], exp);
    const res = await client.call<{ access_token: string; chain_hash: string; depth: number; hop_hash: string }>(
      DELEGATION,
      'Delegate',
      { hop },
      dpop(manager.key, manager.token),
    );
    child = res.access_token;
    chainHash = res.chain_hash;
    expect(res.depth).toBe(1);
    expect(res.hop_hash).toBe(sha256B64u(hop));
    // Chain hash: H0 = SHA-256(root token), H1 = SHA-256(canonical {c: H0, h: hop hash, v}).
    expect(res.chain_hash).toBe(sha256B64u(canonicalJson({ c: sha256B64u(manager.token), h: sha256B64u(hop), v: 'baton-chain/v1' })));

    const c = claimsOf(child);
    expect(c['sub']).toBe(intern.spiffeId);
    expect(c['cnf']).toEqual({ jkt: intern.key.jkt });
    expect(c['act']).toEqual({ sub: manager.spiffeId });
    expect(c['del']).toMatchObject({ ch: res.chain_hash, d: 1, root: { jti: claimsOf(manager.token)['jti'], th: sha256B64u(manager.token) } });
    expect(c['scopes']).toEqual([{ action: 'approve', resource: 'payments', constraints: { amount: { max: 5000, min: 0 } } }]);
  });

  it('refuses an escalating hop with ERR_SCOPE_ESCALATION in grpc-status-details-bin', async () => {
    const exp = Number(claimsOf(manager.token)['exp']);
    const hop = signFirstHop(manager, intern, [['approve:payments', { amount: { max: 50_000, min: 0 } }]], exp);
    const failed = await failureOf(client.call(DELEGATION, 'Delegate', { hop }, dpop(manager.key, manager.token)));
    expect(failed.grpcCode).toBe(7); // PERMISSION_DENIED
    expect(failed.trailerCode).toBe('ERR_SCOPE_ESCALATION');
    expect(failed.problem).toMatchObject({
      type: 'urn:baton:error:scope-escalation',
      title: 'Requested authority exceeds what is held',
      status: 403,
      code: 'ERR_SCOPE_ESCALATION',
    });

    // The same hop signed by any key but the one the root token is bound to.
    const forged = signFirstHop(manager, intern, ['read:invoices'], exp, intern.key.privateKey);
    expect((await failureOf(client.call(DELEGATION, 'Delegate', { hop: forged }, dpop(manager.key, manager.token)))).problem?.code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
  });

  it('verifies the delegated token online and checks the request against its narrowed constraints', async () => {
    const request = (amount: number) => ({
      access_token: child,
      action: 'approve',
      resource: 'payments',
      attributes: [{ key: 'amount', value: { number_value: amount } }],
    });
    const ok = await client.call<{ valid: boolean; principal: string; agents: string[]; depth: number }>(DELEGATION, 'Verify', request(4000));
    expect(ok).toMatchObject({ valid: true, principal: PRINCIPAL, depth: 1 });
    expect(ok.agents).toEqual([manager.spiffeId, intern.spiffeId]);

    const over = await client.call<{ valid: boolean; code: string }>(DELEGATION, 'Verify', request(6000));
    expect(over).toMatchObject({ valid: false, code: 'ERR_CONSTRAINT_VIOLATED' });
  });

  it('the operator queries audit and proves an entry against a signed checkpoint, all by hand', async () => {
    type Entry = { sequence: string; logged_at: string; prev_hash: string; event_hash: string; event: Record<string, unknown> & { outcome: string; reason_code: string } };
    const query = async (type: string): Promise<Entry[]> =>
      (await client.call<{ entries: Entry[] }>(AUDIT, 'Query', { filter: { type, workflow: WORKFLOW }, page_size: 50 }, keyProof(operator))).entries;

    // Services ship events through a durable spool: wait until they have arrived.
    const granted = await vi.waitFor(
      async () => {
        const entries = await query('delegation.granted');
        expect(entries.length).toBeGreaterThan(0);
        return entries[0]!;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(granted.event).toMatchObject({ outcome: 'OUTCOME_ALLOW', chain_hash: chainHash, delegation_depth: 1 });
    const denied = await vi.waitFor(
      async () => {
        const entries = (await query('delegation.denied')).filter((e) => e.event.reason_code === 'ERR_SCOPE_ESCALATION');
        expect(entries.length).toBeGreaterThan(0);
        return entries[0]!;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(denied.event.outcome).toBe('OUTCOME_DENY');

    // The hash chain: event_hash = hex SHA-256 of the canonical JSON of the entry.
    for (const entry of [granted, denied]) {
      const e = entry.event;
      const hashed = {
        v: 1,
        sequence: Number(entry.sequence),
        logged_at: Number(entry.logged_at),
        prev_hash: entry.prev_hash,
        ...Object.fromEntries(Object.entries(e).map(([k, v]) => [k, ['time', 'first_time', 'last_time'].includes(k) ? Number(v) : v])),
        outcome: { OUTCOME_ALLOW: 'allow', OUTCOME_DENY: 'deny', OUTCOME_INFO: 'info' }[e.outcome],
      };
      expect(sha256(canonicalJson(hashed)).toString('hex')).toBe(entry.event_hash);
    }

    // Audit reads are operator-only.
    expect((await failureOf(client.call(AUDIT, 'Query', { page_size: 1 }, keyProof(orchestrator)))).problem?.code).toBe('ERR_PERMISSION_DENIED');

    // The checkpoint key comes from the trust bundle: `<name>+<key id hex>+<base64(0x01 || key)>`.
    const bundle = await client.call<{ log_authorities: string }>(IDENTITY, 'GetTrustBundle', {});
    // The base64 key may itself contain '+': split on the first two only.
    const [name, keyIdHex, ...rest] = bundle.log_authorities.trim().split('\n')[0]!.split('+');
    const logKeyBytes = Buffer.from(rest.join('+'), 'base64');
    expect(logKeyBytes[0]).toBe(0x01);
    const logKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(logKeyBytes.subarray(1)) }, format: 'jwk' });

    // Proofs and checkpoints are public: anyone may check them.
    const proof = await client.call<{ leaf_index: string; tree_size: string; hashes: Buffer[]; leaf_hash: Buffer; checkpoint: string }>(AUDIT, 'GetInclusionProof', {
      sequence: granted.sequence,
      tree_size: '0',
    });

    // Signed note: text, a blank line, then "— <name> <base64(key id || signature)>".
    const [text, signatures] = proof.checkpoint.split('\n\n') as [string, string];
    const line = signatures.split('\n').find((l) => l.startsWith(`\u2014 ${name} `))!;
    const sig = Buffer.from(line.split(' ')[2]!, 'base64');
    expect(sig.subarray(0, 4).toString('hex')).toBe(keyIdHex);
    expect(crypto.verify(null, Buffer.from(`${text}\n`, 'utf8'), logKey, sig.subarray(4))).toBe(true);
    const [origin, size, rootB64] = text.split('\n');
    expect(origin).toBe(name);
    expect(size).toBe(proof.tree_size);

    // RFC 9162 inclusion: leaf = SHA-256(0x00 || event hash), nodes SHA-256(0x01 || l || r).
    const leaf = sha256(Buffer.concat([Buffer.from([0]), Buffer.from(granted.event_hash, 'hex')]));
    expect(proof.leaf_hash.equals(leaf)).toBe(true);
    let fn = Number(proof.leaf_index);
    let sn = Number(proof.tree_size) - 1;
    let r = leaf;
    for (const p of proof.hashes) {
      if (sn === 0) throw new Error('proof too long');
      if (fn % 2 === 1 || fn === sn) {
        r = sha256(Buffer.concat([Buffer.from([1]), p, r]));
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else {
        r = sha256(Buffer.concat([Buffer.from([1]), r, p]));
      }
      fn >>= 1;
      sn >>= 1;
    }
    expect(sn).toBe(0);
    expect(r.toString('base64')).toBe(rootB64);
  });
});
