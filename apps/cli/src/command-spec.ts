/**
 * Declarative command specs: the flags, arguments and help text of each command live in
 * one object, from which both the parser (node:util parseArgs) and `--help` are derived,
 * so help can never forget a flag or its default.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './cli-error.js';
import type { CliIo } from './io.js';
import type { Output } from './output.js';

/** One `--flag`. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** May be given several times; the values arrive as an array. */
  readonly multiple?: boolean;
  /** Placeholder shown in help, e.g. `<scope>`. */
  readonly value?: string;
  readonly description: string;
  /** The default as shown in help (`300s`, `.baton`, `off`, `the workflow ceiling`). */
  readonly default?: string;
  /** Must be given (at least once). */
  readonly required?: boolean;
}

/** One positional argument. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
}

/** Parsed command line of one command. */
export interface CommandInput {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
}

/** What a running command gets besides its arguments. */
export interface RunContext {
  readonly io: CliIo;
  readonly out: Output;
  /** Facts for hints (the authority address once known). */
  readonly facts: { authority?: string; command?: string };
}

/** A leaf command such as `workflow create`. */
export interface CommandSpec {
  /** Words after `baton`, e.g. `['workflow', 'create']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Longer explanation shown in help. */
  readonly description?: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Adds `--dir`, `--authority`, `--key`. */
  readonly client?: boolean;
  readonly examples?: readonly string[];
  /** Returns the exit code (default 0). */
  run(input: CommandInput, ctx: RunContext): Promise<number | void>;
}

/** `--json` and `--help`, on every command. */
export const GENERAL_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  json: { type: 'boolean', description: 'print exactly one JSON document on stdout (errors as JSON on stderr)', default: 'off' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
});

/** Where a client command finds the authority and its key. */
export const CLIENT_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  dir: { type: 'string', value: '<path>', description: 'Baton directory holding authority.json and keys/', default: '.baton' },
  authority: { type: 'string', value: '<host:port>', description: 'authority address (also BATON_AUTHORITY)', default: "the config's listen address" },
  key: { type: 'string', value: '<file>', description: 'private key file (0600) that signs the call', default: '<dir>/keys/operator.jwk' },
});

/** Every option a command accepts, in help order. */
export function allOptions(spec: CommandSpec): Array<[string, OptionSpec, 'command' | 'client' | 'general']> {
  return [
    ...Object.entries(spec.options).map(([k, v]) => [k, v, 'command'] as [string, OptionSpec, 'command']),
    ...(spec.client ? Object.entries(CLIENT_OPTIONS).map(([k, v]) => [k, v, 'client'] as [string, OptionSpec, 'client']) : []),
    ...Object.entries(GENERAL_OPTIONS).map(([k, v]) => [k, v, 'general'] as [string, OptionSpec, 'general']),
  ];
}

/** Parses `argv` (the words after the command path) against `spec`. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): CommandInput & { help: boolean; json: boolean } {
  const name = spec.path.join(' ');
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [k, o] of allOptions(spec)) options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs' messages name the flag and say what is wrong; keep them.
    throw new UsageError((err as Error).message.split('\n')[0]!, name);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const help = values.help === true;
  const json = values.json === true;
  if (!help) {
    const required = spec.positionals.filter((p) => !p.optional).length;
    if (parsed.positionals.length < required) {
      throw new UsageError(`missing ${spec.positionals.slice(parsed.positionals.length).filter((p) => !p.optional).map((p) => `<${p.name}>`).join(' ')}`, name);
    }
    if (parsed.positionals.length > spec.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals.length])}`, name);
    for (const [k, o] of Object.entries(spec.options)) {
      const v = values[k];
      if (o.required && (v === undefined || (Array.isArray(v) && v.length === 0))) throw new UsageError(`missing --${k} ${o.value ?? ''}`.trimEnd(), name);
    }
  }
  return { positionals: parsed.positionals, values, help, json };
}

function flagText(k: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${k}${o.value ? ` ${o.value}` : ''}`;
}

function optionLine(k: string, o: OptionSpec, width: number): string {
  const tags: string[] = [];
  if (o.required) tags.push('required');
  if (o.multiple) tags.push('repeatable');
  if (o.default !== undefined) tags.push(`default: ${o.default}`);
  const desc = `${o.description}${tags.length ? ` (${tags.join('; ')})` : ''}`;
  const flag = flagText(k, o);
  return flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${desc}` : `  ${flag.padEnd(width)}  ${desc}`;
}

/** The usage line of a command. */
export function usageLine(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.optional ? `[<${p.name}>]` : `<${p.name}>`));
  const req = Object.entries(spec.options)
    .filter(([, o]) => o.required)
    .map(([k, o]) => `--${k}${o.value ? ` ${o.value}` : ''}${o.multiple ? ' ...' : ''}`);
  return `baton ${[...spec.path, ...pos, ...req].join(' ')} [options]`;
}

/** Full help text of one command. */
export function formatHelp(spec: CommandSpec): string {
  const width = 28;
  const lines = [`Usage: ${usageLine(spec)}`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  if (spec.positionals.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) {
      const name = `<${p.name}>`;
      lines.push(`  ${name.padEnd(width)}  ${p.description}${p.optional ? ' (optional)' : ''}`);
    }
  }
  const groups: Array<['command' | 'client' | 'general', string]> = [
    ['command', 'Options:'],
    ['client', 'Connection:'],
    ['general', 'General:'],
  ];
  const all = allOptions(spec);
  for (const [group, title] of groups) {
    const opts = all.filter(([, , g]) => g === group);
    if (opts.length === 0) continue;
    lines.push('', title);
    for (const [k, o] of opts) lines.push(optionLine(k, o, width));
  }
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** Typed accessors over parsed values. */
export function str(input: CommandInput, key: string): string | undefined {
  const v = input.values[key];
  return typeof v === 'string' ? v : undefined;
}

/** All values of a repeatable string option. */
export function list(input: CommandInput, key: string): string[] {
  const v = input.values[key];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** A boolean option. */
export function flag(input: CommandInput, key: string): boolean {
  return input.values[key] === true;
}
