/**
 * `main(argv, io)`: finds the command, parses its flags, runs it, prints any failure
 * with its code and a hint, and returns the exit code (0 ok, 1 failure, 2 usage).
 */
import { readFileSync } from 'node:fs';
import { EXIT, UsageError } from './cli-error.js';
import { formatHelp, parseCommand, usageLine, type CommandSpec, type RunContext } from './command-spec.js';
import { COMMANDS, GROUPS } from './commands/index.js';
import { processIo, type CliIo } from './io.js';
import { Output } from './output.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The top-level help: every command with its summary. */
export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  return [
    'baton: ephemeral, task-scoped credentials for AI agents.',
    '',
    'Usage: baton <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json (one JSON document on stdout) and -h/--help.',
    'Exit status: 0 ok, 1 failure (the error code is printed), 2 invalid command line.',
    'Run `baton <command> --help` for its flags and their defaults.',
    '',
  ].join('\n');
}

/** The help of a command group such as `workflow`. */
export function groupHelp(group: string): string {
  const cmds = COMMANDS.filter((c) => c.path[0] === group);
  const width = Math.max(...cmds.map((c) => c.path.join(' ').length));
  return [`Usage: baton ${group} <${cmds.map((c) => c.path[1]).join('|')}> [options]`, '', `${group}: ${GROUPS[group] ?? ''}`, '', 'Commands:', ...cmds.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`), ''].join('\n');
}

/** Finds the command named by the leading words of `argv`. */
function resolve(argv: readonly string[]): { spec: CommandSpec; rest: string[] } | { group: string } | undefined {
  const [a, b] = argv;
  const two = COMMANDS.find((c) => c.path.length === 2 && c.path[0] === a && c.path[1] === b);
  if (two) return { spec: two, rest: argv.slice(2) };
  const one = COMMANDS.find((c) => c.path.length === 1 && c.path[0] === a);
  if (one) return { spec: one, rest: argv.slice(1) };
  if (a !== undefined && Object.hasOwn(GROUPS, a)) return { group: a };
  return undefined;
}

/**
 * Runs the `baton` command line `argv` (without `node` and the script) against `io`.
 * Resolves to the exit code; never rejects.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const wantsJson = argv.includes('--json');
  const out = new Output(io, wantsJson);
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const target = first === 'help' ? resolve(argv.slice(1)) : undefined;
    if (target && 'spec' in target) io.stdout.write(formatHelp(target.spec));
    else if (target && 'group' in target) io.stdout.write(groupHelp(target.group));
    else if (first === undefined) {
      io.stderr.write(topHelp());
      return EXIT.usage;
    } else io.stdout.write(topHelp());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-V') {
    out.result({ version: version() }, `baton ${version()}`);
    return EXIT.ok;
  }
  const found = resolve(argv);
  if (!found) {
    out.error(new UsageError(first.startsWith('-') ? `options go after the command, e.g. baton workflow list ${first}` : `unknown command ${JSON.stringify(first)}`));
    io.stderr.write('\n' + topHelp());
    return EXIT.usage;
  }
  if ('group' in found) {
    const sub = argv[1];
    if (sub === '--help' || sub === '-h') {
      io.stdout.write(groupHelp(found.group));
      return EXIT.ok;
    }
    out.error(new UsageError(sub === undefined ? `${found.group} needs a subcommand` : `unknown command ${JSON.stringify(`${found.group} ${sub}`)}`));
    io.stderr.write('\n' + groupHelp(found.group));
    return EXIT.usage;
  }
  const { spec, rest } = found;
  const name = spec.path.join(' ');
  const ctx: RunContext = { io, out, facts: { command: name } };
  try {
    const input = parseCommand(spec, rest);
    if (input.help) {
      io.stdout.write(formatHelp(spec));
      return EXIT.ok;
    }
    const code = await spec.run(input, { ...ctx, out: input.json === wantsJson ? out : new Output(io, input.json) });
    return code ?? EXIT.ok;
  } catch (err) {
    out.error(err, ctx.facts);
    if (err instanceof UsageError) {
      io.stderr.write(`usage: ${usageLine(spec)}\n`);
      return EXIT.usage;
    }
    return EXIT.failure;
  }
}
