/**
 * The one place commands print: human text by default, or with `--json` exactly one
 * JSON document on stdout. Notes, warnings and progress go to stderr, so stdout stays
 * machine-readable (and a launch token printed there never mixes with anything else).
 */
import { describeError, hintFor, type HintFacts } from './cli-error.js';
import type { CliIo } from './io.js';

/** JSON.stringify replacer: bigints (protobuf int64) as numbers when exact, else strings. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url');
  return value;
}

/** Serialises a result document the way every command prints it. */
export function toJson(doc: unknown, pretty = false): string {
  return JSON.stringify(doc, replacer, pretty ? 2 : undefined);
}

/** Human or JSON output for one command run. */
export class Output {
  readonly json: boolean;
  readonly #io: CliIo;
  #printed = false;
  #progressShown = false;

  constructor(io: CliIo, json: boolean) {
    this.#io = io;
    this.json = json;
  }

  /**
   * Prints the command's result: `doc` as one JSON document with `--json`, else the
   * human text. A command prints exactly one result.
   */
  result(doc: unknown, human: string | (() => string)): void {
    if (this.#printed) throw new TypeError('Output.result called twice');
    this.#printed = true;
    this.clearProgress();
    if (this.json) {
      this.#io.stdout.write(toJson(doc) + '\n');
      return;
    }
    const text = typeof human === 'function' ? human() : human;
    if (text.length > 0) this.#io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  /**
   * One item of a stream (`audit tail`): a JSON line with `--json` (JSON Lines, the one
   * exception to one document per run), else the human line.
   */
  item(doc: unknown, human: string): void {
    this.clearProgress();
    this.#io.stdout.write((this.json ? toJson(doc) : human) + '\n');
  }

  /** True once a result was printed. */
  get printed(): boolean {
    return this.#printed;
  }

  /** A remark for people (stderr, human mode only). */
  note(message: string): void {
    if (this.json) return;
    this.clearProgress();
    this.#io.stderr.write(message + '\n');
  }

  /** A warning (stderr, in both modes). */
  warn(message: string): void {
    this.clearProgress();
    this.#io.stderr.write(`warning: ${message}\n`);
  }

  /** Progress of long work, redrawn in place; only drawn when stderr is a terminal. */
  progress(message: string): void {
    if (!this.#io.stderrIsTTY) return;
    this.#io.stderr.write(`\r\x1b[2K${message}`);
    this.#progressShown = true;
  }

  /** Erases the progress line, if one is shown. */
  clearProgress(): void {
    if (!this.#progressShown) return;
    this.#io.stderr.write('\r\x1b[2K');
    this.#progressShown = false;
  }

  /** Prints a failure to stderr: code, title, detail and a hint of what to do. */
  error(err: unknown, facts: HintFacts = {}): void {
    this.clearProgress();
    const { code, title, detail } = describeError(err);
    const hint = hintFor(err, facts);
    if (this.json) {
      this.#io.stderr.write(toJson({ error: { code, title, detail, ...(hint ? { hint } : {}) } }) + '\n');
      return;
    }
    const lines = [`error: ${detail === title ? title : `${title}: ${detail}`} (${code})`];
    if (hint) lines.push(`hint: ${hint}`);
    if (this.#io.env.BATON_DEBUG && err instanceof Error && err.stack) lines.push(err.stack);
    this.#io.stderr.write(lines.join('\n') + '\n');
  }
}
