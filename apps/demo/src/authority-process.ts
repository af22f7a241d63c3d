/**
 * Starts the authority as its own process (`baton-authority --config <file>`), with an
 * operator key the demo generates: a 0600 file whose public half is listed in the
 * authority config. Nothing secret goes into the authority's environment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeyPair } from '@baton/core';
import { loadOrCreateKeyFile } from '@baton/authority';
import { startChild } from './child-process.js';
import type { ChildHandle } from './child-process.js';

/** Operator id the demo's operator key is listed under. */
export const OPERATOR_ID = 'demo-operator';

/** A started authority. */
export interface AuthorityProcess {
  readonly child: ChildHandle;
  /** host:port of its gRPC server. */
  readonly address: string;
  /** Services it hosts (from its ready line). */
  readonly services: readonly string[];
  readonly operatorKey: KeyPair;
  readonly configFile: string;
}

/** Path of the authority's entry point, found through its package (no fixed layout). */
export function authorityMainScript(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.resolve('@baton/authority'))), 'main.js');
}

/** What the authority config says besides the operator. */
export interface AuthoritySetup {
  /** Services to host. Default: the authority's default set. */
  readonly services?: readonly string[];
  /** Resource servers allowed to append their guards' decisions to the audit log (public keys). */
  readonly resources?: readonly { readonly id: string; readonly jwk: KeyPair['publicJwk'] }[];
}

/**
 * Generates the operator key (`<dir>/operator.jwk`, 0600) and writes the authority
 * config (`<dir>/authority.json`) listing its public key and the resource servers' keys,
 * with data under `<dir>/authority` and a free port.
 */
export function writeAuthorityConfig(dir: string, setup: AuthoritySetup = {}): { configFile: string; operatorKey: KeyPair } {
  const operatorKey = loadOrCreateKeyFile(path.join(dir, 'operator.jwk'));
  const configFile = path.join(dir, 'authority.json');
  const config = {
    dataDir: 'authority',
    listen: '127.0.0.1:0',
    operators: [{ id: OPERATOR_ID, jwk: operatorKey.publicJwk }],
    ...(setup.resources ? { resources: setup.resources } : {}),
    ...(setup.services ? { services: setup.services } : {}),
  };
  fs.mkdirSync(path.join(dir, 'authority'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { configFile, operatorKey };
}

/** Starts the authority and waits for its ready line. */
export async function startAuthorityProcess(dir: string, spanFile: string, setup: AuthoritySetup = {}): Promise<AuthorityProcess> {
  const { configFile, operatorKey } = writeAuthorityConfig(dir, setup);
  const child = await startChild({
    name: 'authority',
    script: authorityMainScript(),
    args: ['--config', configFile],
    env: { BATON_TRACE_FILE: spanFile },
  });
  const address = child.ready['address'];
  if (typeof address !== 'string') throw new Error('authority ready line has no address');
  const services_ = Array.isArray(child.ready['services']) ? (child.ready['services'] as string[]) : [];
  return { child, address, services: services_, operatorKey, configFile };
}
