/**
 * `agent.serve`: a gRPC server on mTLS with the agent's own SVID. Every call is checked
 * twice before the handler runs: the client's SVID (valid, issued by the trust bundle,
 * an identity the server accepts), then — when `tokens` is given — its access token by
 * a guard, which accepts tokens bound to that very client certificate (RFC 8705) as well
 * as DPoP-bound ones.
 */
import type { DescService } from '@bufbuild/protobuf';
import { systemClock, type AuditSink, type Clock, type SpiffeId } from '@baton/core';
import { auditDecisions, createGuard, createRevocationFeed, guardGrpcService, jwksFromIssuer, type Guard, type GuardGrpcOptions, type RevocationFeed } from '@baton/guard';
import { createClient, createServer, type ServiceImpl } from '@baton/proto';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { createPeerVerifier, requireMtls, svidServerCredentials, type SvidSource } from '@baton/x509';
import type { ChannelCredentials } from '@grpc/grpc-js';

/** Token checks for an agent server. */
export interface ServeTokenOptions<S extends DescService> {
  /** Resource audience(s) callers' tokens must name. */
  readonly audience: string | readonly string[];
  /** What a call wants to do (see `guardGrpcService`). */
  readonly toRequest: GuardGrpcOptions<S>['toRequest'];
  /** Route options for every method, or per method. */
  readonly route?: GuardGrpcOptions<S>['route'];
  /** A guard of your own. Default: one using the authority's keys and revocation feed. */
  readonly guard?: Guard;
}

/** Options of `agent.serve`. */
export interface ServeOptions<S extends DescService> {
  /** Where to listen. Default `127.0.0.1:0` (a free port on loopback). */
  readonly address?: string;
  /** Publish this server under a discovery name (Publish), so peers can `connect` to it. Default: not published. */
  readonly publish?: string;
  /** `host:port` to publish. Default: the listen host with the bound port. */
  readonly advertise?: string;
  /** Which verified peers may call. Default: any workload of the agent's trust domain. */
  readonly authorizePeer?: (peer: SpiffeId) => boolean;
  /** Check an access token on every call. Default: none (peer identity only). */
  readonly tokens?: ServeTokenOptions<S>;
}

/** A running agent server. */
export interface AgentServer {
  /** `host:port` it listens on. */
  readonly address: string;
  readonly port: number;
  /** The SPIFFE id it proves to clients (the agent's). */
  readonly spiffeId: string;
  /** Stops serving (in-flight calls get a moment to finish). */
  close(): Promise<void>;
}

/** What serving needs from the agent. Internal. */
export interface ServeDeps {
  readonly source: SvidSource;
  readonly spiffeId: string;
  /** The token issuer (`iss`) guards expect. */
  readonly issuer: string;
  readonly issuerTarget: string;
  readonly credentials: ChannelCredentials;
  readonly clock?: Clock;
  readonly audit?: AuditSink;
  publish(name: string, address: string): Promise<void>;
}

const GRACE_MS = 1000;

/** Starts an mTLS server for `service`. Internal: use `agent.serve`. */
export async function serveWithSvid<S extends DescService>(deps: ServeDeps, service: S, impl: ServiceImpl<S>, options: ServeOptions<S> = {}): Promise<AgentServer> {
  const clock = deps.clock ?? systemClock;
  const listen = options.address ?? '127.0.0.1:0';
  if (typeof listen !== 'string' || !/:\d{1,5}$/.test(listen)) throw new TypeError('serve: address must be host:port');
  const closers: (() => Promise<void> | void)[] = [];
  let handlers: ServiceImpl<S> = impl;
  if (options.tokens) {
    const t = options.tokens;
    let guard = t.guard;
    if (!guard) {
      const issuerClient = createClient(IssuerService, deps.issuerTarget, { credentials: deps.credentials });
      const keys = jwksFromIssuer(issuerClient, { clock });
      const feed: RevocationFeed = createRevocationFeed({ client: issuerClient, clock });
      closers.push(() => feed.close(), () => issuerClient.close());
      guard = createGuard({
        audience: t.audience,
        issuer: deps.issuer,
        keys,
        revocation: feed,
        clock,
        // Allow and deny decisions go to the audit log with the precise reason.
        ...(deps.audit ? { onDecision: auditDecisions(deps.audit, { source: 'guard:agent' }) } : {}),
      });
      // Warm keys and revocations; until the feed is current the guard fails closed.
      await Promise.all([keys.ready().catch(() => undefined), feed.ready(5_000).catch(() => undefined)]);
    }
    handlers = guardGrpcService(guard, impl, { service, toRequest: t.toRequest, ...(t.route ? { route: t.route } : {}) });
  }
  const verifier = createPeerVerifier({ source: deps.source, clock, ...(options.authorizePeer ? { authorize: options.authorizePeer } : {}), ...(deps.audit ? { audit: deps.audit } : {}) });
  const server = createServer();
  server.addService(service, requireMtls(service, handlers, verifier));
  const credentials = svidServerCredentials({ source: deps.source });
  let port: number;
  try {
    port = await server.listen(listen, credentials);
  } catch (err) {
    credentials.detach();
    for (const c of closers) await c();
    throw err;
  }
  const host = listen.slice(0, listen.lastIndexOf(':'));
  const address = `${host}:${port}`;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      credentials.detach();
      await server.shutdown(GRACE_MS);
      for (const c of closers) await c();
    })();
    return closed;
  };
  if (options.publish !== undefined) {
    try {
      await deps.publish(options.publish, options.advertise ?? address);
    } catch (err) {
      await close();
      throw err;
    }
  }
  return Object.freeze({ address, port, spiffeId: deps.spiffeId, close });
}
