// Test-only helpers (excluded from the build).
import { create } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import { createFileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { AppendResponseSchema, AuditEventSchema, file_baton_audit_v1_audit } from '../gen/baton/audit/v1/audit_pb.js';
import type { BatonServer } from '../server.js';

/**
 * A service built at runtime from a descriptor (no .proto file), to exercise the method
 * kinds Baton's own services do not use yet: client streaming and bidi.
 */
export function collectorService(): GenService<{
  collect: { methodKind: 'client_streaming'; input: typeof AuditEventSchema; output: typeof AppendResponseSchema };
  echo: { methodKind: 'bidi_streaming'; input: typeof AuditEventSchema; output: typeof AuditEventSchema };
}> {
  const proto = create(FileDescriptorProtoSchema, {
    name: 'test/v1/collector.proto',
    package: 'test.v1',
    syntax: 'proto3',
    dependency: ['baton/audit/v1/audit.proto'],
    service: [
      {
        name: 'Collector',
        method: [
          { name: 'Collect', inputType: '.baton.audit.v1.AuditEvent', outputType: '.baton.audit.v1.AppendResponse', clientStreaming: true },
          { name: 'Echo', inputType: '.baton.audit.v1.AuditEvent', outputType: '.baton.audit.v1.AuditEvent', clientStreaming: true, serverStreaming: true },
        ],
      },
    ],
  });
  const registry = createFileRegistry(proto, (name) => (name === 'baton/audit/v1/audit.proto' ? file_baton_audit_v1_audit : undefined));
  return registry.getService('test.v1.Collector') as never;
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolve when `signal` aborts, with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

/** Capture the rejection of `p` (fails the test if it resolves). */
export async function rejectionOf(p: Promise<unknown> | (() => Promise<unknown>)): Promise<{ code?: unknown; message?: unknown; detail?: unknown; cause?: unknown }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as never;
  }
  throw new Error('expected a rejection');
}

/** Start `server` on a free loopback port and return the target. */
export async function start(server: BatonServer): Promise<string> {
  const port = await server.listen('127.0.0.1:0');
  return `127.0.0.1:${port}`;
}
