/**
 * Rows of a SQLite audit file for offline verification, with SQLite assembling most of
 * each entry's canonical text: one string per stretch between the two JSON columns
 * instead of 29 values per row, which made reading the columns into JavaScript (not
 * hashing) most of a verification's time.
 *
 * SQLite writes text values between quotes without escaping, so its text is only used
 * when it is provably the text {@link canonicalRow} gives for the same row: every text
 * column holds text and every number column a safe integer (checked in the query), and
 * each stretch matches a pattern that admits no quote, backslash or control character
 * inside a value (checked here). Such values are what `jsonString` leaves unescaped,
 * integers print the same in SQLite and JavaScript, and decoding UTF-8 commutes with
 * concatenation at the ASCII delimiters (an invalid byte sequence never swallows an
 * ASCII byte), so the strings are equal. Any other row takes {@link canonicalRow} over
 * all its columns.
 */
import Database from 'better-sqlite3';
import { ENTRY_FORMAT_VERSION } from './entry-hash.js';
import { ENTRY_COLUMNS } from './row-codec.js';
import { canonicalAgentsColumn, canonicalAttributesColumn, canonicalRow } from './row-hash.js';

type Kind = 'text' | 'int' | 'json' | 'version';

// The hashed fields in canonical key order, with their column (see entryHashInput).
const FIELDS: ReadonlyArray<readonly [key: string, column: string, kind: Kind]> = [
  ['action', 'action', 'text'],
  ['agent', 'agent', 'text'],
  ['attributes', 'attributes', 'json'],
  ['chain_hash', 'chain_hash', 'text'],
  ['count', 'count', 'int'],
  ['delegation_depth', 'delegation_depth', 'int'],
  ['event_id', 'event_id', 'text'],
  ['first_time', 'first_time', 'int'],
  ['intermediate_agents', 'intermediate_agents', 'json'],
  ['last_time', 'last_time', 'int'],
  ['logged_at', 'logged_at', 'int'],
  ['orchestration', 'orchestration', 'text'],
  ['outcome', 'outcome', 'text'],
  ['prev_hash', 'prev_hash', 'text'],
  ['principal', 'principal', 'text'],
  ['reason_code', 'reason_code', 'text'],
  ['reason_detail', 'reason_detail', 'text'],
  ['request_bytes', 'request_bytes', 'int'],
  ['resource', 'resource', 'text'],
  ['sequence', 'seq', 'int'],
  ['source', 'source', 'text'],
  ['span_id', 'span_id', 'text'],
  ['task', 'task', 'text'],
  ['time', 'time', 'int'],
  ['token_bytes', 'token_bytes', 'int'],
  ['trace_id', 'trace_id', 'text'],
  ['type', 'type', 'text'],
  ['v', '', 'version'],
  ['workflow', 'workflow', 'text'],
];

const sqlLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const reLiteral = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
// A value jsonString writes unchanged between quotes, and SQLite's text of a safe integer.
const PLAIN_VALUE = '[^"\\\\\\u0000-\\u001f]*';
const INTEGER = '-?[0-9]+';

/** The SQL of the text stretches around the JSON columns, and the pattern each must match. */
function stretches(): { sql: string[]; patterns: RegExp[]; typeCheck: string } {
  const sql: string[] = [];
  const patterns: RegExp[] = [];
  const checks: string[] = [];
  let parts: string[] = [];
  let re = '';
  let literal = '{';
  const flush = (): void => {
    if (literal) parts.push(sqlLiteral(literal));
    re += reLiteral(literal);
    // One concat() allocates the result once (a chain of || copies it at every step); it
    // reads NULL as '', but a NULL column fails the type check anyway.
    sql.push(`concat(${parts.join(', ')})`);
    patterns.push(new RegExp(`^${re}$`));
    parts = [];
    re = '';
    literal = '';
  };
  FIELDS.forEach(([key, column, kind], i) => {
    literal += `${i === 0 ? '' : ','}"${key}":`;
    if (kind === 'version') {
      literal += String(ENTRY_FORMAT_VERSION);
      return;
    }
    if (kind === 'json') {
      checks.push(`typeof(${column}) = 'text'`);
      flush();
      return;
    }
    if (kind === 'text') literal += '"';
    parts.push(sqlLiteral(literal), column);
    re += `${reLiteral(literal)}${kind === 'text' ? PLAIN_VALUE : INTEGER}`;
    literal = kind === 'text' ? '"' : '';
    checks.push(kind === 'text' ? `typeof(${column}) = 'text'` : `typeof(${column}) = 'integer' AND ${column} BETWEEN -9007199254740991 AND 9007199254740991`);
  });
  literal += '}';
  flush();
  return { sql, patterns, typeCheck: checks.join(' AND ') };
}

const STRETCHES = stretches();
const [HEAD, MID, TAIL] = STRETCHES.patterns as [RegExp, RegExp, RegExp];

/**
 * A row as {@link RowTextReader.page} returns it: [0] sequence, [1] prev hash, [2] event
 * hash, [3] 1 when every column has its stored type, [4] the text before `attributes`,
 * [5] `attributes`, [6] the text up to `intermediate_agents`, [7] `intermediate_agents`,
 * [8] the rest.
 */
export type TextRow = readonly unknown[];

/** A read-only connection that reads rows of an audit file as canonical-text stretches. */
export class RowTextReader {
  readonly #db: Database.Database;
  readonly #page: Database.Statement<[number, number, number], unknown[]>;
  readonly #one: Database.Statement<[unknown], unknown[]>;

  /** Opens `path` read-only (it must exist). */
  constructor(path: string) {
    this.#db = new Database(path, { readonly: true, fileMustExist: true });
    this.#db.pragma('busy_timeout = 5000');
    const [head, mid, tail] = STRETCHES.sql as [string, string, string];
    this.#page = this.#db
      .prepare<[number, number, number], unknown[]>(
        `SELECT seq, prev_hash, event_hash, ${STRETCHES.typeCheck}, ${head}, attributes, ${mid}, intermediate_agents, ${tail} ` +
          'FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?',
      )
      .raw(true);
    this.#one = this.#db.prepare<[unknown], unknown[]>(`SELECT ${ENTRY_COLUMNS.join(', ')} FROM audit_entries WHERE seq = ?`).raw(true);
  }

  /** Up to `limit` rows with sequence in [from, to], in order. */
  page(from: number, to: number, limit: number): TextRow[] {
    return this.#page.all(from, to, limit);
  }

  /**
   * The canonical text of a row from {@link RowTextReader.page}: the string
   * `canonicalRow` gives for all the row's stored values.
   */
  text(r: TextRow): string {
    const head = r[4];
    const attrs = r[5];
    const mid = r[6];
    const agents = r[7];
    const tail = r[8];
    if (
      r[3] === 1 &&
      typeof head === 'string' &&
      typeof mid === 'string' &&
      typeof tail === 'string' &&
      typeof attrs === 'string' &&
      typeof agents === 'string' &&
      HEAD.test(head) &&
      MID.test(mid) &&
      TAIL.test(tail)
    ) {
      return head + canonicalAttributesColumn(attrs) + mid + canonicalAgentsColumn(agents) + tail;
    }
    return this.fullText(r[0]);
  }

  /** `canonicalRow` of the stored row with this sequence (the empty string when there is none). */
  fullText(sequence: unknown): string {
    const v = this.#one.get(sequence);
    return v ? canonicalRow(v) : '';
  }

  /** Closes the connection. */
  close(): void {
    this.#db.close();
  }
}
