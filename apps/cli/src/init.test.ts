import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig, readKeyFile } from '@baton/authority';
import { cleanup, run, runChild, tempDir } from './testing/cli-harness.js';

const dirs: string[] = [];
function fresh(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach(cleanup));

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('baton init', () => {
  it('creates the directory 0700, the operator key 0600 and a config naming that key', async () => {
    const cwd = fresh();
    const r = await run(['init', '--json', '--trust-domain', 'acme.example', '--listen', '127.0.0.1:7711'], { cwd });
    expect(r.code).toBe(0);
    const doc = r.json<{ changed: boolean; operator: { thumbprint: string }; config: string; operatorKey: string }>();
    expect(doc.changed).toBe(true);
    const dir = path.join(cwd, '.baton');
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'keys'))).toBe(0o700);
    expect(mode(path.join(dir, 'keys', 'operator.jwk'))).toBe(0o600);
    const key = readKeyFile(path.join(dir, 'keys', 'operator.jwk'));
    const config = loadConfig(path.join(dir, 'authority.json'), {});
    expect(config.trustDomain).toBe('acme.example');
    expect(config.listen).toBe('127.0.0.1:7711');
    expect(config.store).toBe(`sqlite:${path.join(dir, 'baton.db')}`);
    expect(config.services).toEqual([...DEFAULT_CONFIG.services]);
    expect(config.operators).toEqual([{ id: 'admin', jwk: key.publicJwk }]);
    expect(doc.operator.thumbprint).toBe(key.thumbprint);
    // The private key never appears in any output.
    const d = (JSON.parse(fs.readFileSync(path.join(dir, 'keys', 'operator.jwk'), 'utf8')) as { d: string }).d;
    expect(r.stdout + r.stderr).not.toContain(d);
  });

  it('is idempotent: a second run reports what exists and changes nothing', async () => {
    const cwd = fresh();
    expect((await run(['init'], { cwd })).code).toBe(0);
    const files = ['authority.json', 'keys/operator.jwk'].map((f) => path.join(cwd, '.baton', f));
    const before = files.map((f) => [fs.readFileSync(f, 'utf8'), fs.statSync(f).mtimeMs]);
    const again = await run(['init', '--json', '--trust-domain', 'other.example'], { cwd });
    expect(again.code).toBe(0);
    const doc = again.json<{ changed: boolean; steps: { action: string }[] }>();
    expect(doc.changed).toBe(false);
    expect(doc.steps.map((s) => s.action)).toEqual(['exists', 'exists', 'exists']);
    expect(files.map((f) => [fs.readFileSync(f, 'utf8'), fs.statSync(f).mtimeMs])).toEqual(before);
    const human = await run(['init'], { cwd });
    expect(human.stdout).toMatch(/Already initialised/);
    expect(human.stdout).toMatch(/--force/);
  });

  it('--force writes a new operator key and config', async () => {
    const cwd = fresh();
    const first = (await run(['init', '--json'], { cwd })).json<{ operator: { thumbprint: string } }>();
    const forced = await run(['init', '--json', '--force', '--listen', '127.0.0.1:7799'], { cwd });
    expect(forced.code).toBe(0);
    const doc = forced.json<{ operator: { thumbprint: string }; steps: { action: string }[] }>();
    expect(doc.operator.thumbprint).not.toBe(first.operator.thumbprint);
    expect(doc.steps.map((s) => s.action)).toEqual(['exists', 'replaced', 'replaced']);
    const keyFile = path.join(cwd, '.baton', 'keys', 'operator.jwk');
    expect(mode(keyFile)).toBe(0o600);
    expect(readKeyFile(keyFile).thumbprint).toBe(doc.operator.thumbprint);
    expect(loadConfig(path.join(cwd, '.baton', 'authority.json'), {}).listen).toBe('127.0.0.1:7799');
    expect(fs.readdirSync(path.join(cwd, '.baton', 'keys'))).toEqual(['operator.jwk']);
    expect((await run(['init', '--force'], { cwd })).stdout).toMatch(/Restart the authority/);
  });

  it('completes a half-done init from the existing key, and refuses a config without its key', async () => {
    const cwd = fresh();
    await run(['init'], { cwd });
    const keyFile = path.join(cwd, '.baton', 'keys', 'operator.jwk');
    const thumbprint = readKeyFile(keyFile).thumbprint;
    fs.rmSync(path.join(cwd, '.baton', 'authority.json'));
    const completed = await run(['init', '--json'], { cwd });
    expect(completed.code).toBe(0);
    expect(completed.json<{ operator: { thumbprint: string } }>().operator.thumbprint).toBe(thumbprint);

    fs.rmSync(keyFile);
    const refused = await run(['init'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ERR_NOT_FOUND/);
    expect(refused.stderr).toMatch(/hint: .*--force/);
    expect(fs.existsSync(keyFile)).toBe(false);
  });

  it.each([
    [['--trust-domain', 'Not A Domain'], 'ERR_INVALID_ARGUMENT'],
    [['--listen', 'localhost'], 'ERR_INVALID_ARGUMENT'],
    [['--listen', '127.0.0.1:99999'], 'ERR_INVALID_ARGUMENT'],
  ])('refuses %j with %s and creates nothing', async (args, code) => {
    const cwd = fresh();
    const r = await run(['init', ...args], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toMatch(/hint: /);
    expect(fs.existsSync(path.join(cwd, '.baton'))).toBe(false);
  });

  it('prints errors as JSON on stderr with --json and keeps stdout empty', async () => {
    const cwd = fresh();
    const r = await run(['init', '--json', '--listen', 'nope'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const err = JSON.parse(r.stderr) as { error: { code: string; hint: string } };
    expect(err.error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(err.error.hint).toBeTruthy();
  });

  it('works as a child process with --dir', async () => {
    const cwd = fresh();
    const r = await runChild(['init', '--dir', 'state'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Initialised Baton in/);
    expect(r.stdout).toMatch(/Next: baton authority start --dir state/);
    expect(mode(path.join(cwd, 'state'))).toBe(0o700);
    expect(mode(path.join(cwd, 'state', 'keys', 'operator.jwk'))).toBe(0o600);
  });
});
