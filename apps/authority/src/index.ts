// @baton/authority: runs Baton's services (identity, issuer; delegation and audit as they land).
export { startAuthority, serviceKey } from './authority.js';
export type { Authority, StartOptions } from './authority.js';
export { runAuthority } from './run-authority.js';
export type { RunningAuthority } from './run-authority.js';
export { DEFAULT_CONFIG, SERVICE_NAMES, loadConfig, operatorMap, resolveConfig } from './config.js';
export type { AuthorityConfig, OperatorEntry, ServiceName } from './config.js';
export { loadOrCreateKeyFile, readKeyFile, writeKeyFile } from './key-files.js';
