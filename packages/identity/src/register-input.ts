/**
 * Structural validation of a RegisterRequest. Everything that can be checked without
 * state is checked here, before the launch token or the nonce is even looked up, so a
 * malformed request can never consume either.
 */
import type { KeyObject } from 'node:crypto';
import { BatonError, assertId, jwkThumbprint, publicJwkOf, publicKeyFromRaw, type Scope } from '@baton/core';
import type { RegisterRequest } from './proto.js';
import { NONCE_BYTES, nonceHash } from './challenges.js';
import { isWellFormedLaunchToken, launchTokenHash } from './launch-token-format.js';
import { scopesFromProto } from './policy.js';

/** Ed25519 signature length. */
const SIGNATURE_BYTES = 64;

/** A RegisterRequest that passed every structural check. */
export interface RegisterInput {
  readonly launchToken: string;
  readonly launchTokenHash: string;
  readonly publicKey: KeyObject;
  readonly rawPublicKey: Buffer;
  /** RFC 7638 thumbprint of the agent key (the tokens' `cnf.jkt`). */
  readonly jkt: string;
  readonly nonce: Buffer;
  readonly nonceHash: string;
  readonly signature: Buffer;
  /** Empty: the launch token's whole ceiling. */
  readonly requestedScopes: readonly Scope[];
  readonly requestedTtlSeconds: number;
  /** `''` when the agent gave no name. */
  readonly name: string;
}

/**
 * Validates the request's shape. Order: launch token, public key, nonce, signature,
 * scopes, name. Throws ERR_LAUNCH_TOKEN_INVALID, ERR_KEY_INVALID, ERR_NONCE_INVALID,
 * ERR_REGISTRATION_SIGNATURE_INVALID, ERR_SCOPE_INVALID or ERR_ID_INVALID.
 */
export function parseRegisterRequest(req: RegisterRequest): RegisterInput {
  if (!isWellFormedLaunchToken(req.launchToken)) throw new BatonError('ERR_LAUNCH_TOKEN_INVALID', 'malformed launch token');
  const rawPublicKey = Buffer.from(req.publicKey);
  const publicKey = publicKeyFromRaw(rawPublicKey);
  if (req.nonce.byteLength !== NONCE_BYTES) throw new BatonError('ERR_NONCE_INVALID', `nonce must be ${NONCE_BYTES} bytes`);
  if (req.signature.byteLength !== SIGNATURE_BYTES) throw new BatonError('ERR_REGISTRATION_SIGNATURE_INVALID', `signature must be ${SIGNATURE_BYTES} bytes`);
  const requestedScopes = scopesFromProto(req.requestedScopes, 'ERR_SCOPE_INVALID');
  const name = req.name === '' ? '' : assertId('name', req.name);
  const nonce = Buffer.from(req.nonce);
  return {
    launchToken: req.launchToken,
    launchTokenHash: launchTokenHash(req.launchToken),
    publicKey,
    rawPublicKey,
    jkt: jwkThumbprint(publicJwkOf(publicKey)),
    nonce,
    nonceHash: nonceHash(nonce),
    signature: Buffer.from(req.signature),
    requestedScopes,
    requestedTtlSeconds: req.requestedTtlSeconds,
    name,
  };
}
