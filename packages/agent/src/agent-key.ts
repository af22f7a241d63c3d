/**
 * The agent's Ed25519 key pair, generated in memory and never written, logged or handed
 * out. The private half sits in an ECMAScript private field, which neither
 * `JSON.stringify`, `util.inspect` nor `Object.keys` can reach; only the operations the
 * SDK needs (sign the registration message, sign proofs) are exposed, and only inside the
 * package.
 */
import { inspect } from 'node:util';
import { createProof, generateKeyPair, signBytes } from '@baton/core';
import type { KeyPair, PublicJwk } from '@baton/core';

/** Public, shareable facts about an agent key. */
export interface AgentKeyInfo {
  /** RFC 7638 thumbprint: the `cnf.jkt` every token of this agent is bound to. */
  readonly thumbprint: string;
  /** The public key as a JWK (`kty`, `crv`, `x`). */
  readonly publicJwk: PublicJwk;
}

/** Holder of the in-memory key pair. Internal to @baton/agent. */
export class AgentKey {
  readonly #keyPair: KeyPair;

  private constructor(keyPair: KeyPair) {
    this.#keyPair = keyPair;
  }

  /** A fresh key pair from the OS CSPRNG. */
  static generate(): AgentKey {
    return new AgentKey(generateKeyPair());
  }

  get thumbprint(): string {
    return this.#keyPair.thumbprint;
  }

  get publicJwk(): PublicJwk {
    return this.#keyPair.publicJwk;
  }

  /** The 32 raw public-key bytes (a copy: callers cannot alter ours). */
  get rawPublicKey(): Buffer {
    return Buffer.from(this.#keyPair.rawPublicKey);
  }

  /** Ed25519 signature over `data`. */
  sign(data: Uint8Array): Buffer {
    return signBytes(data, this.#keyPair.privateKey);
  }

  /**
   * A DPoP-shaped proof (`typ: dpop+jwt`) for one request: `htm`/`htu` name the target,
   * `ath` binds the access token.
   */
  proof(opts: { htm: string; htu: string; accessToken?: string; nowMs: number }): string {
    return createProof({ keyPair: this.#keyPair, ...opts });
  }

  /**
   * The key pair itself, for helpers in this package that take one (e.g. @baton/guard's
   * `dpopMetadata`). Never re-exported.
   */
  unsafeKeyPair(): KeyPair {
    return this.#keyPair;
  }

  toJSON(): AgentKeyInfo {
    return { thumbprint: this.thumbprint, publicJwk: this.publicJwk };
  }

  [inspect.custom](): string {
    return `AgentKey { thumbprint: '${this.thumbprint}' }`;
  }
}
