import { describe, expect, it } from 'vitest';
import { isBatonError } from '@baton/core';
import { describeScope, parseScopeArg } from './scope-input.js';
import { parsePublicKeyArg } from './public-key-input.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isBatonError(err) ? err.code : 'not a BatonError';
  }
}

describe('--scope values', () => {
  it('parses the string and the JSON form', () => {
    expect(parseScopeArg('read:invoices:acme/*')).toEqual({ action: 'read', resource: 'invoices', id: 'acme/*' });
    expect(parseScopeArg('{"action":"approve","resource":"payments","constraints":{"amount":{"max":10000,"min":0}}}')).toEqual({
      action: 'approve',
      resource: 'payments',
      constraints: { amount: { max: 10000, min: 0 } },
    });
  });

  it.each([
    ['', 'ERR_SCOPE_INVALID'],
    ['read', 'ERR_SCOPE_INVALID'],
    ['read:a:../b', 'ERR_SCOPE_INVALID'],
    ['{"action":"read"}', 'ERR_SCOPE_INVALID'],
    ['{"action":"read","resource":"x","constraints":{"n":{"max":1e400}}}', 'ERR_SCOPE_INVALID'],
    ['{"action":"read","resource":"x","__proto__":{}}', 'ERR_JSON_INVALID'],
    ['{"action":', 'ERR_JSON_INVALID'],
  ])('refuses %j with %s', (value, code) => {
    expect(codeOf(() => parseScopeArg(value))).toBe(code);
  });

  it('describes constraints for people', () => {
    expect(describeScope(parseScopeArg('{"action":"pay","resource":"inv","id":"*","constraints":{"amount":{"min":1,"max":5},"cur":{"in":["EUR","USD"]},"ref":{"prefix":"A-"},"ok":{"eq":true}}}'))).toBe(
      'pay:inv:* (amount ≥ 1, amount ≤ 5, cur in ["EUR", "USD"], ok = true, ref starts with "A-")',
    );
  });

  it('refuses private members in an inline public key', () => {
    expect(codeOf(() => parsePublicKeyArg('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}', '/'))).toBe('ERR_KEY_INVALID');
  });
});
