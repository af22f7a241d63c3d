/**
 * Churn: agents registering, renewing, releasing and being revoked without pause against
 * an in-process identity + issuer over one SQLite file, sampling process RSS and store
 * size (file bytes and live rows) as it runs. Both must stay flat: every table is pruned
 * (revocation entries when all they cover expired, tokens, launch tokens, challenges,
 * agents after their retention). Retention and lifetimes are shortened here (10 s tokens,
 * 15 s tasks, 10 s retention, 1 s sweeps) so the steady state arrives within a minute;
 * with production defaults it arrives after the longest retention (one hour for agents).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { generateKeyPair, registrationMessage, signBytes, type KeyPair } from '@baton/core';
import { createGuard, dpopMetadata, jwksFromIssuer, keyProofMetadata, type MethodRef } from '@baton/guard';
import { createIdentity, type Identity } from '@baton/identity';
import { createIssuer, memoryKeyRing, type Issuer } from '@baton/issuer';
import { createClient, createServer, type BatonServer, type Client } from '@baton/proto';
import {
  AddOrchestratorRequestSchema,
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  IdentityService,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService, RevocationLevel, RevocationReason, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase, type SqlDatabase } from '@baton/store';
import { row, summarize, type BenchRow } from './harness.js';

const ISSUER = 'spiffe://baton.local/authority';
const TD = 'baton.local';
const TABLES = ['issuer_tokens', 'issuer_revocations', 'issuer_references', 'identity_launch_tokens', 'identity_nonces', 'identity_agents'] as const;

/** Options of {@link benchChurn}. */
export interface ChurnOptions {
  /** How long to churn, ms (the issue's figure: 10 minutes). */
  readonly durationMs: number;
  /** Interval between samples, ms. Default durationMs / 20, at least 1000. */
  readonly sampleEveryMs?: number;
  /** Agent lifecycles run concurrently. Default 8. */
  readonly concurrency?: number;
  /** Called with each sample as it is taken (progress output). */
  readonly onSample?: (sample: ChurnSample) => void;
}

/** One measurement during the churn. */
export interface ChurnSample {
  /** Since the churn started, ms. */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** SQLite database plus WAL file. */
  readonly storeBytes: number;
  /** Live rows per table. */
  readonly rows: Readonly<Record<(typeof TABLES)[number], number>>;
  /** Agent lifecycles completed so far. */
  readonly lifecycles: number;
}

/** What {@link benchChurn} measured. */
export interface ChurnResult {
  readonly samples: readonly ChurnSample[];
  readonly lifecycles: number;
  readonly durationMs: number;
}

interface Stack {
  readonly db: SqlDatabase;
  readonly file: string;
  readonly issuer: Issuer;
  readonly identity: Identity;
  readonly server: BatonServer;
  readonly idc: Client<typeof IdentityService>;
  readonly isc: Client<typeof IssuerService>;
  readonly operator: KeyPair;
  readonly orchestrator: KeyPair;
  close(): Promise<void>;
}

const proof = <M extends DescMessage>(key: KeyPair, method: MethodRef, schema: M, req: MessageInitShape<M>) =>
  keyProofMetadata(key, method, toBinary(schema, create(schema, req)));

async function startStack(): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-churn-'));
  const file = path.join(dir, 'authority.db');
  const db = await openDatabase(`sqlite:${file}`);
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  const identityKey = generateKeyPair();
  const operators = new Map([[operator.thumbprint, 'bench']]);
  const issuer = await createIssuer({
    db,
    keyRing: memoryKeyRing(),
    issuer: ISSUER,
    trustDomain: TD,
    operators,
    services: new Map([[identityKey.thumbprint, 'identity']]),
    pruneIntervalMs: 1000,
  });
  const server = createServer({ tracing: false });
  server.addService(IssuerService, issuer.service);
  const address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  const isc = createClient(IssuerService, address, { tracing: false });
  const idc = createClient(IdentityService, address, { tracing: false });
  const identity = await createIdentity({
    db,
    trustDomain: TD,
    issuer: ISSUER,
    issuerClient: isc,
    serviceKey: identityKey,
    operators,
    guard: createGuard({ audience: ISSUER, issuer: ISSUER, keys: jwksFromIssuer(isc) }),
    sweepIntervalMs: 1000,
    launchTokenRetentionMs: 10_000,
    agentRetentionMs: 10_000,
  });
  server.addService(IdentityService, identity.service);
  const wf: MessageInitShape<typeof CreateWorkflowRequestSchema> = {
    id: 'churn',
    policy: { scopeCeiling: [{ action: 'read', resource: 'invoice' }], maxTokenTtlSeconds: 10, maxTaskTtlSeconds: 15, audiences: ['payments'] },
  };
  await idc.createWorkflow(wf, { metadata: proof(operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf) });
  const orch: MessageInitShape<typeof AddOrchestratorRequestSchema> = { id: 'orch-churn', publicKey: orchestrator.rawPublicKey, workflowIds: ['churn'] };
  await idc.addOrchestrator(orch, { metadata: proof(operator, IdentityService.method.addOrchestrator, AddOrchestratorRequestSchema, orch) });
  return {
    db,
    file,
    issuer,
    identity,
    server,
    idc,
    isc,
    operator,
    orchestrator,
    async close() {
      await identity.close();
      idc.close();
      isc.close();
      await issuer.close();
      await server.shutdown(0);
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One agent's life: launch, register, renew, then release, be revoked, or just expire. */
async function lifecycle(s: Stack, n: number): Promise<void> {
  const lt: MessageInitShape<typeof CreateLaunchTokenRequestSchema> = { workflowId: 'churn', taskId: `task-${n}`, principal: 'user:churn@example.com', audiences: ['payments'] };
  const { launchToken } = await s.idc.createLaunchToken(lt, { metadata: proof(s.orchestrator, IdentityService.method.createLaunchToken, CreateLaunchTokenRequestSchema, lt) });
  const key = generateKeyPair();
  const { nonce } = await s.idc.getChallenge({});
  const reg = await s.idc.register({ launchToken, publicKey: key.rawPublicKey, nonce, signature: signBytes(registrationMessage(nonce, launchToken, key.rawPublicKey), key.privateKey) });
  const renewed = await s.isc.renew({}, { metadata: dpopMetadata(key, reg.accessToken, IssuerService.method.renew) });
  switch (n % 4) {
    case 0:
    case 1:
      await s.isc.release({}, { metadata: dpopMetadata(key, renewed.accessToken, IssuerService.method.release) });
      break;
    case 2: {
      const req: MessageInitShape<typeof RevokeRequestSchema> = { level: RevocationLevel.AGENT, target: reg.spiffeId, reason: RevocationReason.MANUAL };
      await s.isc.revoke(req, { metadata: proof(s.operator, IssuerService.method.revoke, RevokeRequestSchema, req) });
      break;
    }
    default:
    // left to expire
  }
}

async function sample(s: Stack, start: number, lifecycles: number): Promise<ChurnSample> {
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  const rows = {} as Record<(typeof TABLES)[number], number>;
  for (const t of TABLES) rows[t] = Number((await s.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))?.n ?? 0);
  const mem = process.memoryUsage();
  return { atMs: Date.now() - start, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, storeBytes: size(s.file) + size(`${s.file}-wal`), rows, lifecycles };
}

/**
 * Churns for `durationMs` and returns the samples. Failed lifecycles (none are expected)
 * throw: a churn that errors measures nothing.
 *
 * @example const { samples } = await benchChurn({ durationMs: 600_000 });
 */
export async function benchChurn(opts: ChurnOptions): Promise<ChurnResult> {
  if (!Number.isSafeInteger(opts?.durationMs) || opts.durationMs < 1000) throw new TypeError('benchChurn: durationMs must be ≥ 1000');
  const every = opts.sampleEveryMs ?? Math.max(1000, Math.floor(opts.durationMs / 20));
  const concurrency = opts.concurrency ?? 8;
  const s = await startStack();
  const samples: ChurnSample[] = [];
  const start = Date.now();
  let lifecycles = 0;
  let next = 0;
  let failure: unknown;
  const take = async () => {
    const x = await sample(s, start, lifecycles);
    samples.push(x);
    opts.onSample?.(x);
  };
  try {
    await take();
    const sampler = setInterval(() => void take().catch((e: unknown) => (failure ??= e)), every);
    try {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() - start < opts.durationMs && failure === undefined) {
            try {
              await lifecycle(s, next++);
              lifecycles++;
            } catch (err) {
              failure ??= err;
            }
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    if (failure !== undefined) throw failure;
    await take();
  } finally {
    await s.close();
  }
  return { samples, lifecycles, durationMs: Date.now() - start };
}

/**
 * Flatness as bench rows: the mean of the last quarter of samples over the mean of the
 * second quarter (after warm-up), for RSS, store bytes and live rows. Target ≤ 1.1.
 */
export function churnRows(result: ChurnResult): BenchRow[] {
  const xs = result.samples;
  const q = Math.max(1, Math.floor(xs.length / 4));
  const mean = (a: readonly ChurnSample[], f: (s: ChurnSample) => number) => a.reduce((t, s) => t + f(s), 0) / Math.max(1, a.length);
  const early = xs.slice(q, 2 * q);
  const late = xs.slice(xs.length - q);
  const liveRows = (s: ChurnSample) => Object.values(s.rows).reduce((a, b) => a + b, 0);
  const note = `${result.lifecycles} agent lifecycles in ${Math.round(result.durationMs / 1000)} s, ${xs.length} samples; ratio = mean of the last quarter ÷ mean of the second quarter`;
  const growth = (name: string, unit: string, f: (s: ChurnSample) => number, withNote: boolean): BenchRow => {
    const ratio = mean(late, f) / Math.max(1, mean(early, f));
    return row({
      name,
      unit,
      stats: summarize([mean(late, f)]),
      reference: { name: 'second-quarter mean', value: mean(early, f) },
      ratio,
      target: '≤ 1.1',
      meets: (_v, r) => r !== null && r <= 1.1,
      ...(withNote ? { note } : {}),
    });
  };
  return [
    growth('churn_rss_growth', 'bytes', (s) => s.rssBytes, true),
    growth('churn_store_bytes_growth', 'bytes', (s) => s.storeBytes, false),
    growth('churn_live_rows_growth', 'rows', liveRows, false),
  ];
}
