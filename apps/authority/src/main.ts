#!/usr/bin/env node
/**
 * `baton-authority --config <file>`: runs the configured Baton services. Prints one JSON
 * line `{"event":"ready",...}` on stdout when listening, so supervisors and tests know
 * when to proceed; stops gracefully on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { runAuthority } from './run-authority.js';

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const config = loadConfig(values.config ?? 'authority.json');
  const running = await runAuthority(config);
  process.stdout.write(
    JSON.stringify({ event: 'ready', address: running.authority.address, services: running.authority.services, metrics: running.metricsAddress ?? null }) + '\n',
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[authority] ${signal}: stopping\n`);
    running.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`[authority] stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/authority/dist/main.js')) {
  main().catch((err) => {
    process.stderr.write(`[authority] failed to start: ${err?.code ? `${err.code}: ${err.detail ?? err.message}` : String(err?.stack ?? err)}\n`);
    process.exit(1);
  });
}
