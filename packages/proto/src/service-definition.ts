import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, DescService } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { rememberRawBytes } from './raw-bytes.js';

/**
 * Stands in for a request that failed to decode. grpc-js turns a throwing deserializer
 * into INTERNAL; returning this marker instead lets the handler answer INVALID_ARGUMENT.
 */
export const DECODE_FAILURE: object = Object.freeze({ decodeFailure: true });

/** `/<package.Service>/<Method>`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** Encode a message or a message init object (`create` returns messages unchanged). */
export function encodeMessage(schema: DescMessage, value: unknown): Buffer {
  const bytes = toBinary(schema, create(schema, value as never));
  // grpc-js needs a Buffer; wrap the bytes without copying.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decode a request, keeping its raw bytes; {@link DECODE_FAILURE} when it does not parse. */
export function decodeRequest(schema: DescMessage, bytes: Buffer): unknown {
  try {
    const message = fromBinary(schema, bytes);
    rememberRawBytes(message, bytes);
    return message;
  } catch {
    return DECODE_FAILURE;
  }
}

function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  const { input, output, methodKind } = method;
  return {
    path: methodPath(method),
    requestStream: methodKind === 'client_streaming' || methodKind === 'bidi_streaming',
    responseStream: methodKind === 'server_streaming' || methodKind === 'bidi_streaming',
    originalName: method.localName,
    requestSerialize: (value) => encodeMessage(input, value),
    requestDeserialize: (bytes) => decodeRequest(input, bytes),
    responseSerialize: (value) => encodeMessage(output, value),
    responseDeserialize: (bytes) => fromBinary(output, bytes),
  };
}

/**
 * A grpc-js service definition for a protobuf-es v2 service descriptor: one entry per
 * method (keyed by its local name), path `/<package.Service>/<Method>`, stream flags from
 * the method kind, protobuf binary as the codec. Serializers accept messages or init
 * objects. A request that fails to decode deserializes to an internal marker that Baton's
 * server answers with INVALID_ARGUMENT; raw grpc-js servers should use `createServer`.
 */
export function createServiceDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) def[method.localName] = methodDefinition(method);
  return def;
}
