/**
 * Test fixtures for running authorities: replica processes (the built `dist/main.js`),
 * throwaway PostgreSQL databases, and the operator, orchestrator and agent steps the
 * scale-out and failure-mode tests share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { exportPrivateJwk, generateKeyPair, randomId, registrationMessage, signBytes, type KeyPair, type PublicJwk } from '@baton/core';
import { dpopMetadata, keyProofMetadata, type Guard, type MethodRef } from '@baton/guard';
import { createClient, type Client } from '@baton/proto';
import { openDatabase } from '@baton/store';
import {
  AddOrchestratorRequestSchema,
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  IdentityService,
  type RegisterResponse,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService, RevocationLevel, RevocationReason, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';

export const PG_ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ISSUER = 'spiffe://baton.local/authority';
export const RESOURCE_METHOD = '/baton.demo.v1.Payments/Approve';
export const CEILING = [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } }];

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');

/** A fresh PostgreSQL database (not a schema: every table an authority makes lands in it); `drop()` removes it. */
export async function createDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `baton_${label}_${process.pid}_${randomId(8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const admin = await openDatabase(PG_ADMIN_URL, { max: 1 });
  await admin.exec(`CREATE DATABASE ${name}`);
  await admin.close();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = await openDatabase(PG_ADMIN_URL, { max: 1 });
      await c.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.close();
    },
  };
}

/** A temp directory removed by `rm()`. */
export function tempDir(label: string): { dir: string; rm(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `baton-${label}-`));
  return { dir, rm: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Writes an authority config file and returns its path. */
export function writeConfig(dir: string, config: Record<string, unknown>): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'authority.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Copies `<from>/keys` to `<to>/keys` keeping modes (how a replica gets the shared keys). */
export function copyKeys(from: string, to: string): void {
  fs.cpSync(path.join(from, 'keys'), path.join(to, 'keys'), { recursive: true, preserveTimestamps: true });
}

/** An operator-style key entry for the config. */
export function keyEntry(id: string, key: KeyPair): { id: string; jwk: PublicJwk } {
  return { id, jwk: { kty: 'OKP', crv: 'Ed25519', x: exportPrivateJwk(key).x } };
}

/** A running replica process. */
export interface ReplicaProcess {
  readonly address: string;
  readonly child: ChildProcess;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

/** Starts `dist/main.js --config <file>` and waits for its ready line. */
export async function startReplica(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [MAIN, '--config', configFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`replica did not start: ${stderr.join('')}`)), 30_000);
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; address?: string };
        if (msg.event === 'ready' && msg.address) {
          clearTimeout(timer);
          resolve(msg.address);
        }
      } catch {
        // not the ready line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited (${code}): ${stderr.join('')}`));
    });
  });
  return {
    address,
    child,
    stderr: () => stderr.join(''),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Clients of one authority, plus the operator calls the tests make. */
export interface Authorities {
  readonly identity: Client<typeof IdentityService>;
  readonly issuer: Client<typeof IssuerService>;
  close(): void;
}

export function clientsOf(address: string): Authorities {
  const identity = createClient(IdentityService, address, { tracing: false });
  const issuer = createClient(IssuerService, address, { tracing: false });
  return {
    identity,
    issuer,
    close() {
      identity.close();
      issuer.close();
    },
  };
}

/** Key-proof metadata over the exact bytes of `request`. */
export function keyProof<M extends DescMessage>(key: KeyPair, method: MethodRef, schema: M, request: MessageInitShape<M>, nowMs?: number): Record<string, string> {
  return keyProofMetadata(key, method, toBinary(schema, create(schema, request)), nowMs);
}

/** Creates a workflow with `orchestrator` allowed in it. */
export async function setUpWorkflow(c: Authorities, operator: KeyPair, orchestrator: KeyPair, workflow: string, orchestration: string, nowMs?: number): Promise<void> {
  const wf: MessageInitShape<typeof CreateWorkflowRequestSchema> = { id: workflow, policy: { scopeCeiling: CEILING, audiences: ['payments'] } };
  await c.identity.createWorkflow(wf, { metadata: keyProof(operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf, nowMs) });
  const orch: MessageInitShape<typeof AddOrchestratorRequestSchema> = { id: orchestration, publicKey: orchestrator.rawPublicKey, workflowIds: [workflow] };
  await c.identity.addOrchestrator(orch, { metadata: keyProof(operator, IdentityService.method.addOrchestrator, AddOrchestratorRequestSchema, orch, nowMs) });
}

/** A launch token for `task`, minted by `orchestrator`. */
export async function launchToken(c: Authorities, orchestrator: KeyPair, workflow: string, task: string, nowMs?: number): Promise<string> {
  const req: MessageInitShape<typeof CreateLaunchTokenRequestSchema> = { workflowId: workflow, taskId: task, principal: 'user:vp@acme.example', audiences: ['payments'] };
  const res = await c.identity.createLaunchToken(req, { metadata: keyProof(orchestrator, IdentityService.method.createLaunchToken, CreateLaunchTokenRequestSchema, req, nowMs) });
  return res.launchToken;
}

/** Registers a fresh agent key with `launch` (challenge from the same authority). */
export async function register(c: Authorities, launch: string): Promise<RegisterResponse & { key: KeyPair }> {
  const key = generateKeyPair();
  const { nonce } = await c.identity.getChallenge({});
  const signature = signBytes(registrationMessage(nonce, launch, key.rawPublicKey), key.privateKey);
  const res = await c.identity.register({ launchToken: launch, publicKey: key.rawPublicKey, nonce, signature });
  return Object.assign(res, { key });
}

/** Revoke(AGENT, sub, MANUAL) as `operator`. */
export async function revokeAgent(c: Authorities, operator: KeyPair, sub: string, nowMs?: number): Promise<bigint> {
  const req: MessageInitShape<typeof RevokeRequestSchema> = { level: RevocationLevel.AGENT, target: sub, reason: RevocationReason.MANUAL };
  return (await c.issuer.revoke(req, { metadata: keyProof(operator, IssuerService.method.revoke, RevokeRequestSchema, req, nowMs) })).sequence;
}

/** A DPoP-checked call of the demo resource through `guard`. */
export function callResource(guard: Guard, agent: { key: KeyPair; accessToken: string }, nowMs?: number): ReturnType<Guard['check']> {
  const md = dpopMetadata(agent.key, agent.accessToken, RESOURCE_METHOD, nowMs);
  return guard.check({ token: agent.accessToken, proof: md.dpop, htm: 'POST', htu: RESOURCE_METHOD, request: { action: 'approve', resource: 'invoice', attributes: { amount: 100 } } });
}

/** The code a rejected call carries (tests assert codes, never text). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'resolved';
}
