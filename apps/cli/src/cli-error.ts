/**
 * How the CLI fails: a {@link UsageError} when the command line does not match the
 * grammar (exit 2, with usage), a `BatonError` with its stable code for everything else
 * (exit 1), always with a hint of what to do next.
 */
import { BatonError, ERROR_CODES, isBatonError, type ErrorCode } from '@baton/core';

/** Exit codes. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2 });

/** The command line does not match the grammar: unknown command or flag, missing argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose usage to show (`workflow create`), or undefined for the top level. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

// Hints attached at the throw site win over the table below.
const attached = new WeakMap<object, string>();

/** A BatonError carrying a hint specific to where it was raised. */
export function failure(code: ErrorCode, detail: string, hint?: string): BatonError {
  const err = new BatonError(code, detail);
  if (hint) attached.set(err, hint);
  return err;
}

/** Attaches `hint` to `err` (a BatonError) unless it already carries one; returns `err`. */
export function withHint<E>(err: E, hint: string): E {
  if (typeof err === 'object' && err !== null && !attached.has(err)) attached.set(err, hint);
  return err;
}

/** Facts a hint may mention. */
export interface HintFacts {
  /** `host:port` the command talked to. */
  readonly authority?: string;
  /** The command being run, e.g. `workflow create`. */
  readonly command?: string;
}

function generic(code: ErrorCode, f: HintFacts): string | undefined {
  const help = f.command ? `baton ${f.command} --help` : 'baton --help';
  switch (code) {
    case 'ERR_UNAVAILABLE':
      return `cannot reach the authority${f.authority ? ` at ${f.authority}` : ''}: start it with \`baton authority start\`, or pass --authority host:port`;
    case 'ERR_DEADLINE_EXCEEDED':
      return `the authority${f.authority ? ` at ${f.authority}` : ''} did not answer in time: check that it is running and reachable`;
    case 'ERR_PERMISSION_DENIED':
      return 'the key signing this call is not allowed to make it: operators are listed in authority.json (restart the authority after editing it); orchestrators are registered with `baton orchestrator add` and act only in their workflows; pass the right key with --key';
    case 'ERR_WORKFLOW_NOT_FOUND':
      return 'list the existing workflows with `baton workflow list`';
    case 'ERR_WORKFLOW_EXISTS':
      return 'workflow ids are unique: pick another id, or look at this one with `baton workflow show <id>`';
    case 'ERR_ALREADY_EXISTS':
      return 'it is registered already; choose another id';
    case 'ERR_SCOPE_INVALID':
      return 'a scope is `action:resource[:id]` or JSON, e.g. --scope \'{"action":"approve","resource":"payments","constraints":{"amount":{"max":10000}}}\'';
    case 'ERR_SCOPE_ESCALATION':
      return 'the scopes asked for must be covered by the workflow ceiling: see `baton workflow show <workflow>`';
    case 'ERR_POLICY_INVALID':
      return `a policy value is outside its limits: see \`${help}\``;
    case 'ERR_ID_INVALID':
      return 'ids are lowercase `[a-z0-9][a-z0-9._-]{0,63}` (task ids may also use uppercase, up to 128 characters)';
    case 'ERR_KEY_INVALID':
      return 'key files are private Ed25519 JWKs readable only by you (chmod 600 <file>); public keys are JWKs or 43-character base64url';
    case 'ERR_JSON_INVALID':
      return 'the JSON is malformed (duplicate keys and `__proto__` are refused)';
    case 'ERR_INVALID_ARGUMENT':
      return `check the arguments against \`${help}\``;
    case 'ERR_RATE_LIMITED':
      return 'the authority is busy: retry in a moment';
    case 'ERR_INTERNAL':
      return 'unexpected failure; set BATON_DEBUG=1 for a stack trace and report it';
    default:
      if (code.startsWith('ERR_PROOF_')) return 'the authority refused the signed proof: check this machine\'s clock (proofs are valid for 60 s) and the key file';
      if (code.startsWith('ERR_TOKEN_') || code.startsWith('ERR_JWS_') || code === 'ERR_ALG_NOT_ALLOWED') return 'inspect the token with `baton token inspect <token>`';
      return undefined;
  }
}

/** The hint for an error: the one attached where it was raised, else by code. */
export function hintFor(err: unknown, facts: HintFacts = {}): string | undefined {
  if (typeof err === 'object' && err !== null && attached.has(err)) return attached.get(err);
  if (err instanceof UsageError) return `see \`baton ${err.command ? `${err.command} ` : ''}--help\``;
  if (isBatonError(err)) return generic(err.code, facts);
  return generic('ERR_INTERNAL', facts);
}

/** The code, title and detail to print for any error. */
export function describeError(err: unknown): { code: ErrorCode | 'ERR_USAGE'; title: string; detail: string } {
  if (err instanceof UsageError) return { code: 'ERR_USAGE', title: 'Invalid command line', detail: err.message };
  if (isBatonError(err)) {
    // Remote failures carry only the generic title (the server never sends its detail).
    const detail = err.detail.replace(/^remote status \d+: ?/, '');
    return { code: err.code, title: ERROR_CODES[err.code].title, detail: detail || ERROR_CODES[err.code].title };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'ERR_INTERNAL', title: ERROR_CODES.ERR_INTERNAL.title, detail: message };
}

/** Turns a filesystem error into a coded one with a hint. */
export function fileError(err: unknown, file: string, what: string, hint?: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return failure('ERR_NOT_FOUND', `${what} ${file} does not exist`, hint);
  if (code === 'EACCES' || code === 'EPERM') return failure('ERR_PERMISSION_DENIED', `cannot access ${what} ${file}`, 'check the file permissions (and that you are its owner)');
  if (code === 'EEXIST') return failure('ERR_ALREADY_EXISTS', `${what} ${file} already exists`, hint);
  if (code === 'EISDIR') return failure('ERR_INVALID_ARGUMENT', `${what} ${file} is a directory`, hint);
  return err;
}
