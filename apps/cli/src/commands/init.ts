/**
 * `baton init`: a Baton directory (0700) with the operator key (0600, generated here and
 * never printed) and an authority.json that names that key as operator `admin`.
 * Idempotent: a second run reports what exists and changes nothing unless --force.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG, resolveConfig, writeKeyFile } from '@baton/authority';
import { generateKeyPair, randomId, type KeyPair } from '@baton/core';
import { failure } from '../cli-error.js';
import { flag, str, type CommandSpec } from '../command-spec.js';
import { CONNECTION_DEFAULTS, baseDir, checkHostPort, loadKey } from '../connection.js';

/** Defaults of `baton init`. */
export const INIT_DEFAULTS = Object.freeze({
  trustDomain: DEFAULT_CONFIG.trustDomain,
  listen: DEFAULT_CONFIG.listen,
  /** SQLite file inside the directory. */
  store: 'sqlite:baton.db',
  /** Operator id given to the generated key. */
  operatorId: 'admin',
});

type Step = { readonly path: string; readonly action: 'created' | 'replaced' | 'exists' };

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${randomId(8)}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
}

function replaceKeyFile(file: string, kp: KeyPair): void {
  const tmp = `${file}.${randomId(8)}.tmp`;
  writeKeyFile(tmp, kp);
  fs.renameSync(tmp, file);
}

export const initCommand: CommandSpec = {
  path: ['init'],
  summary: 'Create a Baton directory: the operator key and authority.json.',
  description:
    'Creates the directory (mode 0700), generates the operator key keys/operator.jwk (mode 0600; it is never printed) and writes authority.json naming that key as operator "admin". Running it again changes nothing and says what exists; --force writes a new operator key and config (the store and signing keys are kept).',
  positionals: [],
  options: {
    dir: { type: 'string', value: '<path>', description: 'directory to create', default: CONNECTION_DEFAULTS.dir },
    'trust-domain': { type: 'string', value: '<domain>', description: 'SPIFFE trust domain of agent identities', default: INIT_DEFAULTS.trustDomain },
    listen: { type: 'string', value: '<host:port>', description: 'address the authority listens on (port 0: any free port)', default: INIT_DEFAULTS.listen },
    force: { type: 'boolean', description: 'replace an existing operator key and authority.json', default: 'off' },
  },
  examples: ['baton init', 'baton init --dir /srv/baton --trust-domain acme.example --listen 0.0.0.0:7700'],
  async run(input, { io, out }) {
    const dir = baseDir(input, io);
    const configFile = path.join(dir, CONNECTION_DEFAULTS.configFile);
    const keyFile = path.join(dir, CONNECTION_DEFAULTS.operatorKey);
    const trustDomain = str(input, 'trust-domain') ?? INIT_DEFAULTS.trustDomain;
    if (!/^[a-z0-9._-]{1,255}$/.test(trustDomain)) {
      throw failure('ERR_INVALID_ARGUMENT', `--trust-domain ${JSON.stringify(trustDomain)} is not a SPIFFE trust domain`, 'use lowercase letters, digits, dots, dashes and underscores, e.g. acme.example');
    }
    const listen = checkHostPort(str(input, 'listen') ?? INIT_DEFAULTS.listen, '--listen');
    const force = flag(input, 'force');

    const dirExists = fs.existsSync(dir);
    const configExists = fs.existsSync(configFile);
    const keyExists = fs.existsSync(keyFile);
    if (dirExists && !fs.statSync(dir).isDirectory()) throw failure('ERR_INVALID_ARGUMENT', `${dir} exists and is not a directory`, 'pass another --dir');

    if (!force && configExists && !keyExists) {
      throw failure('ERR_NOT_FOUND', `${configFile} exists but the operator key ${keyFile} is missing`, 'restore the key file, or run `baton init --force` to make a new operator key and rewrite authority.json');
    }
    if (!force && configExists && keyExists) {
      const key = loadKey(keyFile, 'operator key');
      const steps: Step[] = [
        { path: dir, action: 'exists' },
        { path: configFile, action: 'exists' },
        { path: keyFile, action: 'exists' },
      ];
      const mode = fs.statSync(dir).mode & 0o777;
      if ((mode & 0o077) !== 0) out.warn(`${dir} is accessible by group/others (mode ${mode.toString(8)}): chmod 700 ${dir}`);
      out.result({ dir, config: configFile, operatorKey: keyFile, changed: false, steps, operator: { thumbprint: key.thumbprint } }, () =>
        [
          `Already initialised: ${dir} (nothing changed)`,
          ...steps.map((s) => `  exists   ${path.relative(io.cwd, s.path) || '.'}`),
          'Use --force to write a new operator key and authority.json.',
        ].join('\n'),
      );
      return;
    }

    // Everything the config will say is validated by the authority's own parser first.
    const steps: Step[] = [];
    let key: KeyPair;
    if (keyExists && !force) {
      key = loadKey(keyFile, 'operator key');
      steps.push({ path: keyFile, action: 'exists' });
    } else {
      key = generateKeyPair();
    }
    const raw = {
      trustDomain,
      listen,
      store: INIT_DEFAULTS.store,
      services: [...DEFAULT_CONFIG.services],
      operators: [{ id: INIT_DEFAULTS.operatorId, jwk: key.publicJwk }],
    };
    const config = resolveConfig(raw, dir, {});

    if (!dirExists) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      steps.unshift({ path: dir, action: 'created' });
    } else {
      const mode = fs.statSync(dir).mode & 0o777;
      if ((mode & 0o077) !== 0) out.warn(`${dir} is accessible by group/others (mode ${mode.toString(8)}): chmod 700 ${dir}`);
      steps.unshift({ path: dir, action: 'exists' });
    }
    if (!keyExists) {
      writeKeyFile(keyFile, key);
      steps.push({ path: keyFile, action: 'created' });
    } else if (force) {
      replaceKeyFile(keyFile, key);
      steps.push({ path: keyFile, action: 'replaced' });
    }
    writeFileAtomic(configFile, JSON.stringify(raw, null, 2) + '\n');
    steps.push({ path: configFile, action: configExists ? 'replaced' : 'created' });

    const rel = (p: string): string => path.relative(io.cwd, p) || '.';
    out.result(
      {
        dir,
        config: configFile,
        operatorKey: keyFile,
        changed: true,
        steps,
        trustDomain: config.trustDomain,
        issuer: config.issuer,
        listen: config.listen,
        operator: { id: INIT_DEFAULTS.operatorId, thumbprint: key.thumbprint, jwk: key.publicJwk },
      },
      () =>
        [
          `Initialised Baton in ${dir}`,
          ...steps.map((s) => `  ${s.action.padEnd(8)} ${rel(s.path)}${s.path === dir ? ' (0700)' : s.path === keyFile ? ' (0600, never printed)' : ''}`),
          `  operator ${INIT_DEFAULTS.operatorId}, key thumbprint ${key.thumbprint}`,
          `  trust domain ${config.trustDomain}, issuer ${config.issuer}, listen ${config.listen}`,
          '',
          force && (keyExists || configExists)
            ? 'Restart the authority so it uses the new operator key and config.'
            : `Next: baton authority start${rel(dir) === CONNECTION_DEFAULTS.dir ? '' : ` --dir ${rel(dir)}`}`,
        ].join('\n'),
    );
  },
};
