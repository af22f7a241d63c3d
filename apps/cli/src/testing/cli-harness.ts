/**
 * Test harness: runs `baton` in-process (`main(argv, io)` with captured streams) or as a
 * real child process (`node dist/main.js`), starts a real authority with
 * `baton authority start` on port 0, and registers agents the way the SDK does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { generateKeyPair, registrationMessage, signBytes, systemClock, type Clock, type KeyPair } from '@baton/core';
import { createClient } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { main } from '../cli.js';

/** The built executable the child-process tests run. */
export const DIST_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');

/** What a run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as the one JSON document it must be. */
  json<T = Record<string, unknown>>(): T;
}

function result(code: number, stdout: string, stderr: string): CliRun {
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      return JSON.parse(stdout) as T;
    },
  };
}

/** A fresh temp directory, removed by {@link cleanup}. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'baton-cli-'));
}

/** Options of {@link run} and {@link runChild}. */
export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: string;
  readonly clock?: Clock;
  readonly stderrIsTTY?: boolean;
}

/** `baton <args>` in-process. */
export async function run(args: readonly string[], o: RunOptions): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: (async function* () {
      if (o.stdin !== undefined) yield o.stdin;
    })(),
    cwd: o.cwd,
    env: o.env ?? {},
    stderrIsTTY: o.stderrIsTTY ?? false,
    clock: o.clock ?? systemClock,
  });
  return result(code, stdout, stderr);
}

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // Only what node needs: nothing from the developer's environment leaks in.
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

/** `node dist/main.js <args>` as a real child process. */
export function runChild(args: readonly string[], o: RunOptions): Promise<CliRun> {
  if (!fs.existsSync(DIST_MAIN)) throw new Error(`${DIST_MAIN} is missing: build @baton/cli first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIST_MAIN, ...args], { cwd: o.cwd, env: childEnv(o.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve(result(code ?? -1, stdout, stderr)));
    child.stdin.end(o.stdin ?? '');
  });
}

// Every authority child still running when a test file ends is stopped, even when the
// test that started it failed before it could stop it.
const live = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.all(
    [...live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
          c.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
});
process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));

/** A running `baton authority start` child. */
export interface AuthorityProcess {
  readonly address: string;
  readonly ready: Record<string, unknown>;
  readonly child: ChildProcess;
  /** SIGTERM, then the exit code and what it printed. */
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `baton authority start <args>` and waits for its ready line (stdout's first line). */
export function startAuthority(cwd: string, args: readonly string[] = ['--json', '--listen', '127.0.0.1:0'], timeoutMs = 20_000): Promise<AuthorityProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIST_MAIN, 'authority', 'start', ...args], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    let stdout = '';
    let stderr = '';
    let settled = false;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`authority did not get ready: ${stderr}`));
    }, timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (settled || nl < 0) return;
      settled = true;
      clearTimeout(timer);
      const line = stdout.slice(0, nl);
      let ready: Record<string, unknown>;
      let address: string;
      try {
        ready = line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : { line };
        address = (ready.address as string | undefined) ?? /ready on (\S+)/.exec(line)![1]!;
      } catch (err) {
        child.kill('SIGKILL');
        reject(err as Error);
        return;
      }
      resolve({
        address,
        ready,
        child,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          const code = await exited;
          return { code, stdout, stderr };
        },
      });
    });
    child.on('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`authority exited with ${code}: ${stderr}`));
    });
  });
}

/** An initialised directory with its authority running. */
export interface Operator {
  readonly cwd: string;
  readonly authority: AuthorityProcess;
  /** `baton <args>` in-process with BATON_AUTHORITY set to the running authority. */
  run(args: readonly string[], o?: Partial<RunOptions>): Promise<CliRun>;
  /** The same as a child process. */
  runChild(args: readonly string[], o?: Partial<RunOptions>): Promise<CliRun>;
  close(): Promise<void>;
}

/** `baton init` in a temp dir, then `baton authority start` on a free port. */
export async function startOperator(): Promise<Operator> {
  const cwd = tempDir();
  const init = await run(['init', '--listen', '127.0.0.1:0'], { cwd });
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const authority = await startAuthority(cwd);
  const env = { BATON_AUTHORITY: authority.address };
  return {
    cwd,
    authority,
    run: (args, o = {}) => run(args, { cwd, ...o, env: { ...env, ...o.env } }),
    runChild: (args, o = {}) => runChild(args, { cwd, ...o, env: { ...env, ...o.env } }),
    async close() {
      await authority.stop();
      fs.rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** A registered agent. */
export interface RegisteredAgent {
  readonly accessToken: string;
  readonly spiffeId: string;
  readonly key: KeyPair;
}

/** Registers an agent with `launchToken` (GetChallenge, sign, Register), as the SDK does. */
export async function registerAgent(address: string, launchToken: string): Promise<RegisteredAgent> {
  const identity = createClient(IdentityService, address);
  try {
    const key = generateKeyPair();
    const { nonce } = await identity.getChallenge({});
    const signature = signBytes(registrationMessage(nonce, launchToken, key.rawPublicKey), key.privateKey);
    const res = await identity.register({ launchToken, publicKey: key.rawPublicKey, nonce, signature });
    return { accessToken: res.accessToken, spiffeId: res.spiffeId, key };
  } finally {
    identity.close();
  }
}

/** Sets up workflow `wf` and orchestrator `orch-1` (key in `<cwd>/orch.jwk`) and mints a launch token. */
export async function workflowWithOrchestrator(op: Operator, wf = 'expense', scopes: readonly string[] = ['{"action":"approve","resource":"payments","constraints":{"amount":{"max":10000}}}', 'read:invoices:*']): Promise<void> {
  const steps = [
    ['workflow', 'create', wf, ...scopes.flatMap((s) => ['--scope', s]), '--audience', 'payments'],
    ['orchestrator', 'keygen', '--out', `orch-${wf}.jwk`],
    ['orchestrator', 'add', `orch-${wf}`, '--public-key', `orch-${wf}.jwk`, '--workflow', wf],
  ];
  for (const s of steps) {
    const r = await op.run(s);
    if (r.code !== 0) throw new Error(`${s.join(' ')} failed: ${r.stderr}`);
  }
}

/** A launch token for `task` in `wf` (after {@link workflowWithOrchestrator}). */
export async function launchToken(op: Operator, task: string, wf = 'expense', extra: readonly string[] = []): Promise<string> {
  const r = await op.run(['launch-token', 'create', '--key', `orch-${wf}.jwk`, '--workflow', wf, '--task', task, '--principal', 'user:vp', '--audience', 'payments', ...extra]);
  if (r.code !== 0) throw new Error(`launch-token create failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Removes a temp dir. */
export function cleanup(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
