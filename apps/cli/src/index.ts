// @baton/cli: the `baton` command line, also callable in-process (tests, embedding).
export { main, topHelp, groupHelp } from './cli.js';
export type { CliIo, TextSink } from './io.js';
export { processIo } from './io.js';
export { EXIT } from './cli-error.js';
export { COMMANDS } from './commands/index.js';
export type { CommandSpec, OptionSpec, PositionalSpec } from './command-spec.js';
export { inspectToken } from './token-report.js';
export type { TokenCheck, TokenReport } from './token-report.js';
