/**
 * Driver side of the demo's processes: spawn a Node script, wait for its ready line
 * (never a sleep), exchange JSON-line commands, keep its stderr for failure messages, and
 * make sure no child outlives the driver (normal exit, failure or Ctrl-C).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BatonError, isErrorCode } from '@baton/core';

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** Label for messages, e.g. `authority`, `agent:manager`. */
  readonly name: string;
  /** Node script to run. */
  readonly script: string;
  readonly args?: readonly string[];
  /**
   * The child's whole environment besides PATH: children do not inherit the driver's
   * environment, so nothing leaks into an agent by accident.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the ready line. Default 20 000 ms. */
  readonly readyTimeoutMs?: number;
}

/** A JSON line a child wrote on stdout. */
export type ChildEvent = Readonly<Record<string, unknown>>;

/** A running child process. */
export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  /** The ready event. */
  readonly ready: ChildEvent;
  /** Sends a command and resolves with its result; rejects with the child's BatonError code. */
  request<T = Record<string, unknown>>(cmd: string, payload?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Events (not replies) seen so far. */
  readonly events: readonly ChildEvent[];
  /** Resolves with the first event (past or future) matching `predicate`. */
  waitForEvent(predicate: (e: ChildEvent) => boolean, timeoutMs?: number): Promise<ChildEvent>;
  /** The last 16 KiB of the child's stderr. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort on any exit path: no child may outlive the driver.
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

const STDERR_KEEP = 16 * 1024;

/** Starts `script` and resolves once it printed `{"event":"ready"}`; rejects on `{"event":"failed"}`, exit or timeout. */
export function startChild(options: ChildOptions): Promise<ChildHandle> {
  installExitHook();
  const child = spawn(process.execPath, [options.script, ...(options.args ?? [])], {
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  let exited = false;
  const events: ChildEvent[] = [];
  const waiters = new Set<{ predicate: (e: ChildEvent) => boolean; resolve: (e: ChildEvent) => void }>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  child.stdin!.on('error', () => undefined); // the child may exit first

  const failure = (what: string): Error => new Error(`${options.name} ${what}${stderr ? `\n--- ${options.name} stderr ---\n${stderr.trimEnd()}` : ''}`);

  return new Promise<ChildHandle>((resolveReady, rejectReady) => {
    let settled = false;
    const readyTimer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      rejectReady(failure(`not ready after ${options.readyTimeoutMs ?? 20_000} ms`));
    }, options.readyTimeoutMs ?? 20_000);

    const handle = (ready: ChildEvent): ChildHandle => ({
      name: options.name,
      pid: child.pid!,
      ready,
      events,
      get exited() {
        return exited;
      },
      request<T>(cmd: string, payload: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
        if (exited) return Promise.reject(failure(`has exited (command ${cmd})`));
        const id = nextId++;
        return new Promise<T>((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(failure(`did not answer ${cmd} within ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
          child.stdin!.write(`${JSON.stringify({ ...payload, id, cmd })}\n`);
        });
      },
      waitForEvent(predicate, timeoutMs = 30_000) {
        const seen = events.find(predicate);
        if (seen) return Promise.resolve(seen);
        return new Promise<ChildEvent>((resolve, reject) => {
          const w = { predicate, resolve: (e: ChildEvent) => (clearTimeout(timer), resolve(e)) };
          const timer = setTimeout(() => {
            waiters.delete(w);
            reject(failure('did not report the expected event'));
          }, timeoutMs);
          waiters.add(w);
        });
      },
      stderrTail: () => stderr,
      async stop(graceMs = 3000) {
        if (exited) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitPromise;
        clearTimeout(t);
      },
    });

    const rl = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    rl.on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        const v: unknown = JSON.parse(line);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
        msg = v as Record<string, unknown>;
      } catch {
        return; // not a protocol line
      }
      if (typeof msg['id'] === 'number' && typeof msg['ok'] === 'boolean') {
        const p = pending.get(msg['id']);
        if (!p) return;
        pending.delete(msg['id']);
        clearTimeout(p.timer);
        if (msg['ok']) p.resolve(msg['result']);
        else {
          const code = msg['code'];
          p.reject(isErrorCode(code) ? new BatonError(code, String(msg['message'] ?? '')) : failure(`failed: ${String(msg['message'])}`));
        }
        return;
      }
      events.push(msg);
      for (const w of [...waiters]) {
        if (w.predicate(msg)) {
          waiters.delete(w);
          w.resolve(msg);
        }
      }
      if (!settled && msg['event'] === 'ready') {
        settled = true;
        clearTimeout(readyTimer);
        resolveReady(handle(msg));
      } else if (!settled && msg['event'] === 'failed') {
        settled = true;
        clearTimeout(readyTimer);
        const code = msg['code'];
        rejectReady(isErrorCode(code) ? new BatonError(code, `${options.name} failed to start`) : failure('failed to start'));
      }
    });

    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(failure(`exited (${signal ?? code}) before answering`));
      }
      pending.clear();
      if (!settled) {
        settled = true;
        clearTimeout(readyTimer);
        rejectReady(failure(`exited (${signal ?? code}) before it was ready`));
      }
    });
    child.once('error', (err) => {
      if (!settled) {
        settled = true;
        clearTimeout(readyTimer);
        rejectReady(failure(`could not start: ${err.message}`));
      }
    });
  });
}

/** Stops every child still running (agents first is the caller's job; this is the sweep). */
export async function stopAllChildren(graceMs = 3000): Promise<void> {
  await Promise.all(
    [...live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}
