/**
 * An audit sink that exists before the real one: the listener's TLS is set up before the
 * services (and their audit clients) start, yet a CA rotation made while issuing the
 * listener certificate must reach the log. Records wait (bounded) until `connect`.
 */
import type { AuditRecord, AuditSink } from '@baton/core';

/** A sink that buffers until connected to the real one. */
export interface DeferredAuditSink extends AuditSink {
  /** Sends the buffered records (in order) and everything after to `sink`. */
  connect(sink: AuditSink): Promise<void>;
}

/** CA rotations are rare (a year apart); anything past this many before start-up is a bug. */
const MAX_BUFFERED = 64;

/** A {@link DeferredAuditSink}. */
export function deferredAuditSink(): DeferredAuditSink {
  let target: AuditSink | undefined;
  const buffered: AuditRecord[] = [];
  return {
    async emit(record) {
      if (target) return target.emit(record);
      if (buffered.length >= MAX_BUFFERED) throw new TypeError('deferred audit sink: never connected');
      buffered.push(record);
    },
    async connect(sink) {
      target = sink;
      for (const r of buffered.splice(0)) await sink.emit(r);
    },
  };
}
