/**
 * Output: narrated lines with ✓/✗ for people, or with `--json` one JSON object per step
 * and a summary line (nothing else on stdout).
 */

/** Allowed or denied. */
export type Verdict = 'allow' | 'deny';

/** One scenario step's outcome, as `--json` prints it. */
export interface StepRecord {
  readonly step: string;
  readonly expected: Verdict;
  readonly actual: Verdict;
  readonly ok: boolean;
  readonly code: string | null;
  readonly traceId: string | null;
}

/** The closing line. */
export interface Summary {
  readonly ok: boolean;
  readonly steps: number;
  readonly auditEntries: number;
  readonly checkpointVerified: boolean;
}

/** Where the narration goes. */
export interface Narrator {
  readonly json: boolean;
  /** A heading. */
  section(title: string): void;
  /** A setup action that worked (✓) or not (✗). */
  check(ok: boolean, text: string): void;
  /** An indented detail line under the last check or step. */
  detail(label: string, text: string): void;
  /** Free text (human mode only). */
  say(text: string): void;
  /** A scenario step: ✓ when the outcome was as expected. */
  step(record: StepRecord, headline: string): void;
  summary(summary: Summary): void;
}

/** Options of {@link createNarrator}. */
export interface NarratorOptions {
  readonly json: boolean;
  /** Default: stdout. */
  readonly write?: (text: string) => void;
  /** ANSI colours. Default: stdout is a TTY and NO_COLOR is unset. */
  readonly color?: boolean;
}

/** A narrator for humans or for `--json`. */
export function createNarrator(options: NarratorOptions): Narrator {
  const write = options.write ?? ((t: string) => void process.stdout.write(t));
  const color = options.color ?? (process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined);
  const paint = (code: string, t: string): string => (color ? `\x1b[${code}m${t}\x1b[0m` : t);
  const mark = (ok: boolean): string => (ok ? paint('32', '✓') : paint('31', '✗'));
  const human = (t: string): void => {
    if (!options.json) write(`${t}\n`);
  };
  return {
    json: options.json,
    section: (title) => human(`\n${paint('1', title)}`),
    check: (ok, text) => human(`  ${mark(ok)} ${text}`),
    detail: (label, text) => human(`      ${paint('2', label.padEnd(10))} ${text}`),
    say: (text) => human(text),
    step(record, headline) {
      if (options.json) {
        write(`${JSON.stringify(record)}\n`);
        return;
      }
      const outcome = record.actual === 'allow' ? paint('32', 'allowed') : paint('33', `refused ${record.code ?? ''}`.trimEnd());
      write(`  ${mark(record.ok)} ${paint('2', `[${record.step}]`)} ${headline} — ${outcome}${record.ok ? '' : paint('31', ` (expected ${record.expected})`)}\n`);
    },
    summary(summary) {
      if (options.json) {
        write(`${JSON.stringify({ summary })}\n`);
        return;
      }
      write(`\n${mark(summary.ok)} ${summary.ok ? 'every outcome was as expected' : 'some outcomes differed from what was expected'} (${summary.steps} steps)\n`);
    },
  };
}
