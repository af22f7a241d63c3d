/**
 * docs/errors.md is the reference for every error code: this fails when a code is
 * missing there, listed twice, unknown, or documented with another gRPC status, HTTP
 * status or title than ERROR_CODES says.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GrpcStatus, type ErrorCode } from './errors.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/errors.md');
const STATUS_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([name, n]) => [n, name]));

interface DocRow {
  readonly code: string;
  readonly grpc: string;
  readonly http: string;
  readonly title: string;
  readonly when: string;
}

/** Table rows whose first cell is a code: `| \`ERR_X\` | NAME (n) | http | title | when |`. */
function docRows(markdown: string): DocRow[] {
  const rows: DocRow[] = [];
  for (const line of markdown.split('\n')) {
    const m = /^\| `(ERR_[A-Z0-9_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| (.+) \|$/.exec(line);
    if (m) rows.push({ code: m[1]!, grpc: m[2]!.trim(), http: m[3]!.trim(), title: m[4]!.trim(), when: m[5]!.trim() });
  }
  return rows;
}

const rows = docRows(fs.readFileSync(DOC, 'utf8'));
const byCode = new Map(rows.map((r) => [r.code, r]));

describe('docs/errors.md stays in sync with ERROR_CODES', () => {
  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('%s is documented with its statuses and title', (code) => {
    const info = ERROR_CODES[code];
    const row = byCode.get(code);
    const expected = `| \`${code}\` | ${STATUS_NAMES.get(info.grpc)} (${info.grpc}) | ${info.http} | ${info.title} | <when it happens> |`;
    expect(row, `${code} is missing from docs/errors.md; add under its section:\n${expected}`).toBeDefined();
    expect(row!.grpc).toBe(`${STATUS_NAMES.get(info.grpc)} (${info.grpc})`);
    expect(row!.http).toBe(String(info.http));
    expect(row!.title).toBe(info.title);
    expect(row!.when.length, `${code} needs a "when it happens"`).toBeGreaterThan(10);
  });

  it('documents each code once and no code that does not exist', () => {
    expect(rows.length).toBe(byCode.size);
    expect([...byCode.keys()].filter((c) => !Object.hasOwn(ERROR_CODES, c))).toEqual([]);
    expect(rows.length).toBe(Object.keys(ERROR_CODES).length);
  });

  it('parses rows the way the reference writes them, and nothing else', () => {
    const sample = ['| `ERR_A` | NOT_FOUND (5) | 404 | Not found | When a thing is absent. |', '| ERR_B | x | y | z | w |', '`ERR_C` in prose'].join('\n');
    expect(docRows(sample)).toEqual([{ code: 'ERR_A', grpc: 'NOT_FOUND (5)', http: '404', title: 'Not found', when: 'When a thing is absent.' }]);
  });
});
