/**
 * Real processes for end-to-end tests: spawn a Node script, wait for its JSON ready line
 * (never a sleep), talk to it over the JSON-line command protocol the demo's processes
 * speak, keep its stderr for failure messages, and kill whatever is left on teardown.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A JSON object a child wrote on stdout. */
export type ProcessEvent = Readonly<Record<string, unknown>>;

/** Options of {@link spawnReady}. */
export interface SpawnOptions {
  /** Label used in failure messages. */
  readonly name: string;
  readonly script: string;
  readonly args?: readonly string[];
  /** The child's environment besides PATH (the test's own environment is not inherited). */
  readonly env?: Readonly<Record<string, string>>;
  /** Default 20 000 ms. */
  readonly readyTimeoutMs?: number;
}

/** A reply to a command: `{ ok: true, result }` or `{ ok: false, code }`. */
export interface Reply<T = Record<string, unknown>> {
  readonly ok: boolean;
  readonly result?: T;
  readonly code?: string;
  readonly message?: string;
}

/** A started process. */
export interface TestProcess {
  readonly name: string;
  readonly pid: number;
  /** The `ready` event, or the `failed` event when `allowFailure` was set and it failed. */
  readonly first: ProcessEvent;
  readonly events: readonly ProcessEvent[];
  /** Sends `{ id, cmd, ...payload }` and resolves with the reply. */
  command<T = Record<string, unknown>>(cmd: string, payload?: Record<string, unknown>, timeoutMs?: number): Promise<Reply<T>>;
  /** Resolves when the process has exited. */
  readonly exit: Promise<number | null>;
  /** Everything it wrote on stderr (the last 32 KiB). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Spawns `script` with the current Node and resolves on its `{"event":"ready"}` line.
 * With `allowFailure`, a `{"event":"failed"}` line also resolves (for tests of refused
 * start-ups); otherwise it rejects, as do an early exit and the timeout, each with the
 * child's stderr in the message.
 */
export function spawnReady(options: SpawnOptions, allowFailure = false): Promise<TestProcess> {
  const child = spawn(process.execPath, [options.script, ...(options.args ?? [])], {
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    stderr = (stderr + c).slice(-32 * 1024);
  });
  child.stdin!.on('error', () => undefined);
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const events: ProcessEvent[] = [];
  const replies = new Map<number, (r: Reply<never>) => void>();
  let nextId = 1;
  const why = (what: string): Error => new Error(`${options.name} ${what}\n--- stderr ---\n${stderr}`);

  return new Promise<TestProcess>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(why('was not ready in time'));
    }, options.readyTimeoutMs ?? 20_000);
    const finish = (first: ProcessEvent): void => {
      settled = true;
      clearTimeout(timer);
      resolve({
        name: options.name,
        pid: child.pid!,
        first,
        events,
        exit,
        stderr: () => stderr,
        command<T>(cmd: string, payload: Record<string, unknown> = {}, timeoutMs = 20_000) {
          const id = nextId++;
          return new Promise<Reply<T>>((res, rej) => {
            const t = setTimeout(() => rej(why(`did not answer ${cmd}`)), timeoutMs);
            replies.set(id, (r) => {
              clearTimeout(t);
              res(r as Reply<T>);
            });
            child.stdin!.write(`${JSON.stringify({ ...payload, id, cmd })}\n`);
          });
        },
        async stop(graceMs = 3000) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exit;
          clearTimeout(t);
        },
      });
    };
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof msg !== 'object' || msg === null) return;
      if (typeof msg['id'] === 'number' && typeof msg['ok'] === 'boolean') {
        replies.get(msg['id'])?.(msg as unknown as Reply<never>);
        replies.delete(msg['id']);
        return;
      }
      events.push(msg);
      if (settled) return;
      if (msg['event'] === 'ready') finish(msg);
      else if (msg['event'] === 'failed') {
        if (allowFailure) finish(msg);
        else {
          settled = true;
          clearTimeout(timer);
          reject(why(`failed to start (${String(msg['code'])})`));
        }
      }
    });
    void exit.then((code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(why(`exited (${code}) before it was ready`));
    });
  });
}

/** Kills every process this module started that is still running (for `afterAll`). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (c) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => c.kill('SIGKILL'), 3000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}
