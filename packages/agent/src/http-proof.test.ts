import { describe, expect, it } from 'vitest';
import { httpMethod, httpTargetUri, withDpopHeaders } from './http-proof.js';

describe('httpTargetUri (RFC 9449 htu)', () => {
  it.each([
    ['https://api.example/v1/pay?amount=5#frag', 'https://api.example/v1/pay'],
    ['https://API.Example:443/v1/pay', 'https://api.example/v1/pay'],
    ['http://localhost:8080/x/y?', 'http://localhost:8080/x/y'],
    ['http://127.0.0.1:80', 'http://127.0.0.1/'],
  ])('%s → %s', (url, htu) => {
    expect(httpTargetUri(url)).toBe(htu);
    expect(httpTargetUri(new URL(url))).toBe(htu);
  });

  it.each(['ftp://x/y', 'file:///etc/passwd', 'https://user:pw@api.example/x', 'not a url'])('refuses %s', (url) => {
    expect(() => httpTargetUri(url)).toThrow(TypeError);
  });
});

describe('httpMethod', () => {
  it('defaults to GET and upper-cases', () => {
    expect(httpMethod(undefined)).toBe('GET');
    expect(httpMethod('post')).toBe('POST');
  });
  it.each(['', 'GE T', 'PO\nST', 'GET/'])('refuses %j', (m) => {
    expect(() => httpMethod(m)).toThrow(TypeError);
  });
});

describe('withDpopHeaders', () => {
  it('adds both headers and keeps the others', () => {
    const h = withDpopHeaders({ 'content-type': 'application/json' }, 'tok', 'prf');
    expect(h.get('authorization')).toBe('DPoP tok');
    expect(h.get('dpop')).toBe('prf');
    expect(h.get('content-type')).toBe('application/json');
  });
  it.each<Record<string, string> | [string, string][]>([{ Authorization: 'Bearer x' }, { DPoP: 'y' }, [['authorization', 'z']]])(
    'refuses a caller-set credential header %j',
    (headers) => {
      expect(() => withDpopHeaders(headers, 'tok', 'prf')).toThrow(TypeError);
    },
  );
});
