import type { MessageInitShape } from '@bufbuild/protobuf';
import { BatonError, parseScope } from '@baton/core';
import type { Constraint, ConstraintValue, Scope } from '@baton/core';
import type {
  ConstraintSchema,
  ConstraintValue as ProtoConstraintValue,
  ConstraintValueSchema,
  Scope as ProtoScope,
  ScopeSchema,
} from './gen/baton/type/v1/scope_pb.js';

function valueToProto(v: ConstraintValue): MessageInitShape<typeof ConstraintValueSchema> {
  switch (typeof v) {
    case 'string':
      return { kind: { case: 'stringValue', value: v } };
    case 'number':
      return { kind: { case: 'numberValue', value: v } };
    case 'boolean':
      return { kind: { case: 'boolValue', value: v } };
    default:
      throw new TypeError('scopeToProto: constraint values are string, number or boolean');
  }
}

function valueFromProto(v: ProtoConstraintValue): ConstraintValue {
  if (v.kind.case === undefined) throw new BatonError('ERR_SCOPE_INVALID', 'constraint value has no kind set');
  return v.kind.value;
}

/**
 * A core scope as the proto `baton.type.v1.Scope` (JSON `in` becomes `any_of`; no id
 * becomes the empty string).
 */
export function scopeToProto(s: Scope): MessageInitShape<typeof ScopeSchema> {
  const constraints: Record<string, MessageInitShape<typeof ConstraintSchema>> = {};
  for (const [key, c] of Object.entries(s.constraints ?? {})) {
    constraints[key] = {
      ...(c.eq !== undefined ? { eq: valueToProto(c.eq) } : {}),
      ...(c.in !== undefined ? { anyOf: c.in.map(valueToProto) } : {}),
      ...(c.max !== undefined ? { max: c.max } : {}),
      ...(c.min !== undefined ? { min: c.min } : {}),
      ...(c.prefix !== undefined ? { prefix: c.prefix } : {}),
    };
  }
  return { action: s.action, resource: s.resource, id: s.id ?? '', constraints };
}

/**
 * A proto scope (untrusted: it came off the wire) as a validated, normalised core scope.
 * Throws `BatonError('ERR_SCOPE_INVALID')` for anything `parseScope` rejects, and for a
 * constraint value with no kind set.
 */
export function scopeFromProto(m: ProtoScope): Scope {
  const input: { action: string; resource: string; id?: string; constraints?: Record<string, Constraint> } = {
    action: m.action,
    resource: m.resource,
  };
  if (m.id !== '') input.id = m.id;
  const keys = Object.keys(m.constraints);
  if (keys.length > 0) {
    const constraints: Record<string, Constraint> = {};
    for (const key of keys) {
      const c = m.constraints[key]!;
      const out: { -readonly [K in keyof Constraint]: Constraint[K] } = {};
      if (c.eq !== undefined) out.eq = valueFromProto(c.eq);
      if (c.anyOf.length > 0) out.in = c.anyOf.map(valueFromProto);
      if (c.max !== undefined) out.max = c.max;
      if (c.min !== undefined) out.min = c.min;
      if (c.prefix !== undefined) out.prefix = c.prefix;
      constraints[key] = out;
    }
    input.constraints = constraints;
  }
  return parseScope(input);
}
