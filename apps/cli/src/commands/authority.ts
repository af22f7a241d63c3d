/**
 * `baton authority start`: runs the authority in the foreground until SIGINT/SIGTERM.
 * The ready line (human, or one JSON document with --json) tells people and scripts the
 * address actually bound, which matters when the config listens on port 0.
 */
import path from 'node:path';
import { loadConfig, runAuthority } from '@baton/authority';
import { isBatonError } from '@baton/core';
import { UsageError, fileError, withHint } from '../cli-error.js';
import { str, type CommandSpec } from '../command-spec.js';
import { CONNECTION_DEFAULTS, baseDir, checkHostPort } from '../connection.js';

/** Resolves when the process is asked to stop. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const authorityStartCommand: CommandSpec = {
  path: ['authority', 'start'],
  summary: 'Run the authority (its configured services) in the foreground.',
  description:
    'Loads authority.json (environment overrides: BATON_STORE, BATON_LISTEN, BATON_TRUST_DOMAIN, BATON_METRICS_LISTEN, BATON_TRACE_FILE), starts the configured services on one gRPC port, prints a ready line with the bound address, and stops gracefully on SIGINT or SIGTERM.',
  positionals: [],
  options: {
    dir: { type: 'string', value: '<path>', description: 'Baton directory holding authority.json', default: CONNECTION_DEFAULTS.dir },
    config: { type: 'string', value: '<file>', description: 'config file (overrides --dir)', default: `<dir>/${CONNECTION_DEFAULTS.configFile}` },
    listen: { type: 'string', value: '<host:port>', description: 'listen address instead of the config\'s (port 0: any free port)', default: "the config's listen" },
    store: {
      type: 'string',
      value: '<url>',
      description: 'store instead of the config\'s: sqlite:<file>, or postgres://… to run as one of several replicas sharing PostgreSQL',
      default: "the config's store",
    },
  },
  examples: ['baton authority start', 'baton authority start --config /srv/baton/authority.json --json', 'baton authority start --store postgres://baton@db.internal/baton'],
  async run(input, { io, out }) {
    const file = path.resolve(io.cwd, str(input, 'config') ?? path.join(baseDir(input, io), CONNECTION_DEFAULTS.configFile));
    const listen = str(input, 'listen');
    const store = str(input, 'store');
    if (store !== undefined && !/^(postgres(ql)?:\/\/|sqlite:)/.test(store)) throw new UsageError('--store must be sqlite:<file> or postgres://…', 'authority start');
    const env = {
      ...io.env,
      ...(listen !== undefined ? { BATON_LISTEN: checkHostPort(listen, '--listen') } : {}),
      ...(store !== undefined ? { BATON_STORE: store } : {}),
    };
    let config;
    try {
      config = loadConfig(file, env);
    } catch (err) {
      if (isBatonError(err)) throw withHint(err, `fix ${file}, or recreate it with \`baton init --force\``);
      throw fileError(err, file, 'config', 'run `baton init` first, or pass --dir / --config');
    }
    out.note(`starting ${config.services.join(' + ')} (config ${path.relative(io.cwd, file) || file}, store ${config.store.replace(/\/\/[^@/]*@/, '//***@')})…`);
    const stopped = stopSignal();
    const running = await runAuthority(config);
    const a = running.authority;
    out.result({ event: 'ready', address: a.address, services: a.services, trustDomain: config.trustDomain, issuer: config.issuer, metrics: running.metricsAddress ?? null }, () =>
      [
        `authority ready on ${a.address} (${a.services.join(', ')})`,
        `  trust domain ${config.trustDomain}, issuer ${config.issuer}${running.metricsAddress ? `, metrics http://${running.metricsAddress}/metrics` : ''}`,
        '  press Ctrl-C to stop',
      ].join('\n'),
    );
    const signal = await stopped;
    out.note(`${signal}: stopping…`);
    await running.stop();
    out.note('stopped');
    return 0;
  },
};
