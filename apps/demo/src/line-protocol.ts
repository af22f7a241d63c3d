/**
 * The line protocol between the demo driver and the processes it starts: each child
 * writes one JSON object per line on stdout (events such as `{"event":"ready",...}` and
 * replies `{"id":n,"ok":...}`) and reads one JSON command per line on stdin
 * (`{"id":n,"cmd":"...",...}`). Logs go to stderr, never stdout.
 */
import { createInterface } from 'node:readline';
import { isBatonError } from '@baton/core';

/** A command sent by the driver. */
export interface Command {
  readonly id: number;
  readonly cmd: string;
  /** W3C traceparent of the driver span the command belongs to. */
  readonly traceparent?: string;
  readonly [key: string]: unknown;
}

/** Handles one command; the resolved object is the reply's `result`. */
export type CommandHandler = (command: Command) => Promise<Record<string, unknown>>;

/** Largest command line accepted (commands carry at most a token or two). */
const MAX_LINE = 64 * 1024;

/** Writes one event line to stdout. */
export function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function parseCommand(line: string): Command | undefined {
  if (line.length > MAX_LINE) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const c = v as Record<string, unknown>;
  if (!Number.isSafeInteger(c['id']) || typeof c['cmd'] !== 'string') return undefined;
  if (c['traceparent'] !== undefined && typeof c['traceparent'] !== 'string') return undefined;
  return c as unknown as Command;
}

/**
 * Serves commands from stdin until it closes (the driver went away), then calls `onEnd`.
 * A handler that throws answers `{ ok: false, code }` with the stable Baton code when
 * there is one; unknown commands and malformed lines are answered or skipped, never fatal.
 */
export function serveCommands(handlers: Readonly<Record<string, CommandHandler>>, onEnd: () => void): void {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    const command = parseCommand(line);
    if (!command) {
      process.stderr.write('ignored a malformed command line\n');
      return;
    }
    const handler = Object.prototype.hasOwnProperty.call(handlers, command.cmd) ? handlers[command.cmd] : undefined;
    if (!handler) {
      emit({ id: command.id, ok: false, code: 'ERR_INVALID_ARGUMENT', message: `unknown command ${command.cmd}` });
      return;
    }
    handler(command).then(
      (result) => emit({ id: command.id, ok: true, result }),
      (err: unknown) =>
        emit({
          id: command.id,
          ok: false,
          code: isBatonError(err) ? err.code : 'ERR_INTERNAL',
          message: err instanceof Error ? err.message : String(err),
        }),
    );
  });
  rl.on('close', onEnd);
}

/** A required string field of a command (the driver's mistake is a TypeError). */
export function stringField(command: Command, key: string): string {
  const v = command[key];
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${command.cmd}: ${key} must be a non-empty string`);
  return v;
}

/** A required finite number field of a command. */
export function numberField(command: Command, key: string): number {
  const v = command[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${command.cmd}: ${key} must be a finite number`);
  return v;
}
