/**
 * Lexical rules of scope actions, resources and ids, and how a pattern segment or id
 * path covers another. Shared by parsing, attenuation (`covers`) and checks (`permits`),
 * so the three can never disagree.
 */

/** Longest action or resource name. */
export const MAX_NAME_LENGTH = 64;
/** Longest id, including its `/` separators. */
export const MAX_ID_LENGTH = 512;

const NAME = /^(?:[A-Za-z0-9._-]{1,64}|\*)$/;
const ID = /^(?:[A-Za-z0-9._-]+|\*)(?:\/(?:[A-Za-z0-9._-]+|\*))*$/;
// `.` and `..` as a segment would let `a/*` reach `a/../b` on a server that normalises paths.
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** A valid action or resource: `[A-Za-z0-9._-]{1,64}` or exactly `*`, not `.`/`..`. */
export function isName(s: unknown): s is string {
  return typeof s === 'string' && NAME.test(s) && s !== '.' && s !== '..';
}

/** A valid id: `/`-separated segments, each `[A-Za-z0-9._-]+` or `*`, not `.`/`..`, ≤ 512 chars. */
export function isId(s: unknown): s is string {
  return typeof s === 'string' && s.length <= MAX_ID_LENGTH && ID.test(s) && !DOT_SEGMENT.test(s);
}

/** A parent action/resource segment covers a child one: parent `*`, or both equal (so a child `*` needs a parent `*`). */
export function nameCovers(parent: string, child: string): boolean {
  return parent === '*' || parent === child;
}

/**
 * Whether id pattern `parent` covers id pattern `child` (undefined = no id).
 *
 * Semantics: a `*` segment in the middle matches exactly one segment; a trailing `*`
 * matches one or more segments (`a/*` is everything below `a`); a lone `*` matches any
 * id and also no id. A child `*` segment is covered only by a parent `*` in that place
 * (or by a trailing parent `*` above it).
 */
export function idCovers(parent: string | undefined, child: string | undefined): boolean {
  if (parent === '*') return true;
  if (parent === undefined || child === undefined) return parent === child;
  if (parent === child && parent.indexOf('*') === -1) return true;
  const p = parent.split('/');
  const c = child.split('/');
  const trailing = p[p.length - 1] === '*';
  if (trailing ? c.length < p.length : c.length !== p.length) return false;
  const fixed = trailing ? p.length - 1 : p.length;
  for (let i = 0; i < fixed; i++) {
    if (!nameCovers(p[i]!, c[i]!)) return false;
  }
  return true;
}
