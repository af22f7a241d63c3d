import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBatonError } from '@baton/core';
import {
  boolean,
  contextIa5,
  encodeLength,
  integer,
  namedBits,
  nullValue,
  oid,
  sequence,
  setOf,
  time,
  utf8String,
} from './der-writer.js';
import {
  childrenOf,
  readBitString,
  readBoolean,
  readNamedBits,
  readOid,
  readOne,
  readTime,
  readUnsignedInteger,
} from './der-reader.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton: ${String(err)}`;
  }
}

describe('DER writer: canonical encodings (X.690 §8, §10)', () => {
  it.each<[string, Buffer, string]>([
    ['length 0', encodeLength(0), '00'],
    ['length 127 (short form)', encodeLength(127), '7f'],
    ['length 128 (long form, one octet)', encodeLength(128), '8180'],
    ['length 256', encodeLength(256), '820100'],
    ['INTEGER 0', integer(0), '020100'],
    ['INTEGER 127', integer(127), '02017f'],
    ['INTEGER 128 gets a leading zero', integer(128), '02020080'],
    ['INTEGER 256', integer(256), '02020100'],
    ['INTEGER from bytes drops redundant zeros', integer(Uint8Array.from([0, 0, 1])), '020101'],
    ['INTEGER from bytes with the high bit set', integer(Uint8Array.from([0xff])), '020200ff'],
    ['BOOLEAN TRUE is 0xff', boolean(true), '0101ff'],
    ['BOOLEAN FALSE', boolean(false), '010100'],
    ['NULL', nullValue(), '0500'],
    ['OID rsadsi 1.2.840.113549', oid('1.2.840.113549'), '06062a864886f70d'],
    ['OID subjectAltName 2.5.29.17', oid('2.5.29.17'), '0603551d11'],
    ['OID id-Ed25519 1.3.101.112', oid('1.3.101.112'), '06032b6570'],
    ['OID 2.999.3 (X.690 example)', oid('2.999.3'), '0603883703'],
    ['KeyUsage digitalSignature', namedBits([0]), '03020780'],
    ['KeyUsage keyCertSign + cRLSign', namedBits([5, 6]), '03020106'],
    ['bits 0 and 8 span two octets', namedBits([0, 8]), '0303078080'],
    ['UTF8String', utf8String('Baton'), '0c054261746f6e'],
    ['URI GeneralName [6]', contextIa5(6, 'spiffe://a/b'), '860c7370696666653a2f2f612f62'],
    ['UTCTime for 2049', time(Date.UTC(2049, 11, 31, 23, 59, 59)), `170d${Buffer.from('491231235959Z').toString('hex')}`],
    ['UTCTime for 1950', time(Date.UTC(1950, 0, 1)), `170d${Buffer.from('500101000000Z').toString('hex')}`],
    ['GeneralizedTime from 2050', time(Date.UTC(2050, 0, 1)), `180f${Buffer.from('20500101000000Z').toString('hex')}`],
    ['time drops milliseconds', time(Date.UTC(2030, 5, 1, 0, 0, 0) + 999), `170d${Buffer.from('300601000000Z').toString('hex')}`],
  ])('%s', (_name, encoded, expected) => {
    expect(hex(encoded)).toBe(expected);
  });

  it('SET OF sorts its encoded elements', () => {
    expect(hex(setOf(integer(2), integer(1)))).toBe('3106020101020102');
  });

  it('a long SEQUENCE uses the long length form', () => {
    const s = sequence(Buffer.alloc(300));
    expect(hex(s.subarray(0, 4))).toBe('3082012c');
    expect(s.length).toBe(304);
  });

  it.each([['1'], ['3.1'], ['1.40'], ['1.2.03'], ['a.b'], ['1..2']])('refuses the malformed OID %s', (dotted) => {
    expect(() => oid(dotted)).toThrow(TypeError);
  });

  it('refuses negative integers and bad lengths', () => {
    expect(() => integer(-1)).toThrow(TypeError);
    expect(() => encodeLength(-1)).toThrow(TypeError);
  });
});

describe('DER reader: round trips (property)', () => {
  it('OIDs', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2),
        fc.nat({ max: 39 }),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 63n }), { maxLength: 5 }),
        (a, b, rest) => {
          const dotted = [a, b, ...rest].map(String).join('.');
          expect(readOid(readOne(oid(dotted)))).toBe(dotted);
        },
      ),
    );
  });

  it('non-negative integers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 160n }), (v) => {
        const back = readUnsignedInteger(readOne(integer(v)));
        expect(BigInt(`0x${back.toString('hex') || '0'}`)).toBe(v);
      }),
    );
  });

  it('times, to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59) }), (ms) => {
        expect(readTime(readOne(time(ms)))).toBe(Math.floor(ms / 1000) * 1000);
      }),
    );
  });

  it('named bits', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 15 }), { minLength: 1, maxLength: 8 }), (bits) => {
        expect([...readNamedBits(readOne(namedBits(bits)))].sort((x, y) => x - y)).toEqual([...bits].sort((x, y) => x - y));
      }),
    );
  });

  it('never throws anything but ERR_PEER_CERT_INVALID on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        const code = codeOf(() => {
          const t = readOne(Buffer.from(input));
          if (t.tag & 0x20) childrenOf(t);
        });
        expect(['OK', 'ERR_PEER_CERT_INVALID']).toContain(code);
      }),
    );
  });
});

describe('DER reader: refuses what is not canonical DER', () => {
  it.each<[string, string, (b: Buffer) => unknown]>([
    ['indefinite length', '3080 0000', (b) => readOne(b)],
    ['long form for a short length', '04 817f' + '00'.repeat(127), (b) => readOne(b)],
    ['leading zero in a long length', '04 820080' + '00'.repeat(128), (b) => readOne(b)],
    ['multi-octet tag', '1f 0100', (b) => readOne(b)],
    ['truncated value', '04 05 0102', (b) => readOne(b)],
    ['trailing bytes', '0500 00', (b) => readOne(b)],
    ['truncated header', '04', (b) => readOne(b)],
    ['non-minimal integer', '02020001', (b) => readUnsignedInteger(readOne(b))],
    ['negative integer', '020180', (b) => readUnsignedInteger(readOne(b))],
    ['empty integer', '0200', (b) => readUnsignedInteger(readOne(b))],
    ['BOOLEAN other than 00/ff', '010101', (b) => readBoolean(readOne(b))],
    ['OID arc with a leading 0x80', '06028001', (b) => readOid(readOne(b))],
    ['truncated OID', '060181', (b) => readOid(readOne(b))],
    ['BIT STRING with set unused bits', '03020781', (b) => readBitString(readOne(b))],
    ['BIT STRING with 8 unused bits', '03020800', (b) => readBitString(readOne(b))],
    ['UTCTime without seconds', `170b${Buffer.from('3001011200Z').toString('hex')}`, (b) => readTime(readOne(b))],
    ['UTCTime with an offset', `1711${Buffer.from('300101120000+0100').toString('hex')}`, (b) => readTime(readOne(b))],
    ['February 30', `170d${Buffer.from('300230120000Z').toString('hex')}`, (b) => readTime(readOne(b))],
    ['hour 24', `170d${Buffer.from('300101240000Z').toString('hex')}`, (b) => readTime(readOne(b))],
    ['GeneralizedTime with fractions', `1813${Buffer.from('20300101120000.5Z').toString('hex')}`, (b) => readTime(readOne(b))],
    ['children that overrun their parent', '3003 0405 00', (b) => childrenOf(readOne(b))],
    ['children of a primitive', '0401 00', (b) => childrenOf(readOne(b))],
  ])('%s', (_name, h, parse) => {
    expect(codeOf(() => parse(bytes(h)))).toBe('ERR_PEER_CERT_INVALID');
  });

  it('does not recurse without bound', () => {
    let nested: Buffer = Buffer.from([0x30, 0x00]);
    for (let i = 0; i < 40; i++) nested = sequence(nested);
    let t = readOne(nested);
    let depth = 0;
    expect(
      codeOf(() => {
        for (;;) {
          const c = childrenOf(t, depth++);
          if (c.length === 0) break;
          t = c[0]!;
        }
      }),
    ).toBe('ERR_PEER_CERT_INVALID');
  });
});
