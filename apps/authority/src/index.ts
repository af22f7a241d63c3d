// @baton/authority: runs Baton's services (identity, issuer, delegation, audit, anomaly) from a config file.
export { startAuthority, serviceKey } from './authority.js';
export type { Authority, StartOptions } from './authority.js';
export { runAuthority } from './run-authority.js';
export type { RunningAuthority } from './run-authority.js';
export { DEFAULT_CONFIG, SERVICE_NAMES, loadConfig, operatorMap, resolveConfig } from './config.js';
export type { AuthorityConfig, OperatorEntry, ServiceName } from './config.js';
export { loadOrCreateKeyFile, loadOrCreateSecretFile, readKeyFile, writeFileOnce, writeKeyFile } from './key-files.js';
export { AUTHORITY_SVID_TTL_MS, TRUST_REFRESH_MS, openAuthorityTls, parseTlsConfig } from './authority-tls.js';
export { authorityId, openPeerChannels } from './peer-channels.js';
export type { PeerChannel, PeerChannels } from './peer-channels.js';
export type { AuthorityTls, AuthorityTlsConfig } from './authority-tls.js';
export { auditHmacKey, auditLogKey, auditOrigin, auditVerifierKey } from './audit-wiring.js';
