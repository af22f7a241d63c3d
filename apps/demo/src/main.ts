#!/usr/bin/env node
/**
 * `npm run demo -- [scenario] [--seed <n>] [--json] [--otlp <url>]`. Exit code 0 when
 * every outcome was as expected, 1 when one differed (or the demo failed), 2 on bad
 * arguments, 130 when interrupted. No child process outlives it.
 */
import { USAGE, parseDemoArgs } from './cli-options.js';
import type { DemoOptions } from './cli-options.js';
import { stopAllChildren } from './child-process.js';
import { runExfiltration } from './exfiltration.js';
import { runExpenseApproval } from './expense-approval.js';
import { createNarrator } from './narrator.js';

async function main(argv: string[]): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseDemoArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const interrupted = (): void => {
    process.stderr.write('\n[demo] interrupted: stopping every process\n');
    void stopAllChildren(1000).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const narrator = createNarrator({ json: options.json });
  const ok = options.scenario === 'exfiltration' ? await runExfiltration(options, narrator) : await runExpenseApproval(options, narrator);
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await stopAllChildren(1000);
    process.exit(1);
  },
);
