/**
 * The chain hash of a delegation chain: a SHA-256 fold over the root token's hash and the
 * hop hashes, each step over a structured canonical encoding (never joined strings).
 */
import { sha256B64url } from './hash.js';
import { canonicalJson } from './json.js';

const HASH_RE = /^[A-Za-z0-9_-]{43}$/;
const CHAIN_DOMAIN = 'baton-chain/v1';

/**
 * One step of the chain hash: SHA-256 over the canonical JSON of
 * `{c: <previous chain hash>, h: <hop hash>, v: "baton-chain/v1"}`, where the chain
 * hash before hop 1 is the root token's SHA-256. Structured, so no two different chains
 * can encode to the same bytes.
 */
export function chainStep(previous: string, hopHashValue: string): string {
  if (!HASH_RE.test(previous) || !HASH_RE.test(hopHashValue)) throw new TypeError('chainStep: hashes must be base64url SHA-256 values');
  return sha256B64url(canonicalJson({ c: previous, h: hopHashValue, v: CHAIN_DOMAIN }));
}

/**
 * The chain hash of a whole chain: {@link chainStep} folded from the root token's
 * SHA-256 over the hop hashes, root first.
 */
export function chainHash(rootTokenHash: string, hopHashes: readonly string[]): string {
  let h = rootTokenHash;
  for (const x of hopHashes) h = chainStep(h, x);
  if (hopHashes.length === 0 && !HASH_RE.test(h)) throw new TypeError('chainHash: root token hash must be a base64url SHA-256');
  return h;
}
