/**
 * `agent.connect`: a client for a peer agent found by name. Discovery (Resolve) gives the
 * address and the SPIFFE id the peer must prove; the channel is mTLS with the agent's
 * SVID and accepts only that id (never a hostname). Each call carries a token:
 *
 * - `certificate` (default): a token bound to this agent's SVID (`cnf["x5t#S256"]`),
 *   obtained from the authority and kept fresh; the TLS handshake is the proof of
 *   possession, so calls carry no per-call signature.
 * - `dpop`: the agent's own token with a fresh DPoP proof per call.
 *
 * A token is bound to one certificate, so the channel is pinned to the SVID it started
 * with; after an SVID rotation the next call opens a new channel with the new SVID and a
 * token bound to it.
 */
import type { DescService } from '@bufbuild/protobuf';
import { Metadata } from '@grpc/grpc-js';
import { systemClock, type AuditSink, type Clock } from '@baton/core';
import { createClient, type CallOptions, type Client } from '@baton/proto';
import { svidChannelCredentials, withHandshakeErrors, type Svid, type SvidSource } from '@baton/x509';

/** How calls on a connected channel prove their token. */
export type TokenBinding = 'certificate' | 'dpop';

/** Options of `agent.connect`. */
export interface ConnectOptions {
  /** Resolve in another orchestration and task (give both). Default: the agent's own task. */
  readonly orchestrationId?: string;
  readonly taskId?: string;
  /** Token binding. Default `certificate`. */
  readonly binding?: TokenBinding;
  /** Narrow the certificate-bound token to these resource audiences. Default: all of the agent's. */
  readonly audiences?: readonly string[];
}

/** A certificate-bound token as the authority granted it. */
export interface BoundToken {
  readonly token: string;
  readonly expiresAtMs: number;
  readonly ttlSeconds: number;
}

/** What connecting needs from the agent. Internal. */
export interface ConnectDeps {
  readonly source: SvidSource;
  readonly clock?: Clock;
  readonly audit?: AuditSink;
  readonly rpcTimeoutMs: number;
  /** jti of the agent's current token (throws when the agent may no longer act). */
  currentJti(): string;
  /** DPoP metadata for one call. */
  dpopMetadata(path: string): Readonly<Record<string, string>>;
  /** IssueSvidBoundToken for `certificate`. */
  bindToken(certificate: Buffer, audiences: readonly string[] | undefined): Promise<BoundToken>;
}

/** The resolved peer. */
export interface ResolvedPeer {
  readonly address: string;
  readonly spiffeId: string;
}

/** Fraction of a bound token's life after which a fresh one is fetched. */
const REFRESH_AT = 0.75;

interface Generation<S extends DescService> {
  readonly svid: Svid;
  readonly client: Client<S>;
  bound?: { token: string; fromJti: string; refreshAtMs: number };
  pending?: Promise<string> | undefined;
}

function merge(base: CallOptions['metadata'], extra: Readonly<Record<string, string>>): Metadata | Record<string, string> {
  if (base instanceof Metadata) {
    const md = base.clone();
    for (const [k, v] of Object.entries(extra)) md.set(k, v);
    return md;
  }
  // Ours last: a caller cannot slip another token onto an agent call.
  return { ...(base ?? {}), ...extra };
}

/** Builds the peer client. Internal: use `agent.connect`. */
export function connectWithSvid<S extends DescService>(deps: ConnectDeps, service: S, peer: ResolvedPeer, options: ConnectOptions = {}): Client<S> {
  const binding = options.binding ?? 'certificate';
  if (binding !== 'certificate' && binding !== 'dpop') throw new TypeError("connect: binding must be 'certificate' or 'dpop'");
  const clock = deps.clock ?? systemClock;
  let gen: Generation<S> | undefined;
  let closed = false;

  function open(svid: Svid): Generation<S> {
    const credentials = svidChannelCredentials({ source: deps.source, expectedId: peer.spiffeId, pin: true, clock, ...(deps.audit ? { audit: deps.audit } : {}) });
    const inner = createClient(service, peer.address, { credentials, defaultDeadlineMs: deps.rpcTimeoutMs });
    return { svid, client: withHandshakeErrors(service, inner, credentials) };
  }

  function current(): Generation<S> {
    if (closed) throw new TypeError('connect: the client is closed');
    const svid = deps.source.svid!;
    if (!gen || gen.svid !== svid) {
      // Calls already running finish on the old channel; new ones use the new SVID.
      gen?.client.close();
      gen = open(svid);
    }
    return gen;
  }

  async function boundToken(g: Generation<S>): Promise<string> {
    const jti = deps.currentJti();
    const b = g.bound;
    if (b && b.fromJti === jti && clock.now() < b.refreshAtMs) return b.token;
    g.pending ??= deps
      .bindToken(g.svid.certificate, options.audiences)
      .then((t) => {
        g.bound = { token: t.token, fromJti: jti, refreshAtMs: clock.now() + REFRESH_AT * t.ttlSeconds * 1000 };
        return t.token;
      })
      .finally(() => {
        g.pending = undefined;
      });
    return g.pending;
  }

  async function credentialsFor(g: Generation<S>, path: string): Promise<Readonly<Record<string, string>>> {
    if (binding === 'dpop') return deps.dpopMetadata(path);
    return { authorization: `Bearer ${await boundToken(g)}` };
  }

  const out: Record<string, unknown> = {
    close: () => {
      closed = true;
      gen?.client.close();
    },
    get grpcClient() {
      return current().client.grpcClient;
    },
  };
  for (const method of service.methods) {
    const path = `/${service.typeName}/${method.name}`;
    const name = method.localName;
    const invoke = async (input: unknown, opts?: CallOptions): Promise<unknown> => {
      const g = current();
      const md = await credentialsFor(g, path);
      return (g.client as unknown as Record<string, (i: unknown, o?: CallOptions) => unknown>)[name]!(input, { ...opts, metadata: merge(opts?.metadata, md) });
    };
    const streamingResponse = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
    out[name] = streamingResponse
      ? (input: unknown, opts?: CallOptions): AsyncIterable<unknown> => ({
          [Symbol.asyncIterator]() {
            let it: AsyncIterator<unknown> | undefined;
            const start = async (): Promise<AsyncIterator<unknown>> => (it ??= ((await invoke(input, opts)) as AsyncIterable<unknown>)[Symbol.asyncIterator]());
            return {
              next: async () => (await start()).next(),
              return: async (v?: unknown) => (it?.return ? it.return(v) : { done: true as const, value: v }),
            };
          },
        })
      : invoke;
  }
  return Object.freeze(out) as Client<S>;
}
