/**
 * Where client commands find things: the Baton directory (`--dir`), its authority.json,
 * the authority address (`--authority`, `BATON_AUTHORITY`, else the config's listen
 * address) and the signing key (`--key`, else the operator key made by `baton init`).
 * Every call made through a {@link Connection} is signed with that key (`baton-proof`).
 */
import path from 'node:path';
import { loadConfig, readKeyFile, type AuthorityConfig } from '@baton/authority';
import { isBatonError, type KeyPair } from '@baton/core';
import { keyHolderClient } from '@baton/guard';
import { createClient, type Client } from '@baton/proto';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { failure, fileError, withHint } from './cli-error.js';
import { str, type CommandInput, type RunContext } from './command-spec.js';
import type { CliIo } from './io.js';

/** Defaults of the connection flags. */
export const CONNECTION_DEFAULTS = Object.freeze({
  /** The Baton directory `baton init` creates. */
  dir: '.baton',
  /** Config file name inside the directory. */
  configFile: 'authority.json',
  /** The operator key, relative to the directory. */
  operatorKey: path.join('keys', 'operator.jwk'),
  /** Unary call deadline: long enough for a busy authority, short enough for a person. */
  deadlineMs: 10_000,
});

const HOSTPORT_RE = /^(?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;

/** Validates `host:port`. ERR_INVALID_ARGUMENT. */
export function checkHostPort(value: string, what: string): string {
  const m = HOSTPORT_RE.exec(value);
  if (!m || Number(m[1]) > 65535) throw failure('ERR_INVALID_ARGUMENT', `${what} ${JSON.stringify(value)} is not host:port`, 'e.g. --authority 127.0.0.1:7700');
  return value;
}

/** The absolute Baton directory of a command. */
export function baseDir(input: CommandInput, io: CliIo): string {
  return path.resolve(io.cwd, str(input, 'dir') ?? CONNECTION_DEFAULTS.dir);
}

/** The authority config in `dir`, or undefined when there is none. */
export function findConfig(dir: string, io: CliIo): AuthorityConfig | undefined {
  const file = path.join(dir, CONNECTION_DEFAULTS.configFile);
  try {
    return loadConfig(file, io.env);
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') return undefined;
    if (isBatonError(err)) throw withHint(err, `fix ${file}, or recreate it with \`baton init --force\``);
    throw fileError(err, file, 'config');
  }
}

/** Reads a private key file (0600 enforced), with coded errors. */
export function loadKey(file: string, what: string, hint?: string): KeyPair {
  try {
    return readKeyFile(file);
  } catch (err) {
    if (isBatonError(err)) throw withHint(err, `${what} must be a private Ed25519 JWK readable only by you: chmod 600 ${file}`);
    if (err instanceof SyntaxError) throw failure('ERR_KEY_INVALID', `${what} ${file} is not JSON`);
    throw fileError(err, file, what, hint);
  }
}

/** A dialable address for a listen address (`0.0.0.0` → loopback). */
function dialable(listen: string): string {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  const port = listen.slice(i + 1);
  const h = host === '0.0.0.0' || host === '[::]' || host === '::' ? '127.0.0.1' : host;
  return `${h}:${port}`;
}

/** The authority address for a command, or undefined when nothing names one. */
export function authorityTarget(input: CommandInput, io: CliIo, config: AuthorityConfig | undefined): string | undefined {
  const explicit = str(input, 'authority') ?? io.env.BATON_AUTHORITY;
  if (explicit !== undefined) return checkHostPort(explicit, '--authority');
  if (!config) return undefined;
  const target = dialable(config.listen);
  if (target.endsWith(':0')) {
    throw failure('ERR_INVALID_ARGUMENT', 'the config listens on port 0 (any free port)', 'pass the address `baton authority start` printed: --authority host:port');
  }
  return target;
}

/** Everything a client command needs to talk to the authority. */
export interface Connection {
  readonly dir: string;
  readonly config: AuthorityConfig | undefined;
  readonly target: string;
  /** The key every call is signed with. */
  readonly key: KeyPair;
  /** IdentityService, calls signed by `key`. */
  identity(): Client<typeof IdentityService>;
  /** IssuerService, calls signed by `key`. */
  issuer(): Client<typeof IssuerService>;
  /** AuditService, calls signed by `key`. */
  audit(): Client<typeof AuditService>;
  close(): void;
}

/**
 * Resolves directory, config, address and key, and runs `fn` with lazily opened,
 * key-signed clients that are closed afterwards. `keyRequiredHint` explains a missing key.
 */
export async function withConnection<T>(input: CommandInput, ctx: RunContext, fn: (c: Connection) => Promise<T>, options: { keyWhat?: string } = {}): Promise<T> {
  const dir = baseDir(input, ctx.io);
  const config = findConfig(dir, ctx.io);
  const target = authorityTarget(input, ctx.io, config);
  if (target === undefined) {
    throw failure('ERR_NOT_FOUND', `no authority.json in ${dir} and no --authority`, 'run `baton init` first, pass --dir <baton directory>, or pass --authority host:port');
  }
  ctx.facts.authority = target;
  const explicitKey = str(input, 'key');
  const keyFile = explicitKey ? path.resolve(ctx.io.cwd, explicitKey) : path.join(dir, CONNECTION_DEFAULTS.operatorKey);
  const key = loadKey(keyFile, options.keyWhat ?? 'key file', explicitKey ? undefined : 'run `baton init` to create the operator key, or pass --key <file>');
  const clients: { close(): void }[] = [];
  const open = <C extends { close(): void }>(make: () => C): (() => C) => {
    let c: C | undefined;
    return () => {
      if (!c) {
        c = make();
        clients.push(c);
      }
      return c;
    };
  };
  const opts = { defaultDeadlineMs: CONNECTION_DEFAULTS.deadlineMs, clock: ctx.io.clock };
  const conn: Connection = {
    dir,
    config,
    target,
    key,
    identity: open(() => keyHolderClient(IdentityService, target, key, opts)),
    issuer: open(() => keyHolderClient(IssuerService, target, key, opts)),
    audit: open(() => keyHolderClient(AuditService, target, key, opts)),
    close: () => clients.forEach((c) => c.close()),
  };
  try {
    return await fn(conn);
  } finally {
    conn.close();
  }
}

/** An unauthenticated IssuerService client (GetKeys, Introspect, ResolveReference). */
export function publicIssuerClient(target: string): Client<typeof IssuerService> {
  return createClient(IssuerService, target, { defaultDeadlineMs: CONNECTION_DEFAULTS.deadlineMs });
}
