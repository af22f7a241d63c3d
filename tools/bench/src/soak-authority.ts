/**
 * The authority as a real child process for the soak and crash runs: a config with keys
 * the run generates (0600 files in its temp dir; only public halves in the config), a
 * fixed port so clients reach a restarted authority at the same address, kill -9 and
 * restart, and the child's RSS from /proc. The e2e tests drive the same runs with the
 * test suite's own process helpers through {@link AuthorityHandle}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { KeyPair } from '@baton/core';
import { loadOrCreateKeyFile } from '@baton/authority';

/** What the soak and crash runs need of a running authority. */
export interface AuthorityHandle {
  /** `host:port`, the same after a restart. */
  readonly address: string;
  /** Process id of the current incarnation. */
  readonly pid: number;
  /** The authority's data directory (`baton.db`, `audit.db`, `spool/`). */
  readonly dataDir: string;
  /** SIGKILL, resolved once the process is gone. */
  kill9(): Promise<void>;
  /** Starts it again on the same config and waits for its ready line. */
  restart(): Promise<void>;
  /** SIGTERM and wait (graceful stop: final checkpoint, spools closed). */
  stop(): Promise<void>;
}

/** Keys and config of a run's authority. */
export interface AuthoritySetup {
  readonly dir: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly address: string;
  /** Operator: workflows, revocation, audit reads. */
  readonly operatorKey: KeyPair;
  /** The resource server's key: may append to the audit log. */
  readonly resourceKey: KeyPair;
}

/** A free loopback port (asked of the OS, then released for the authority to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Writes `<dir>/authority.json` (data in `<dir>/data`, a fixed free port, the operator
 * and the `payments` resource by public key) and generates both keys in `dir`.
 */
export async function writeAuthoritySetup(dir: string): Promise<AuthoritySetup> {
  const operatorKey = loadOrCreateKeyFile(path.join(dir, 'operator.jwk'));
  const resourceKey = loadOrCreateKeyFile(path.join(dir, 'payments.jwk'));
  const address = `127.0.0.1:${await freePort()}`;
  const configFile = path.join(dir, 'authority.json');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const config = {
    dataDir: 'data',
    listen: address,
    operators: [{ id: 'soak-operator', jwk: operatorKey.publicJwk }],
    resources: [{ id: 'payments', jwk: resourceKey.publicJwk }],
  };
  fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { dir, configFile, dataDir, address, operatorKey, resourceKey };
}

/** The authority's entry point, found through its package. */
export function authorityScript(): string {
  return path.join(path.dirname(new URL(import.meta.resolve('@baton/authority')).pathname), 'main.js');
}

/** RSS of a process in bytes (`VmRSS` of /proc/<pid>/status); undefined when it is gone. */
export function rssOf(pid: number): number | undefined {
  return memoryOf(pid)?.rssBytes;
}

/** RSS and its anonymous part (heaps: V8, malloc; the rest is mapped files such as the binary). */
export function memoryOf(pid: number): { rssBytes: number; anonBytes: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number | undefined => {
      const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    const rssBytes = kb('VmRSS');
    return rssBytes === undefined ? undefined : { rssBytes, anonBytes: kb('RssAnon') ?? 0 };
  } catch {
    return undefined;
  }
}

interface Incarnation {
  readonly child: ChildProcess;
  readonly exit: Promise<void>;
  stderr(): string;
}

/** Options of {@link spawnAuthority}. */
export interface SpawnOptions {
  /** How long to wait for the ready line, ms. Default 30 000. */
  readonly readyTimeoutMs?: number;
  /** Extra Node flags for the child (diagnosis, e.g. `--trace-gc`, `--heapsnapshot-signal=SIGUSR2`). */
  readonly nodeArgs?: readonly string[];
  /** Append the child's whole stdout and stderr to this file (the handle keeps only the last 16 KiB of stderr). */
  readonly logFile?: string;
}

function launch(script: string, configFile: string, opts: SpawnOptions): Promise<Incarnation> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, '--config', configFile], {
    // Only PATH: BATON_* overrides from the caller's shell must not change the config.
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (stderr = (stderr + c).slice(-16 * 1024)));
  if (opts.logFile !== undefined) {
    const file = fs.createWriteStream(opts.logFile, { flags: 'a', mode: 0o600 });
    child.stderr!.pipe(file, { end: false });
    // Node's own diagnostics (--trace-gc) go to stdout; the ready line is still read below.
    child.stdout!.pipe(file, { end: false });
  }
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`authority ${why}\n--- stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail('was not ready in time'), readyTimeoutMs);
    void exit.then(() => fail('exited before it was ready'));
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        if ((JSON.parse(line) as { event?: unknown }).event !== 'ready') return;
      } catch {
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ child, exit, stderr: () => stderr });
    });
  });
}

/** Starts the authority of `setup` as a child process and returns its handle. */
export async function spawnAuthority(setup: AuthoritySetup, opts: SpawnOptions = {}): Promise<AuthorityHandle & { stderr(): string }> {
  const script = authorityScript();
  let current = await launch(script, setup.configFile, opts);
  const gone = (): boolean => current.child.exitCode !== null || current.child.signalCode !== null;
  return {
    address: setup.address,
    dataDir: setup.dataDir,
    get pid() {
      return current.child.pid!;
    },
    stderr: () => current.stderr(),
    async kill9() {
      if (gone()) return;
      current.child.kill('SIGKILL');
      await current.exit;
    },
    async restart() {
      if (!gone()) throw new TypeError('restart: the authority is still running');
      current = await launch(script, setup.configFile, opts);
    },
    async stop() {
      if (gone()) return;
      const t = setTimeout(() => current.child.kill('SIGKILL'), 10_000);
      current.child.kill('SIGTERM');
      await current.exit;
      clearTimeout(t);
    },
  };
}
