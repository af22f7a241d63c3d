/**
 * `--public-key` values: a JWK file (public, or a private key file from
 * `baton orchestrator keygen`, of which only the public half is used), an inline public
 * JWK, or the raw 32-byte key in base64url.
 */
import fs from 'node:fs';
import path from 'node:path';
import { b64urlDecode, importPublicJwk, isBatonError, parseJsonStrict, publicJwkOf, publicKeyFromRaw, type PublicJwk } from '@baton/core';
import { failure, fileError, withHint } from './cli-error.js';
import { loadKey } from './connection.js';

const HINT = 'pass a JWK file (e.g. from `baton orchestrator keygen --out <file>`), an inline public JWK, or the 32-byte key as 43 base64url characters';

function fromJwkText(text: string, where: string): PublicJwk {
  try {
    const jwk = parseJsonStrict(text, { maxBytes: 8192 });
    return publicJwkOf(importPublicJwk(jwk));
  } catch (err) {
    if (isBatonError(err)) throw withHint(failure(err.code === 'ERR_JSON_INVALID' ? 'ERR_KEY_INVALID' : err.code, `${where}: ${err.detail}`), HINT);
    throw err;
  }
}

/** The public JWK a `--public-key` value names. ERR_KEY_INVALID / ERR_NOT_FOUND. */
export function parsePublicKeyArg(value: string, cwd: string): PublicJwk {
  const v = value.trim();
  if (v.startsWith('{')) return fromJwkText(v, '--public-key');
  if (/^[A-Za-z0-9_-]{43}$/.test(v) && !fs.existsSync(path.resolve(cwd, v))) {
    try {
      return publicJwkOf(publicKeyFromRaw(b64urlDecode(v)));
    } catch (err) {
      if (isBatonError(err)) throw withHint(failure('ERR_KEY_INVALID', `--public-key: ${err.detail}`), HINT);
      throw err;
    }
  }
  const file = path.resolve(cwd, v);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw fileError(err, file, 'public key file', HINT);
  }
  // A private key file: take its public half, after the usual 0600 check.
  if (/"d"\s*:/.test(text)) return loadKey(file, 'key file').publicJwk;
  return fromJwkText(text, file);
}
