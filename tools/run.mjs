#!/usr/bin/env node
// One entry point for `npm test`, `npm run demo`, `npm run bench`, ...: on a fresh machine
// with only Node 20 and npm it installs the pinned pnpm locally, installs from the
// lockfile, builds with turbo (cached), then runs the command. Every step is skipped when
// its inputs have not changed, so the second run is fast. Setup output goes to stderr so
// `npm run demo -- --json` keeps stdout machine-readable.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '12.4.2';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = path.join(root, '.tools');
const pnpmBin = path.join(toolsDir, 'node_modules', '.bin', 'pnpm');
const quiet = process.argv.includes('--json');

const env = {
  ...process.env,
  PATH: `${path.join(toolsDir, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  COREPACK_ENABLE_STRICT: '0',
};

function log(msg) {
  if (!quiet) process.stderr.write(`\x1b[2m[baton] ${msg}\x1b[0m\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: opts.stdio ?? ['ignore', 2, 2], ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(cmd, args, what) {
  const code = run(cmd, args);
  if (code !== 0) {
    process.stderr.write(`[baton] ${what} failed (exit ${code})\n`);
    process.exit(code);
  }
}

function hashFiles(files) {
  const h = createHash('sha256');
  for (const f of files) {
    const p = path.join(root, f);
    h.update(f).update('\0').update(fs.existsSync(p) ? fs.readFileSync(p) : '').update('\0');
  }
  return h.digest('hex');
}

function workspaceManifests() {
  const out = ['package.json'];
  for (const dir of ['packages', 'apps', 'tools']) {
    const base = path.join(root, dir);
    if (!fs.existsSync(base)) continue;
    for (const d of fs.readdirSync(base)) {
      if (fs.existsSync(path.join(base, d, 'package.json'))) out.push(`${dir}/${d}/package.json`);
    }
  }
  if (fs.existsSync(path.join(root, 'test', 'package.json'))) out.push('test/package.json');
  return out;
}

function ensurePnpm() {
  if (fs.existsSync(pnpmBin)) {
    const r = spawnSync(pnpmBin, ['--version'], { env, encoding: 'utf8' });
    if (r.stdout?.trim() === PNPM_VERSION) return;
  }
  log(`installing pnpm ${PNPM_VERSION} into .tools/`);
  fs.mkdirSync(toolsDir, { recursive: true });
  must('npm', ['install', '--prefix', toolsDir, '--no-audit', '--no-fund', '--loglevel=error', '-E', `pnpm@${PNPM_VERSION}`], 'installing pnpm');
}

function ensureInstall() {
  const inputs = ['pnpm-lock.yaml', 'pnpm-workspace.yaml', '.pnpmfile.cjs', ...workspaceManifests()];
  const stamp = path.join(root, 'node_modules', '.baton-install');
  const want = hashFiles(inputs);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  const frozen = fs.existsSync(path.join(root, 'pnpm-lock.yaml'));
  log(`installing dependencies${frozen ? ' from the lockfile' : ''}`);
  must(pnpmBin, ['install', ...(frozen ? ['--frozen-lockfile'] : []), '--reporter=append-only'], 'pnpm install');
  fs.writeFileSync(stamp, hashFiles(inputs));
}

function build() {
  log('building (turbo, cached)');
  must(pnpmBin, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--log-prefix=none'], 'build');
}

function node(script, args) {
  const r = spawnSync(process.execPath, [script, ...args], { cwd: root, env: process.env, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const [command = 'test', ...args] = process.argv.slice(2);
const passArgs = args[0] === '--' ? args.slice(1) : args;

ensurePnpm();
ensureInstall();

switch (command) {
  case 'setup':
    build();
    break;
  case 'generate':
    must(pnpmBin, ['--filter', '@baton/proto', 'run', 'generate'], 'generate');
    break;
  case 'build':
    build();
    break;
  case 'test': {
    build();
    must(pnpmBin, ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only', '--log-prefix=none'], 'typecheck');
    const results = path.join(root, '.vitest-results.json');
    fs.rmSync(results, { force: true });
    const code = run(pnpmBin, ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...passArgs], { stdio: 'inherit' });
    if (fs.existsSync(results)) {
      const r = JSON.parse(fs.readFileSync(results, 'utf8'));
      const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
      process.stdout.write(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
      if (r.numTotalTests === 0) process.exit(1);
    }
    process.exit(code);
  }
  case 'demo':
    build();
    node(path.join(root, 'apps/demo/dist/main.js'), passArgs);
    break;
  case 'bench':
    build();
    node(path.join(root, 'tools/bench/dist/main.js'), passArgs);
    break;
  case 'soak':
    build();
    node(path.join(root, 'tools/bench/dist/soak.js'), passArgs);
    break;
  case 'crash':
    build();
    node(path.join(root, 'tools/bench/dist/crash.js'), passArgs);
    break;
  case 'fuzz':
    build();
    process.env.BATON_FUZZ_RUNS ??= '100000';
    node(path.join(root, 'node_modules/vitest/vitest.mjs'), ['run', '--project', 'fuzz', ...passArgs]);
    break;
  case 'baton':
    build();
    node(path.join(root, 'apps/cli/dist/main.js'), passArgs);
    break;
  default:
    process.stderr.write(`unknown command: ${command}\n`);
    process.exit(2);
}
