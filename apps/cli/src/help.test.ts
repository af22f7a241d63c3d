import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './commands/index.js';
import { allOptions } from './command-spec.js';
import { cleanup, run, runChild, tempDir } from './testing/cli-harness.js';

const cwd = tempDir();
afterAll(() => cleanup(cwd));

describe('baton --help', () => {
  it('lists every command with its summary', async () => {
    const r = await run(['--help'], { cwd });
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`${c.path.join(' ')}  `);
    expect(r.stdout).toContain('--json');
  });

  it.each(COMMANDS.map((c) => [c.path.join(' '), c] as const))('`baton %s --help` documents every flag with its default', async (_name, spec) => {
    const r = await run([...spec.path, '--help'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: baton ${spec.path.join(' ')}`);
    expect(r.stdout).toContain(spec.summary);
    for (const p of spec.positionals) expect(r.stdout).toContain(`<${p.name}>`);
    const lines = r.stdout.replace(/\n {20,}/g, ' ').split('\n');
    for (const [name, o] of allOptions(spec)) {
      const line = lines.find((l) => l.includes(`--${name}`) && l.trimStart().startsWith(o.short ? `-${o.short}, --${name}` : `--${name}`));
      expect(line, `--${name}`).toBeDefined();
      if (name !== 'help') expect(line, `--${name}`).toMatch(/\((?:[^)]*; )?(default: [^)]+|required[^)]*)\)$/);
    }
  });

  it('also answers `baton help <command>` and `baton <group> --help`', async () => {
    const a = await run(['help', 'workflow', 'create'], { cwd });
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('--max-depth');
    const b = await run(['workflow', '--help'], { cwd });
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/workflow create[\s\S]*workflow list[\s\S]*workflow show/);
  });
});

describe('usage errors exit 2 with usage on stderr', () => {
  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['workflow'], /workflow needs a subcommand/],
    [['workflow', 'delete', 'x'], /unknown command "workflow delete"/],
    [['workflow', 'show'], /missing <id>/],
    [['workflow', 'create', 'wf'], /missing --scope/],
    [['workflow', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['workflow', 'show', 'a', 'b'], /unexpected argument "b"/],
    [['revoke', 'everything', 'x'], /unknown level "everything"/],
    [['revoke', 'task', 'o/t', '--reason', 'boredom'], /unknown reason "boredom"/],
    [['launch-token', 'create', '--workflow', 'w', '--task', 't', '--principal', 'p'], /missing --key/],
  ])('%j', async (args, message) => {
    const r = await run(args, { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/ERR_USAGE/);
    expect(r.stderr).toMatch(/[Uu]sage: baton/);
  });

  it('no arguments at all prints the help on stderr and exits 2', async () => {
    const r = await run([], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: baton <command>');
  });

  it('as a child process: unknown command → usage, exit 2; --help → exit 0', async () => {
    const bad = await runChild(['nope'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "nope"/);
    expect(bad.stderr).toContain('Usage: baton <command>');
    const help = await runChild(['--help'], { cwd });
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(c.path.join(' '));
    const version = await runChild(['--version', '--json'], { cwd });
    expect(version.code).toBe(0);
    expect(version.json<{ version: string }>().version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
