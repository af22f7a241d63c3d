/**
 * The exact bytes a request message was decoded from, kept beside the message (not on it)
 * so services can check a signed request hash (`rh`) against what was actually received
 * rather than against a re-encoding.
 */
const rawBytes = new WeakMap<object, Uint8Array>();

/** Remember the bytes `message` was decoded from (adapter internal). */
export function rememberRawBytes(message: object, bytes: Uint8Array): void {
  rawBytes.set(message, bytes);
}

/**
 * The wire bytes a request message was decoded from by a Baton server, or undefined for
 * messages that did not come off the wire (e.g. built with `create`).
 *
 * @example
 * ```ts
 * const rh = sha256B64url(rawBytesOf(req) ?? new Uint8Array());
 * ```
 */
export function rawBytesOf(message: object): Uint8Array | undefined {
  return rawBytes.get(message);
}
