/**
 * DPoP for HTTP resources (RFC 9449): the proof's `htm` is the request method and its
 * `htu` the target URI without query and fragment, so one proof cannot be replayed
 * against another path or method.
 */

/** RFC 9449 §4.2 `htu`: scheme, authority and path of `url`; query and fragment dropped. */
export function httpTargetUri(url: string | URL): string {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('agent.fetch: only http(s) URLs are supported');
  if (u.username !== '' || u.password !== '') throw new TypeError('agent.fetch: credentials in the URL are not allowed');
  return `${u.origin}${u.pathname}`;
}

/** Upper-cased, validated request method (`GET` when absent). */
export function httpMethod(method: string | undefined): string {
  const m = (method ?? 'GET').toUpperCase();
  // RFC 9110 token characters; a method is never empty.
  if (!/^[!#$%&'*+.^_`|~0-9A-Z-]+$/.test(m)) throw new TypeError('agent.fetch: invalid HTTP method');
  return m;
}

/**
 * Headers of `init` plus `Authorization: DPoP <token>` and `DPoP: <proof>`. A caller
 * that already set either header made a mistake (two credentials on one request), which
 * is a TypeError rather than a silent override.
 */
export function withDpopHeaders(headers: RequestInit['headers'], accessToken: string, proof: string): Headers {
  const h = new Headers(headers);
  if (h.has('authorization') || h.has('dpop')) {
    throw new TypeError('agent.fetch sets Authorization and DPoP itself; do not pass them');
  }
  h.set('authorization', `DPoP ${accessToken}`);
  h.set('dpop', proof);
  return h;
}
