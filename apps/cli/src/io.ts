/**
 * The process surface a command touches, injectable so tests run `main()` in-process
 * with captured streams, a temp working directory and a fixed clock.
 */
import { systemClock, type Clock } from '@baton/core';

/** A sink for text (a stream or a test buffer). */
export interface TextSink {
  write(chunk: string): unknown;
}

/** What the CLI reads from and writes to. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Source for `token inspect -`. */
  readonly stdin: AsyncIterable<string | Buffer>;
  /** Working directory that relative paths resolve against. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** True when stderr is a terminal: progress is drawn only then. */
  readonly stderrIsTTY: boolean;
  readonly clock: Clock;
}

/** The real process streams. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    clock: systemClock,
  };
}

/** Reads all of `source` as UTF-8, refusing more than `maxBytes`. */
export async function readAll(source: AsyncIterable<string | Buffer>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of source) {
    const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    size += b.length;
    if (size > maxBytes) throw new RangeError(`input larger than ${maxBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
