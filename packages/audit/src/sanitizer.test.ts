import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalEntry } from './entry-hash.js';
import { luhnValid, redactSensitive } from './pii-detectors.js';
import { KEYED_HASH_PREFIX, createSanitizer } from './sanitizer.js';
import { inputEvent } from './testing/fixtures.js';
import { BENIGN_VALUES, PII_CORPUS } from './testing/pii-corpus.js';
import { validateEvent } from './validate-event.js';

const key = randomBytes(32);

describe('detectors', () => {
  it.each(PII_CORPUS.filter((c) => !['principal', 'prompt'].includes(c.kind)))('redacts $kind: $needle', ({ needle, text }) => {
    const r = redactSensitive(text);
    expect(r.value).not.toContain(needle);
    expect(r.value).toContain('[REDACTED:');
    expect(r.found.length).toBeGreaterThan(0);
  });

  it.each(BENIGN_VALUES)('leaves %s alone', (v) => {
    expect(redactSensitive(v)).toEqual({ value: v, found: [] });
  });

  it('keeps the scheme of an authorization header and the key of a secret pair', () => {
    expect(redactSensitive('Bearer abcdefghijklmnop').value).toBe('Bearer [REDACTED:token]');
    expect(redactSensitive('api_key: "abcd1234efgh"').value).toBe('api_key: "[REDACTED:secret]"');
  });

  it('checks card numbers with Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(redactSensitive('4111 1111 1111 1112').found).toEqual([]);
  });
});

describe('sanitizer', () => {
  const s = createSanitizer({ key });

  it('stores the principal and free-text attributes as consistent keyed hashes', () => {
    const a = s.sanitize(validateEvent(inputEvent({ principal: 'user:vp@acme.example', attributes: { prompt: 'secret plan' } }))).event;
    const b = s.sanitize(validateEvent(inputEvent({ principal: 'user:vp@acme.example', attributes: { prompt: 'secret plan' } }))).event;
    expect(a.principal.startsWith(KEYED_HASH_PREFIX)).toBe(true);
    expect(a.principal).toBe(b.principal);
    expect(a.principal).toBe(s.principalHash('user:vp@acme.example'));
    expect(a.attributes.prompt).toBe(b.attributes.prompt);
    expect(a.attributes.prompt).not.toContain('secret');
    // Another key gives unrelated hashes.
    const other = createSanitizer({ key: randomBytes(32) });
    expect(other.principalHash('user:vp@acme.example')).not.toBe(a.principal);
  });

  it('drops attributes that are not allowlisted and reports them', () => {
    const r = s.sanitize(validateEvent(inputEvent({ attributes: { ssn_raw: '078-05-1120', status: 'ok' } })));
    expect(r.event.attributes).toEqual({ status: 'ok' });
    expect(r.droppedAttributes).toEqual(['ssn_raw']);
  });

  it('keeps well-formed SPIFFE ids whole', () => {
    const agent = 'spiffe://baton.test/agent/o/t/4111111111111111';
    expect(s.sanitize(validateEvent(inputEvent({ agent }))).event.agent).toBe(agent);
  });

  it('lets none of the PII corpus through, in any field', () => {
    const freeTextFields: Array<(t: string) => Parameters<typeof inputEvent>[0]> = [
      (t) => ({ principal: t }),
      (t) => ({ attributes: { prompt: t, message: t, query: t, free_form: t } }),
    ];
    const fields: Array<(t: string) => Parameters<typeof inputEvent>[0]> = [
      ...freeTextFields,
      (t) => ({ action: t }),
      (t) => ({ resource: t }),
      (t) => ({ reasonDetail: `denied: ${t}` }),
      (t) => ({ task: t, workflow: t, orchestration: t }),
      (t) => ({ agent: t, intermediateAgents: [t] }),
      (t) => ({ attributes: { status: t, prompt: t, message: t, free_form: t } }),
    ];
    let stored = 0;
    for (const c of PII_CORPUS) {
      for (const f of c.freeText ? freeTextFields : fields) {
        let ev;
        try {
          ev = validateEvent(inputEvent(f(c.text)));
        } catch (err) {
          // Refused at the boundary (e.g. newlines in an identifier): nothing stored.
          expect(err).toMatchObject({ code: 'ERR_AUDIT_EVENT_INVALID' });
          continue;
        }
        const text = canonicalEntry({ sequence: 1, loggedAt: 1, prevHash: '0'.repeat(64), event: s.sanitize(ev).event });
        expect([c.kind, text.includes(c.needle)]).toEqual([c.kind, false]);
        stored++;
      }
    }
    expect(stored).toBeGreaterThan(PII_CORPUS.length * 5);
  });

  it('refuses a short key', () => {
    expect(() => createSanitizer({ key: randomBytes(8) })).toThrow(TypeError);
  });
});
