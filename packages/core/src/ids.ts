/**
 * Validation of the identifiers Baton puts into SPIFFE IDs, token claims and storage
 * keys. Every pattern is ASCII-only, so no Unicode look-alike can pass.
 */
import { BatonError } from './errors.js';

/** The kinds of identifier {@link assertId} knows. */
export type IdKind = 'workflow' | 'orchestration' | 'task' | 'name' | 'instance';

const ID_PATTERNS: Readonly<Record<IdKind, RegExp>> = Object.freeze({
  workflow: /^[a-z0-9][a-z0-9._-]{0,63}$/,
  orchestration: /^[a-z0-9][a-z0-9._-]{0,63}$/,
  name: /^[a-z0-9][a-z0-9._-]{0,63}$/,
  task: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  // base64url of 12..48 random bytes
  instance: /^[A-Za-z0-9_-]{16,64}$/,
});

/**
 * Return `value` when it is a well-formed identifier of `kind`, else throw
 * `BatonError('ERR_ID_INVALID')`.
 *
 * - `workflow`, `orchestration`, `name`: `^[a-z0-9][a-z0-9._-]{0,63}$`
 * - `task`: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`
 * - `instance`: `^[A-Za-z0-9_-]{16,64}$` (base64url)
 *
 * `.` and `..` are always refused, so an identifier is safe as a path segment. An
 * unknown `kind` is a caller mistake (`TypeError`).
 *
 * @example assertId('task', 'invoice-approval') // 'invoice-approval'
 */
export function assertId(kind: IdKind, value: unknown): string {
  const pattern = Object.prototype.hasOwnProperty.call(ID_PATTERNS, kind) ? ID_PATTERNS[kind] : undefined;
  if (pattern === undefined) throw new TypeError(`assertId: unknown id kind ${String(kind)}`);
  if (typeof value !== 'string') throw new BatonError('ERR_ID_INVALID', `${kind} id is not a string`);
  // The patterns cannot match "." or ".." today; the explicit check keeps that true if
  // a pattern is ever relaxed.
  if (value === '.' || value === '..' || !pattern.test(value)) {
    throw new BatonError('ERR_ID_INVALID', `malformed ${kind} id`);
  }
  return value;
}
