/**
 * The message an agent signs to register: it binds the authority's one-time challenge,
 * the launch token and the agent's own public key into one byte string. It lives in core
 * because both sides need it: the identity service verifies it and the agent SDK signs
 * it, and the SDK must not depend on a server package.
 */
import { sha256 } from './hash.js';

/**
 * Domain-separation prefix of the registration message (`baton-register-v1` and a
 * newline, as UTF-8). A signature made for any other Baton purpose never starts with it.
 */
export const REGISTRATION_CONTEXT = 'baton-register-v1\n';

const CONTEXT_BYTES = Buffer.from(REGISTRATION_CONTEXT, 'utf8');

/**
 * The bytes an agent signs with its Ed25519 key to register:
 * `"baton-register-v1\n" || nonce || SHA-256(launchToken) || publicKey`.
 *
 * All three parts are raw bytes (the launch token is hashed as its UTF-8 text), never
 * their hex or base64 spelling. Lengths are not checked here; the identity service
 * validates them before it verifies.
 *
 * @example
 * const msg = registrationMessage(challenge.nonce, launchToken, keyPair.rawPublicKey);
 * const signature = signBytes(msg, keyPair.privateKey);
 */
export function registrationMessage(nonce: Uint8Array, launchToken: string, publicKey: Uint8Array): Buffer {
  if (!(nonce instanceof Uint8Array)) throw new TypeError('registrationMessage: nonce must be a Uint8Array');
  if (typeof launchToken !== 'string') throw new TypeError('registrationMessage: launchToken must be a string');
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('registrationMessage: publicKey must be a Uint8Array');
  return Buffer.concat([CONTEXT_BYTES, nonce, sha256(launchToken), publicKey]);
}
