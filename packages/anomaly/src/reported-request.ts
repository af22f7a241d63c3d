/**
 * The request of a reported decision on the wire (ReportedRequest) and back, with the
 * bounds a receiver enforces: it is untrusted input.
 */
import type { ScopeRequest } from '@baton/core';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ReportedRequest, ReportedRequestSchema } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';

const MAX_TEXT = 512;
const MAX_ATTRIBUTES = 32;

/** A guard's scope request as sent to the anomaly service. */
export function requestToProto(r: ScopeRequest): MessageInitShape<typeof ReportedRequestSchema> {
  const attributes: Record<string, { kind: { case: 'stringValue'; value: string } | { case: 'numberValue'; value: number } | { case: 'boolValue'; value: boolean } }> = {};
  let n = 0;
  for (const [k, v] of Object.entries(r.attributes ?? {})) {
    if (n++ >= MAX_ATTRIBUTES) break;
    if (typeof v === 'string') attributes[k] = { kind: { case: 'stringValue', value: v.slice(0, MAX_TEXT) } };
    else if (typeof v === 'number') attributes[k] = { kind: { case: 'numberValue', value: v } };
    else if (typeof v === 'boolean') attributes[k] = { kind: { case: 'boolValue', value: v } };
  }
  return { action: r.action.slice(0, MAX_TEXT), resource: r.resource.slice(0, MAX_TEXT), id: (r.id ?? '').slice(0, MAX_TEXT), attributes };
}

/** A received request, or undefined when it breaks the bounds (the decision is then not counted). */
export function requestFromProto(p: ReportedRequest | undefined): ScopeRequest | undefined {
  if (!p || p.action === '' || p.resource === '') return undefined;
  if (p.action.length > MAX_TEXT || p.resource.length > MAX_TEXT || p.id.length > MAX_TEXT) return undefined;
  const entries = Object.entries(p.attributes);
  if (entries.length > MAX_ATTRIBUTES) return undefined;
  const attributes: Record<string, string | number | boolean> = {};
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 64 || v.kind.case === undefined) return undefined;
    if (typeof v.kind.value === 'string' && v.kind.value.length > MAX_TEXT) return undefined;
    attributes[k] = v.kind.value;
  }
  return { action: p.action, resource: p.resource, ...(p.id !== '' ? { id: p.id } : {}), ...(entries.length > 0 ? { attributes } : {}) };
}
