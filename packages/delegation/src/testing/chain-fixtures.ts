/**
 * Test fixtures: an in-memory authority that signs root and child access tokens exactly
 * as the issuer does (packed `del`, RFC 8693 `act`), and agents that sign hops, so chain
 * verification can be tested offline, attacks included. Excluded from the build.
 */
import type { KeyObject } from 'node:crypto';
import {
  agentSpiffeId,
  chainHash,
  decodeHop,
  encodeHopScopes,
  formatScope,
  generateKeyPair,
  nextHopClaims,
  packHops,
  parseAccessTokenClaims,
  parseScopes,
  randomId,
  sha256B64url,
  signHop,
  signJws,
  decodeJws,
  type AccessTokenClaims,
  type ActClaim,
  type HopClaims,
  type KeyPair,
  type Scope,
} from '@baton/core';

export const ISSUER = 'spiffe://baton.local/authority';
export const TD = 'baton.local';
export const ORCH = 'expense-orchestrator';
export const PRINCIPAL = 'user:vp@acme.example';
/** A fixed "now" (seconds) so tests never depend on the wall clock. */
export const NOW = 1_750_000_000;
export const NOW_MS = NOW * 1000;

export interface TestAgent {
  readonly key: KeyPair;
  readonly id: string;
  readonly task: string;
}

/** A fresh agent with a realistic SPIFFE id (`instance` = 22 random base64url chars). */
export function agent(task: string, orch = ORCH): TestAgent {
  return { key: generateKeyPair(), id: agentSpiffeId(TD, orch, task, randomId(16)), task };
}

/** What a child token is built from (the issuer's DelegationMaterial). */
export interface Material {
  readonly hops: readonly string[];
  readonly chainHash: string;
  readonly depth: number;
  readonly actors: readonly string[];
  readonly rootTokenHash: string;
  readonly rootJti: string;
}

function actOf(actors: readonly string[]): ActClaim | undefined {
  let act: ActClaim | undefined;
  for (const sub of actors) act = act ? { sub, act } : { sub };
  return act;
}

/** Options of a token this authority signs. */
export interface TokenOptions {
  readonly exp?: number;
  readonly iat?: number;
  readonly principal?: string;
  readonly aud?: readonly string[];
  /** Replace the `del` claim (attacks). */
  readonly del?: (del: Record<string, unknown>) => Record<string, unknown>;
  /** Edit the payload just before signing (attacks). */
  readonly edit?: (payload: Record<string, unknown>) => void;
  /** Carry the chain by reference instead of by value. */
  readonly reference?: string;
}

export class TestAuthority {
  readonly key: KeyPair = generateKeyPair();
  readonly kid: string = this.key.thumbprint;
  readonly keys: ReadonlyMap<string, KeyObject> = new Map([[this.kid, this.key.publicKey]]);

  /** Signs claims as an access token (`typ: at+jwt`, `kid`). */
  sign(payload: Record<string, unknown>): string {
    return signJws({ typ: 'at+jwt', kid: this.kid }, payload, this.key.privateKey);
  }

  private base(holder: TestAgent, scopes: readonly Scope[], o: TokenOptions): Record<string, unknown> {
    const { orchestration, task, instance } = parse(holder.id);
    const structured = scopes.some((s) => s.constraints !== undefined);
    const iat = o.iat ?? NOW - 10;
    return {
      iss: ISSUER,
      sub: holder.id,
      aud: [...(o.aud ?? ['payments']), ISSUER],
      exp: o.exp ?? NOW + 300,
      iat,
      nbf: iat,
      jti: randomId(16),
      scope: [...new Set(scopes.map(formatScope))].join(' '),
      ...(structured ? { scopes: scopes.map((s) => ({ ...s })) } : {}),
      task_id: task,
      orch_id: orchestration,
      wf: 'expense-approval',
      principal: o.principal ?? PRINCIPAL,
      iid: instance,
      tdl: NOW + 3600,
      rnw: 0,
      cnf: { jkt: holder.key.thumbprint },
    };
  }

  /** A root token (depth 0) for `holder`. */
  rootToken(holder: TestAgent, scopes: string | readonly (string | Scope)[], o: TokenOptions = {}): string {
    const payload = this.base(holder, parseScopes(typeof scopes === 'string' ? scopes.split(' ') : scopes), o);
    o.edit?.(payload);
    return this.sign(payload);
  }

  /** A child token for `holder` carrying `material`, as the issuer signs it. */
  childToken(material: Material, holder: TestAgent, scopes: readonly Scope[], o: TokenOptions = {}): string {
    const payload = this.base(holder, scopes, o);
    const root = { jti: material.rootJti, th: material.rootTokenHash };
    let del: Record<string, unknown> =
      o.reference !== undefined
        ? { ref: o.reference, ch: material.chainHash, d: material.depth, root }
        : {
            hops: packHops(material.hops, {
              agents: [...material.actors, holder.id],
              principal: String(payload.principal),
              scopes,
              rootJti: material.rootJti,
              rootTokenHash: material.rootTokenHash,
            }),
            ch: material.chainHash,
            d: material.depth,
            root,
          };
    if (o.del) del = o.del(del);
    payload.del = del;
    const act = actOf(material.actors);
    if (act) payload.act = act;
    o.edit?.(payload);
    return this.sign(payload);
  }
}

function parse(id: string): { orchestration: string; task: string; instance: string } {
  const seg = id.split('/');
  return { orchestration: seg[4]!, task: seg[5]!, instance: seg[6]! };
}

/** Claims of a token this module signed (no verification). */
export function claimsOf(token: string): AccessTokenClaims {
  return parseAccessTokenClaims(decodeJws(token).payload);
}

/** One link of a chain being built. */
export interface Link {
  readonly token: string;
  readonly holder: TestAgent;
  readonly material?: Material;
  readonly hop?: string;
}

/** Options of {@link delegateLink}. */
export interface DelegateOptions extends TokenOptions {
  /** Hop expiry (default the parent's). */
  readonly hopExp?: number;
  /** Edit the hop claims before signing (attacks). */
  readonly hopEdit?: (claims: HopClaims) => HopClaims;
  /** Sign the hop with another key (attacks). */
  readonly signer?: KeyPair;
  /** Scopes of the child token (default the hop's). */
  readonly tokenScopes?: readonly Scope[];
}

/**
 * `parent.holder` delegates `scopes` to `to`: signs the hop with its own key and has the
 * authority issue the child token, as DelegationService + IssuerService would.
 */
export function delegateLink(authority: TestAuthority, parent: Link, to: TestAgent, scopes: string | readonly (string | Scope)[], o: DelegateOptions = {}): Link {
  const parentClaims = claimsOf(parent.token);
  const parsed = parseScopes(typeof scopes === 'string' ? scopes.split(' ') : scopes);
  let claims = nextHopClaims({
    token: parent.token,
    claims: parentClaims,
    holderKey: parent.holder.key.publicJwk.x,
    to: to.id,
    toKey: to.key.publicJwk.x,
    scopes: parsed,
    exp: o.hopExp ?? parentClaims.exp,
  });
  if (o.hopEdit) claims = o.hopEdit(claims);
  const hop = signHop(claims, o.signer ?? parent.holder.key);
  const prev = parent.material;
  const rootTokenHash = prev?.rootTokenHash ?? sha256B64url(parent.token);
  const hops = [...(prev?.hops ?? []), hop];
  const material: Material = {
    hops,
    chainHash: chainHash(rootTokenHash, hops.map((h) => sha256B64url(h))),
    depth: hops.length,
    actors: [...(prev?.actors ?? []), parent.holder.id],
    rootTokenHash,
    rootJti: prev?.rootJti ?? parentClaims.jti,
  };
  const token = authority.childToken(material, to, o.tokenScopes ?? parsed, { exp: Math.min(o.exp ?? claims.exp, claims.exp), ...o });
  return { token, holder: to, material, hop };
}

/** A root link plus `n` further links, each delegating the same scopes to a fresh agent. */
export function buildChain(authority: TestAuthority, n: number, scopes = 'approve:payments read:invoices'): Link[] {
  const root: TestAgent = agent('approve-invoice-2024-118734-manager');
  const links: Link[] = [{ token: authority.rootToken(root, scopes), holder: root }];
  for (let i = 1; i <= n; i++) links.push(delegateLink(authority, links[i - 1]!, agent(`approve-invoice-2024-118734-a${i}`), scopes));
  return links;
}

/** Re-signs hop claims in the canonical form (for attacks that need a validly signed but wrong hop). */
export function resign(hop: string, signer: KeyPair, edit: (c: HopClaims) => HopClaims): string {
  return signHop(edit({ ...decodeHop(hop).claims }), signer);
}

export { encodeHopScopes };
