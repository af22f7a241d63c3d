/**
 * gRPC binding: wraps a service implementation so every method runs the guard before
 * its handler, with `authorization: DPoP <token>` and `dpop: <proof>` from the metadata,
 * `htm` = POST and `htu` = the method path. The handler reads the decision with
 * {@link decisionOf}. Denials reach the caller as the generic problem only.
 */
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { BatonError, sha256B64url, type ScopeRequest } from '@baton/core';
import { MetadataKey, type CallContext, type ServiceImpl } from '@baton/proto';
import type { Guard } from './create-guard.js';
import type { AllowDecision, Decision } from './decision.js';
import type { RouteOptions } from './guard-options.js';

/** Options of {@link guardGrpcService}. */
export interface GuardGrpcOptions<S extends DescService> {
  /** The service descriptor `impl` implements (tells unary from streaming methods). */
  readonly service: S;
  /**
   * What a call wants to do, from its method local name and request. For methods with
   * streaming requests, `request` is undefined (the check runs before the first message).
   * Return undefined only for routes marked `authenticateOnly`.
   */
  readonly toRequest: (method: string, request: unknown, ctx: CallContext) => ScopeRequest | undefined;
  /** Route options for every method, or per method local name. */
  readonly route?: RouteOptions | ((method: string) => RouteOptions | undefined);
}

const decisions = new WeakMap<CallContext, AllowDecision>();

/**
 * The allow decision of the current call, inside a handler wrapped by
 * {@link guardGrpcService}. Throws ERR_UNAUTHENTICATED if the call was never checked
 * (a wiring mistake must not look like an anonymous caller).
 */
export function decisionOf(ctx: CallContext): AllowDecision {
  const d = decisions.get(ctx);
  if (d === undefined) throw new BatonError('ERR_UNAUTHENTICATED', 'call was not checked by the guard');
  return d;
}

/**
 * The only value of a metadata key: undefined when absent; several values (or a binary
 * one) are joined into a string that no token or proof parser accepts, so the guard
 * denies and audits them instead of picking one.
 */
export function singleMetadataValue(md: Metadata, key: string): string | undefined {
  const values = md.get(key);
  if (values.length === 0) return undefined;
  if (values.length === 1 && typeof values[0] === 'string') return values[0];
  return values.map((v) => (typeof v === 'string' ? v : '<binary>')).join(', ');
}

/** Reads `authorization: DPoP <token>` (or `Bearer`) and the `dpop` proof from metadata. */
export function credentialsOf(md: Metadata): { token?: string; proof?: string } {
  const auth = singleMetadataValue(md, MetadataKey.authorization);
  if (auth === undefined) return {};
  const sp = auth.indexOf(' ');
  const scheme = (sp === -1 ? auth : auth.slice(0, sp)).toLowerCase();
  if (scheme !== 'dpop' && scheme !== 'bearer') return {};
  const token = sp === -1 ? '' : auth.slice(sp + 1).trim();
  if (scheme === 'bearer') return { token };
  const proof = singleMetadataValue(md, MetadataKey.dpop);
  return proof === undefined ? { token } : { token, proof };
}

/** The guard's decision on a call's own credentials (metadata, method path, client certificate). */
function checkCall(guard: Guard, ctx: CallContext, request: ScopeRequest | undefined, route: RouteOptions | undefined): Promise<Decision> {
  const { token, proof } = credentialsOf(ctx.metadata);
  const cert = ctx.peerCertificate;
  return guard.check({
    token,
    proof,
    htm: 'POST',
    htu: ctx.method,
    request,
    certificateThumbprint: cert === undefined ? undefined : sha256B64url(cert.der),
    route,
  });
}

/**
 * Authenticates the agent calling a Baton service that authorizes in its handler: the
 * guard checks token, proof (and certificate binding) on an authenticate-only route.
 * Throws the decision's code on deny; the reason rides along as the error's detail,
 * which Baton's error mapping keeps out of the reply.
 */
export async function authenticateCall(guard: Guard, ctx: CallContext): Promise<AllowDecision> {
  const decision = await checkCall(guard, ctx, undefined, { authenticateOnly: true });
  if (!decision.allow) throw new BatonError(decision.code, decision.reason);
  return decision;
}

/** Runs the guard for one call; throws the generic BatonError on deny. */
async function authorize(
  guard: Guard,
  method: DescMethod,
  request: unknown,
  ctx: CallContext,
  options: GuardGrpcOptions<DescService>,
  route: RouteOptions | undefined,
): Promise<void> {
  const decision = await checkCall(guard, ctx, options.toRequest(method.localName, request, ctx), route);
  // Only the code travels: the reason is for the audit log (onDecision).
  if (!decision.allow) throw new BatonError(decision.code);
  decisions.set(ctx, decision);
}

/**
 * Wraps `impl` so each of its methods is checked by `guard` before it runs.
 *
 * @example
 * server.add(Payments, guardGrpcService(guard, paymentsImpl, {
 *   service: Payments,
 *   toRequest: (method, req) => ({ action: method, resource: 'invoice', attributes: { amount: (req as ApproveRequest).amount } }),
 * }));
 * // in a handler: const { subject, principal } = decisionOf(ctx);
 */
export function guardGrpcService<S extends DescService>(guard: Guard, impl: Partial<ServiceImpl<S>>, options: GuardGrpcOptions<S>): ServiceImpl<S> {
  if (typeof guard?.check !== 'function') throw new TypeError('guardGrpcService: guard required');
  if (typeof options?.toRequest !== 'function') throw new TypeError('guardGrpcService: toRequest required');
  if (options.service === undefined || !Array.isArray(options.service.methods)) throw new TypeError('guardGrpcService: service descriptor required');
  const opts = options as unknown as GuardGrpcOptions<DescService>;
  const out: Record<string, unknown> = {};
  for (const method of options.service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw new TypeError(`guardGrpcService: ${method.localName} is not a function`);
    const route = typeof opts.route === 'function' ? opts.route(method.localName) : opts.route;
    if (route?.highAssurance === true && !guard.supportsHighAssurance) {
      throw new TypeError(`guardGrpcService: ${method.localName} is high-assurance but the guard has no introspector`);
    }
    const handler = fn as (input: unknown, ctx: CallContext) => unknown;
    switch (method.methodKind) {
      case 'unary':
        out[method.localName] = async (req: unknown, ctx: CallContext) => {
          await authorize(guard, method, req, ctx, opts, route);
          return handler.call(impl, req, ctx);
        };
        break;
      case 'server_streaming':
        out[method.localName] = async function* (req: unknown, ctx: CallContext) {
          await authorize(guard, method, req, ctx, opts, route);
          yield* handler.call(impl, req, ctx) as AsyncIterable<unknown>;
        };
        break;
      case 'client_streaming':
        out[method.localName] = async (reqs: unknown, ctx: CallContext) => {
          await authorize(guard, method, undefined, ctx, opts, route);
          return handler.call(impl, reqs, ctx);
        };
        break;
      case 'bidi_streaming':
        out[method.localName] = async function* (reqs: unknown, ctx: CallContext) {
          await authorize(guard, method, undefined, ctx, opts, route);
          yield* handler.call(impl, reqs, ctx) as AsyncIterable<unknown>;
        };
        break;
    }
  }
  return out as ServiceImpl<S>;
}
