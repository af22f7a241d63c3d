import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';

/** Reads W3C trace-context headers from gRPC metadata (string values only). */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys(carrier) {
    return Object.keys(carrier.getMap());
  },
  get(carrier, key) {
    const values = carrier.get(key);
    if (values.length === 0) return undefined;
    const strings: string[] = [];
    for (const v of values) if (typeof v === 'string') strings.push(v);
    if (strings.length === 0) return undefined;
    return strings.length === 1 ? strings[0] : strings;
  },
};

/** Writes W3C trace-context headers into gRPC metadata, replacing any earlier value. */
export const metadataSetter: TextMapSetter<Metadata> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};
