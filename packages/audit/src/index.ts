// @baton/audit: the tamper-evident audit log (hash chain + RFC 9162 Merkle tree with
// C2SP signed checkpoints), its stores, the AuditService, and the durable client.

// Merkle tree (pure)
export { EMPTY_ROOT_HASH, HASH_SIZE, hashChildren, hashLeaf, rootOfLeafHashes } from './merkle-hash.js';
export { MerkleFrontier } from './merkle-frontier.js';
export type { TreeNode } from './merkle-frontier.js';
export { consistencyProof, consistencyProofPlan, inclusionProof, inclusionProofPlan } from './merkle-proof.js';
export type { LeafRange } from './merkle-proof.js';
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle-verify.js';
export { NODE_STRIDE, TreeReader } from './tree-reader.js';
export type { TreeStorage } from './tree-reader.js';

// signed notes and checkpoints (pure)
export { createNoteSigner, createNoteVerifier, formatVerifierKey, noteKeyId, openNote, parseVerifierKey, signNote } from './signed-note.js';
export type { NoteSigner, NoteVerifier, OpenedNote } from './signed-note.js';
export { formatCheckpointText, parseCheckpointText, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
export type { Checkpoint, SignedCheckpoint } from './checkpoint.js';

// events, hashing, sanitizing, verification (pure)
export { AGGREGATABLE_TYPES, AUDIT_EVENT_TYPES, isAuditEventType, outcomesOf } from './event-types.js';
export type { AuditEventType, AuditOutcome } from './event-types.js';
export type { AuditEntry, AuditEventFields, AuditEventInput } from './event.js';
export { AUDIT_LIMITS, validateEvent } from './validate-event.js';
export { ZERO_HASH, canonicalEntry, computeEventHash, leafHashOf, sealEntry } from './entry-hash.js';
export { DEFAULT_ATTRIBUTE_POLICY, KEYED_HASH_PREFIX, createSanitizer } from './sanitizer.js';
export type { AttributePolicy, SanitizedEvent, Sanitizer, SanitizerOptions } from './sanitizer.js';
export { redactSensitive } from './pii-detectors.js';
export type { Redaction, SensitiveKind } from './pii-detectors.js';
export { verifyEntries } from './verify-entries.js';
export type { VerifyEntriesOptions, VerifyFailure, VerifyProblem, VerifyReport } from './verify-entries.js';

// stores
export type { AppendOutcome, AuditStore, EntryFilter, StoredCheckpoint } from './store.js';
export { createSqliteAuditStore } from './sqlite-store.js';
export type { SqliteAuditStore, SqliteAuditStoreOptions } from './sqlite-store.js';
export { createPostgresAuditStore } from './postgres-store.js';
export type { PostgresAuditStoreOptions } from './postgres-store.js';

// the log
export { AUDIT_LOG_DEFAULTS, createAuditLog } from './audit-log.js';
export type { AppendResult, AuditLog, AuditLogOptions } from './audit-log.js';
export { QUERY_LIMITS } from './log-reads.js';
export type { InclusionProof, LogFilter, LogReads } from './log-reads.js';

// offline tools (for `baton audit verify` / `prove`)
export { verifyLogFile } from './verify-log-file.js';
export type { VerifyLogFileOptions, VerifyLogFileReport } from './verify-log-file.js';
export { checkConsistency, checkInclusionProof, proveInclusion } from './prove.js';
export type { InclusionProofInput } from './prove.js';

// the service
export { createAuditService } from './audit-service.js';
export type { AuditAuthorizer, AuditServiceOptions } from './audit-service.js';
export { keyProofAuthorizer } from './key-proof-authorizer.js';
export type { KeyProofAuthorizerOptions } from './key-proof-authorizer.js';
export { appendResultFromProto, entryToProto, eventFromProto, eventToProto } from './proto-convert.js';

// the client
export { AUDIT_CLIENT_DEFAULTS, createAuditClient } from './audit-client.js';
export type { AuditAlarm, AuditClient, AuditClientOptions, AuditClientStats } from './audit-client.js';
export { grpcAuditTransport } from './grpc-transport.js';
export type { AuditTransport, GrpcAuditTransportOptions } from './grpc-transport.js';
export { DEFAULT_READ_ACTIONS, createReadAggregator, isAggregatableRead } from './read-aggregator.js';
export type { ReadAggregator, ReadAggregatorOptions } from './read-aggregator.js';
