/**
 * node:http binding: `Authorization: DPoP <token>` + `DPoP: <proof>` (RFC 9449), checked
 * before the handler runs; denials answer with the generic RFC 7807 problem only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { BatonError, httpStatusOf, isBatonError, toProblem, type ErrorCode, type ScopeRequest } from '@baton/core';
import type { Guard } from './create-guard.js';
import type { AllowDecision } from './decision.js';
import type { RouteOptions } from './guard-options.js';

/** Options of {@link guardHttp}. */
export interface GuardHttpOptions {
  /** Maps a request to what it wants to do; `undefined` only on authenticate-only routes. */
  readonly toRequest: (req: IncomingMessage) => ScopeRequest | undefined | Promise<ScopeRequest | undefined>;
  /** Route options for every request through this middleware (or per request). */
  readonly route?: RouteOptions | ((req: IncomingMessage) => RouteOptions | undefined);
  /**
   * The public origin (`https://api.example.com`) proofs must name. Recommended behind a
   * proxy; by default it is derived from the socket (http/https) and the Host header.
   */
  readonly origin?: string;
  /** base64url SHA-256 of the client certificate, for certificate-bound tokens on mTLS. */
  readonly certificateThumbprint?: (req: IncomingMessage) => string | undefined;
}

/** `(req, res, next)` middleware. `next(err)` is never called with an auth failure: the response is sent. */
export type HttpMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const decisions = new WeakMap<IncomingMessage, AllowDecision>();
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** The allow decision for a request that passed {@link guardHttp}; undefined otherwise. */
export function httpDecisionOf(req: IncomingMessage): AllowDecision | undefined {
  return decisions.get(req);
}

/**
 * Splits `Authorization`. Malformed values are passed on as the token so the guard
 * denies (and audits) them like any other bad token; an unknown scheme is no token.
 */
function parseAuthorization(value: string | undefined): { token?: string; dpop: boolean } {
  if (value === undefined || value === '') return { dpop: false };
  const sp = value.indexOf(' ');
  const scheme = (sp === -1 ? value : value.slice(0, sp)).toLowerCase();
  if (scheme !== 'dpop' && scheme !== 'bearer') return { dpop: false };
  return { token: sp === -1 ? '' : value.slice(sp + 1).trim(), dpop: scheme === 'dpop' };
}

/** RFC 9449 §4.2: scheme, host and path of the request; no query, no fragment. */
export function httpTargetOf(req: IncomingMessage, origin?: string): string {
  const path = req.url ?? '/';
  if (!path.startsWith('/')) throw new BatonError('ERR_INVALID_ARGUMENT', 'request target is not in origin-form');
  let base = origin;
  if (base === undefined) {
    const host = req.headers.host;
    if (typeof host !== 'string' || !HOST_RE.test(host)) throw new BatonError('ERR_INVALID_ARGUMENT', 'missing or malformed Host header');
    base = `${(req.socket as TLSSocket).encrypted === true ? 'https' : 'http'}://${host}`;
  }
  // Concatenate rather than resolve against a base: `//evil/x` must stay a path.
  const u = new URL(`${base}${path}`);
  return `${u.origin}${u.pathname}`;
}

/** Sends the generic problem for `code` (never the reason). */
export function sendProblem(res: ServerResponse, code: ErrorCode): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const problem = toProblem(new BatonError(code));
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  };
  const status = httpStatusOf(code);
  if (status === 401) {
    const error = code.startsWith('ERR_PROOF_') ? 'invalid_dpop_proof' : 'invalid_token';
    headers['www-authenticate'] = `DPoP error="${error}", algs="EdDSA"`;
  }
  res.writeHead(status, headers);
  res.end(JSON.stringify(problem));
}

/**
 * Guards node:http handlers.
 *
 * @example
 * const auth = guardHttp(guard, { toRequest: (req) => ({ action: 'read', resource: 'invoice', id: idOf(req) }) });
 * http.createServer((req, res) => auth(req, res, () => {
 *   const d = httpDecisionOf(req)!; // allowed
 *   res.end(`hello ${d.subject}`);
 * }));
 */
export function guardHttp(guard: Guard, options: GuardHttpOptions): HttpMiddleware {
  if (typeof guard?.check !== 'function') throw new TypeError('guardHttp: guard required');
  if (typeof options?.toRequest !== 'function') throw new TypeError('guardHttp: toRequest required');
  if (options.origin !== undefined) {
    const o = new URL(options.origin);
    if (o.origin !== options.origin) throw new TypeError('guardHttp: origin must be scheme://host[:port] with no path');
  }
  const routeOf = (req: IncomingMessage): RouteOptions | undefined => (typeof options.route === 'function' ? options.route(req) : options.route);

  return (req, res, next) => {
    void (async () => {
      let code: ErrorCode = 'ERR_INTERNAL';
      let allowed = false;
      try {
        const { token, dpop } = parseAuthorization(req.headers.authorization);
        // Several DPoP headers arrive joined by ", ", which no proof verifies (RFC 9449 §4.3).
        const proof = dpop ? req.headers.dpop : undefined;
        const route = routeOf(req);
        if (route?.highAssurance === true && !guard.supportsHighAssurance) throw new TypeError('guardHttp: high-assurance route but the guard has no introspector');
        const decision = await guard.check({
          token,
          proof: typeof proof === 'string' ? proof : undefined,
          htm: req.method ?? 'GET',
          htu: httpTargetOf(req, options.origin),
          request: await options.toRequest(req),
          certificateThumbprint: options.certificateThumbprint?.(req),
          route,
        });
        if (decision.allow) {
          decisions.set(req, decision);
          allowed = true;
        } else code = decision.code;
      } catch (err) {
        code = isBatonError(err) ? err.code : 'ERR_INTERNAL';
      }
      // Outside the try: a throwing handler must not be answered as an auth failure.
      if (allowed) next();
      else sendProblem(res, code);
    })();
  };
}
