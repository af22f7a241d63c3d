import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatonError } from './errors.js';
import { agentSpiffeId, formatSpiffeId, matchSpiffePattern, parseAgentSpiffeId, parseSpiffeId } from './spiffe.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof BatonError) return err.code;
    if (err instanceof TypeError) return 'TypeError';
    throw err;
  }
  return 'ok';
}

const TD255 = `${'a'.repeat(250)}.test`;
const INSTANCE = 'q3LbX0Zs8kTz1aWcVbN2yA';
const AGENT = `spiffe://acme.example/agent/orch-7/approve/${INSTANCE}`;
// Pads a path so the whole ID is exactly n bytes long.
const idOfLength = (n: number): string => {
  const prefix = 'spiffe://example.org/';
  return prefix + 'x'.repeat(n - prefix.length);
};

describe('parseSpiffeId: good IDs', () => {
  it.each([
    ['spiffe://example.org', 'example.org', []],
    ['spiffe://example.org/workload', 'example.org', ['workload']],
    [AGENT, 'acme.example', ['agent', 'orch-7', 'approve', INSTANCE]],
    ['spiffe://a_b-c.0/X.y_z-W/0', 'a_b-c.0', ['X.y_z-W', '0']],
    ['spiffe://example.org/a..b/...', 'example.org', ['a..b', '...']],
    [`spiffe://${TD255}/x`, TD255, ['x']],
    [idOfLength(2048), 'example.org', ['x'.repeat(2048 - 'spiffe://example.org/'.length)]],
  ])('%s', (uri, trustDomain, segments) => {
    const id = parseSpiffeId(uri);
    expect(id.trustDomain).toBe(trustDomain);
    expect(id.segments).toEqual(segments);
    expect(id.path).toBe(segments.length === 0 ? '' : `/${segments.join('/')}`);
    expect(id.uri).toBe(uri);
    expect(Object.isFrozen(id)).toBe(true);
  });
});

describe('parseSpiffeId: bad IDs are rejected with ERR_SPIFFE_ID_INVALID', () => {
  it.each([
    ['uppercase scheme', 'SPIFFE://example.org/a'],
    ['mixed-case scheme', 'Spiffe://example.org/a'],
    ['uppercase trust domain', 'spiffe://Example.org/a'],
    ['other scheme', 'https://example.org/a'],
    ['missing slashes', 'spiffe:example.org/a'],
    ['one slash', 'spiffe:/example.org/a'],
    ['scheme only', 'spiffe://'],
    ['empty trust domain', 'spiffe:///a'],
    ['trailing slash', 'spiffe://example.org/'],
    ['trailing slash after a segment', 'spiffe://example.org/a/'],
    ['empty segment', 'spiffe://example.org/a//b'],
    ['leading empty segment', 'spiffe://example.org//a'],
    ['dot segment', 'spiffe://example.org/a/./b'],
    ['dot-dot segment', 'spiffe://example.org/a/../b'],
    ['final dot segment', 'spiffe://example.org/a/.'],
    ['final dot-dot segment', 'spiffe://example.org/..'],
    ['percent-encoding in path', 'spiffe://example.org/%61'],
    ['percent-encoded slash', 'spiffe://example.org/a%2Fb'],
    ['percent-encoding in trust domain', 'spiffe://exa%6Dple.org/a'],
    ['query', 'spiffe://example.org/a?x=1'],
    ['fragment', 'spiffe://example.org/a#frag'],
    ['port', 'spiffe://example.org:8443/a'],
    ['userinfo', 'spiffe://user@example.org/a'],
    ['userinfo with password', 'spiffe://user:pw@example.org/a'],
    ['trust domain over 255 characters', `spiffe://${TD255}x/a`],
    ['over 2048 bytes', idOfLength(2049)],
    ['Cyrillic а in trust domain', 'spiffe://ex\u0430mple.org/a'],
    ['Cyrillic а in path', 'spiffe://example.org/\u0430gent'],
    ['fullwidth letters', 'spiffe://example.org/\uFF41'],
    ['non-ASCII in path', 'spiffe://example.org/caf\u00e9'],
    ['space in path', 'spiffe://example.org/a b'],
    ['leading space', ' spiffe://example.org/a'],
    ['trailing newline', 'spiffe://example.org/a\n'],
    ['NUL byte', 'spiffe://example.org/a\u0000'],
    ['backslash', 'spiffe://example.org\\a'],
    ['IPv6 literal', 'spiffe://[::1]/a'],
    ['colon in path', 'spiffe://example.org/a:b'],
    ['empty string', ''],
  ])('%s', (_name, uri) => {
    expect(codeOf(() => parseSpiffeId(uri))).toBe('ERR_SPIFFE_ID_INVALID');
  });

  it.each([[42], [null], [undefined], [{ uri: AGENT }], [new URL('https://example.org')]])('non-string %j', (value) => {
    expect(codeOf(() => parseSpiffeId(value))).toBe('ERR_SPIFFE_ID_INVALID');
  });
});

describe('formatSpiffeId', () => {
  it('builds IDs that parse back to the same parts', () => {
    expect(formatSpiffeId('acme.example', ['svc', 'issuer'])).toBe('spiffe://acme.example/svc/issuer');
    expect(formatSpiffeId('acme.example', [])).toBe('spiffe://acme.example');
  });

  it.each([
    ['uppercase trust domain', 'Acme.example', ['a']],
    ['empty trust domain', '', ['a']],
    ['segment with slash', 'acme.example', ['a/b']],
    ['empty segment', 'acme.example', ['']],
    ['dot-dot segment', 'acme.example', ['..']],
    ['percent', 'acme.example', ['%2e']],
    ['non-string segment', 'acme.example', [7 as unknown as string]],
    ['too long', 'acme.example', ['x'.repeat(2048)]],
  ])('rejects %s', (_name, td, segments) => {
    expect(codeOf(() => formatSpiffeId(td, segments))).toBe('ERR_SPIFFE_ID_INVALID');
  });

  it('round-trips any valid ID', () => {
    const td = fc.stringMatching(/^[a-z0-9._-]{1,40}$/);
    const seg = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(td, fc.array(seg, { maxLength: 6 }), (t, segments) => {
        const uri = formatSpiffeId(t, segments);
        const id = parseSpiffeId(uri);
        expect(id.trustDomain).toBe(t);
        expect(id.segments).toEqual(segments);
        expect(formatSpiffeId(id.trustDomain, id.segments)).toBe(uri);
      }),
    );
  });
});

describe('agentSpiffeId / parseAgentSpiffeId', () => {
  it('builds and parses the agent shape', () => {
    expect(agentSpiffeId('acme.example', 'orch-7', 'approve', INSTANCE)).toBe(AGENT);
    expect(parseAgentSpiffeId(AGENT)).toEqual({
      trustDomain: 'acme.example',
      orchestration: 'orch-7',
      task: 'approve',
      instance: INSTANCE,
      uri: AGENT,
    });
  });

  it.each([
    ['bad orchestration', 'acme.example', 'Orch', 'approve', INSTANCE, 'ERR_ID_INVALID'],
    ['bad task', 'acme.example', 'orch-7', '-approve', INSTANCE, 'ERR_ID_INVALID'],
    ['short instance', 'acme.example', 'orch-7', 'approve', 'abc', 'ERR_ID_INVALID'],
    ['path in task', 'acme.example', 'orch-7', 'a/b', INSTANCE, 'ERR_ID_INVALID'],
    ['bad trust domain', 'ACME', 'orch-7', 'approve', INSTANCE, 'ERR_SPIFFE_ID_INVALID'],
  ])('agentSpiffeId rejects %s', (_name, td, o, t, i, code) => {
    expect(codeOf(() => agentSpiffeId(td, o, t, i))).toBe(code);
  });

  it.each([
    ['not agent', `spiffe://acme.example/svc/orch-7/approve/${INSTANCE}`],
    ['too few segments', 'spiffe://acme.example/agent/orch-7/approve'],
    ['too many segments', `${AGENT}/extra`],
    ['no path', 'spiffe://acme.example'],
    ['uppercase orchestration', `spiffe://acme.example/agent/Orch-7/approve/${INSTANCE}`],
    ['short instance', 'spiffe://acme.example/agent/orch-7/approve/abc'],
    ['instance with dot', `spiffe://acme.example/agent/orch-7/approve/${INSTANCE}.`],
    ['malformed SPIFFE ID', `${AGENT}/`],
    ['non-string', 7],
  ])('parseAgentSpiffeId rejects %s', (_name, value) => {
    expect(codeOf(() => parseAgentSpiffeId(value))).toBe('ERR_SPIFFE_ID_INVALID');
  });
});

describe('matchSpiffePattern', () => {
  it.each([
    ['spiffe://acme.example/svc/*', 'spiffe://acme.example/svc/issuer', true],
    ['spiffe://acme.example/agent/orch-7/*/*', AGENT, true],
    ['spiffe://acme.example/agent/*/approve/*', AGENT, true],
    [AGENT, AGENT, true],
    ['spiffe://acme.example', 'spiffe://acme.example', true],
    // `*` is exactly one segment: not zero, not several
    ['spiffe://acme.example/svc/*', 'spiffe://acme.example/svc', false],
    ['spiffe://acme.example/svc/*', 'spiffe://acme.example/svc/a/b', false],
    ['spiffe://acme.example/*', 'spiffe://acme.example', false],
    ['spiffe://acme.example/agent/*', AGENT, false],
    // trust domain must match exactly
    ['spiffe://acme.example/svc/*', 'spiffe://evil.example/svc/issuer', false],
    ['spiffe://acme.example/svc/*', 'spiffe://acme.example.evil/svc/issuer', false],
    ['spiffe://acme.example/svc/issuer', 'spiffe://acme.example/svc/issuer2', false],
    // malformed ids never match
    ['spiffe://acme.example/svc/*', 'spiffe://acme.example/svc/..', false],
    ['spiffe://acme.example/svc/*', 'spiffe://acme.example/svc/', false],
    ['spiffe://acme.example/svc/*', 'spiffe://ACME.example/svc/x', false],
    ['spiffe://acme.example/svc/*', 'spiffe://acme.example/svc/%2e%2e', false],
    ['spiffe://acme.example/svc/*', 42 as unknown as string, false],
  ])('%s vs %s → %s', (pattern, id, expected) => {
    expect(matchSpiffePattern(pattern, id)).toBe(expected);
  });

  it.each([
    ['spiffe://*/svc/x'],
    ['spiffe://acme.example/svc/a*'],
    ['spiffe://acme.example/svc/**'],
    ['spiffe://acme.example/svc/'],
    ['SPIFFE://acme.example/svc/*'],
    [7 as unknown as string],
  ])('rejects malformed pattern %s', (pattern) => {
    expect(codeOf(() => matchSpiffePattern(pattern, 'spiffe://acme.example/svc/x'))).toBe('ERR_SPIFFE_ID_INVALID');
  });
});

describe('SPIFFE parsers on arbitrary input', () => {
  it('never throw anything but ERR_SPIFFE_ID_INVALID', () => {
    const near = fc
      .tuple(fc.constantFrom('spiffe://', 'SPIFFE://', 'spiffe:/', ''), fc.string({ unit: 'binary' }), fc.string())
      .map(([a, b, c]) => a + b + c);
    fc.assert(
      fc.property(fc.oneof(near, fc.anything()), (value) => {
        for (const parse of [parseSpiffeId, parseAgentSpiffeId]) {
          const code = codeOf(() => parse(value));
          expect(['ok', 'ERR_SPIFFE_ID_INVALID']).toContain(code);
          if (code === 'ok') expect(/^spiffe:\/\/[a-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/.test(value as string)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
