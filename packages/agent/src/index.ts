// @baton/agent: the agent SDK. Key in memory, registration, renewal, proofs on every
// call, heartbeats, release.
export { Agent, createAgent } from './agent.js';
export type { RenewOptions } from './agent-lifecycle.js';
export type { AgentEvent } from './agent-events.js';
export type { AgentStatus } from './session.js';
export { AGENT_DEFAULTS } from './options.js';
export type { AgentOptions } from './options.js';
export { LAUNCH_TOKEN_ENV } from './launch-token.js';
export type { CallMetadata } from './call-metadata.js';
export { DelegatedToken } from './delegate.js';
export type { DelegateOptions, DelegateeRef, DelegationGrant } from './delegate.js';
export type { AgentTaskState } from './heartbeat.js';
export type { AgentTimers } from './timers.js';
export type { AgentSvidInfo } from './agent-mtls.js';
export type { AgentServer, ServeOptions, ServeTokenOptions } from './serve.js';
export type { ConnectOptions, TokenBinding } from './connect.js';
