/**
 * Command line of `npm run demo -- [scenario] [--seed <n>] [--json] [--otlp <url>]`.
 */
import { parseArgs } from 'node:util';

/** The demo's scenarios. */
export const SCENARIOS = ['expense-approval', 'exfiltration'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Parsed options. */
export interface DemoOptions {
  readonly scenario: ScenarioName;
  /** Seed of the agents' choices; undefined: pick one (and print it). */
  readonly seed: number | undefined;
  /** One JSON object per step on stdout instead of the narration. */
  readonly json: boolean;
  /** OTLP/HTTP collector base URL the spans are also sent to. */
  readonly otlp: URL | undefined;
  readonly help: boolean;
}

/** Usage text. */
export const USAGE = `Usage: npm run demo -- [scenario] [options]

Scenarios:
  expense-approval   (default) agents born at runtime approve an invoice; then the attacks
  exfiltration       what an attacker gets from an agent's environment and memory

Options:
  --seed <n>         reproduce the agents' choices of a previous run (integer 1..2147483647)
  --json             one JSON object per step on stdout, then a summary line
  --otlp <url>       also export every span to an OTLP/HTTP collector (e.g. http://localhost:4318)
  -h, --help         this text
`;

/** Parses the demo's arguments; throws TypeError with a message for the user on bad input. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      otlp: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 1) throw new TypeError(`one scenario at most, got ${positionals.join(' ')}`);
  const scenario = (positionals[0] ?? 'expense-approval') as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new TypeError(`unknown scenario ${positionals[0]} (expected ${SCENARIOS.join(' or ')})`);
  let seed: number | undefined;
  if (values.seed !== undefined) {
    if (!/^[1-9][0-9]{0,9}$/.test(values.seed) || Number(values.seed) > 2_147_483_647) throw new TypeError('--seed must be an integer in 1..2147483647');
    seed = Number(values.seed);
  }
  let otlp: URL | undefined;
  if (values.otlp !== undefined) {
    try {
      otlp = new URL(values.otlp);
    } catch {
      throw new TypeError('--otlp must be a URL such as http://localhost:4318');
    }
    if (otlp.protocol !== 'http:' && otlp.protocol !== 'https:') throw new TypeError('--otlp must be an http(s) URL');
  }
  return { scenario, seed, json: values.json === true, otlp, help: values.help === true };
}
