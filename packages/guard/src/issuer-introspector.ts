/**
 * The online check for high-assurance routes, backed by the issuer's Introspect RPC.
 * Called on every such request; nothing is cached.
 */
import type { Client } from '@baton/proto';
import type { IssuerService } from './issuer-types.js';
import type { Introspector, IntrospectionResult } from './plugins.js';

/** Options of {@link issuerIntrospector}. */
export interface IssuerIntrospectorOptions {
  /** Per-call timeout, ms; a slow issuer fails the request closed. Default 2 000. */
  readonly timeoutMs?: number;
}

/**
 * @example
 * const guard = createGuard({ ...opts, highAssurance: issuerIntrospector(issuerClient) });
 */
export function issuerIntrospector(client: Client<typeof IssuerService>, options: IssuerIntrospectorOptions = {}): Introspector {
  if (typeof client?.introspect !== 'function') throw new TypeError('issuerIntrospector: client must be an IssuerService client');
  const timeoutMs = options.timeoutMs ?? 2_000;
  return {
    async introspect(token: string): Promise<IntrospectionResult> {
      const res = await client.introspect({ token }, { signal: AbortSignal.timeout(timeoutMs) });
      return res.active ? { active: true } : { active: false, code: res.inactiveCode };
    },
  };
}
