import type { Writable } from 'node:stream';
import type { DescMethod } from '@bufbuild/protobuf';
import { fromBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { BatonError } from '@baton/core';
import type { CallOptions } from './client-types.js';
import { errorFromGrpc } from './error-mapping.js';
import { encodeMessage, methodPath } from './service-definition.js';

/** Deadlines a client applies when a call names none. */
export interface Deadlines {
  readonly unaryMs: number;
  readonly streamMs: number;
}

interface Prepared {
  readonly path: string;
  readonly serialize: (value: unknown) => Buffer;
  readonly deserialize: (bytes: Buffer) => unknown;
}

/** Codec and path of one method, computed once per client. */
export function prepare(method: DescMethod): Prepared {
  return {
    path: methodPath(method),
    serialize: (value) => encodeMessage(method.input, value),
    deserialize: (bytes) => fromBinary(method.output, bytes),
  };
}

function metadataOf(md: CallOptions['metadata']): grpc.Metadata {
  if (md instanceof grpc.Metadata) return md.clone();
  const out = new grpc.Metadata();
  if (md) {
    for (const [k, v] of Object.entries(md)) {
      try {
        out.set(k, v);
      } catch (err) {
        throw new TypeError(`invalid metadata ${k}: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

function callOptionsOf(deadlineMs: number): grpc.CallOptions {
  if (typeof deadlineMs !== 'number' || Number.isNaN(deadlineMs) || deadlineMs <= 0) {
    throw new TypeError('deadlineMs must be a positive number');
  }
  return Number.isFinite(deadlineMs) ? { deadline: Date.now() + deadlineMs } : {};
}

function checkNotAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BatonError('ERR_CANCELLED', 'call aborted before it started');
}

/** Watch `signal` for the life of a call; returns the detach function. */
function onAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
  if (!signal) return () => {};
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

function ignore(): void {}

function waitDrain(stream: Writable, done: Promise<unknown>): Promise<unknown> {
  let off = ignore;
  const drained = new Promise<void>((resolve) => {
    stream.once('drain', resolve);
    off = () => stream.off('drain', resolve);
  });
  return Promise.race([drained, done]).finally(off);
}

/** Write every request, then half-close; stops quietly once the call is over. */
async function pump(
  requests: AsyncIterable<unknown> | Iterable<unknown>,
  stream: Writable & { end(): void },
  isOver: () => boolean,
  over: Promise<unknown>,
): Promise<void> {
  for await (const r of requests) {
    if (isOver()) return;
    if (!stream.write(r)) await waitDrain(stream, over);
  }
  if (!isOver()) stream.end();
}

/** A unary call. */
export function unaryCall(client: grpc.Client, p: Prepared, deadlines: Deadlines, request: unknown, opts?: CallOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    checkNotAborted(opts?.signal);
    const metadata = metadataOf(opts?.metadata);
    const options = callOptionsOf(opts?.deadlineMs ?? deadlines.unaryMs);
    let detach = ignore;
    const call = client.makeUnaryRequest(p.path, p.serialize, p.deserialize, request, metadata, options, (err, value) => {
      detach();
      if (err) reject(errorFromGrpc(err));
      else resolve(value);
    });
    detach = onAbort(opts?.signal, () => call.cancel());
  });
}

/** A client-streaming call. */
export function clientStreamCall(
  client: grpc.Client,
  p: Prepared,
  deadlines: Deadlines,
  requests: AsyncIterable<unknown> | Iterable<unknown>,
  opts?: CallOptions,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    checkNotAborted(opts?.signal);
    const metadata = metadataOf(opts?.metadata);
    const options = callOptionsOf(opts?.deadlineMs ?? deadlines.unaryMs);
    let detach = ignore;
    let over = false;
    let localError: unknown;
    let markOver = ignore;
    const overPromise = new Promise<void>((r) => (markOver = r));
    const call = client.makeClientStreamRequest(p.path, p.serialize, p.deserialize, metadata, options, (err, value) => {
      over = true;
      markOver();
      detach();
      // A failure of the caller's own request iterable wins over the CANCELLED it caused.
      if (localError !== undefined) reject(localError);
      else if (err) reject(errorFromGrpc(err));
      else resolve(value);
    });
    call.on('error', ignore);
    detach = onAbort(opts?.signal, () => call.cancel());
    pump(requests, call, () => over, overPromise).catch((err: unknown) => {
      localError = err;
      call.cancel();
    });
  });
}

/** A server-streaming call; the call starts on first iteration. */
export async function* serverStreamCall(
  client: grpc.Client,
  p: Prepared,
  deadlines: Deadlines,
  request: unknown,
  opts?: CallOptions,
): AsyncGenerator<unknown> {
  checkNotAborted(opts?.signal);
  const metadata = metadataOf(opts?.metadata);
  const options = callOptionsOf(opts?.deadlineMs ?? deadlines.streamMs);
  const call = client.makeServerStreamRequest(p.path, p.serialize, p.deserialize, request, metadata, options);
  // grpc-js emits 'error' after a cancel too; without a listener that would crash the process.
  call.on('error', ignore);
  const detach = onAbort(opts?.signal, () => call.cancel());
  try {
    for await (const message of call) yield message;
  } catch (err) {
    throw errorFromGrpc(err);
  } finally {
    detach();
    call.cancel();
  }
}

/** A bidirectional-streaming call; the call starts on first iteration. */
export async function* bidiStreamCall(
  client: grpc.Client,
  p: Prepared,
  deadlines: Deadlines,
  requests: AsyncIterable<unknown> | Iterable<unknown>,
  opts?: CallOptions,
): AsyncGenerator<unknown> {
  checkNotAborted(opts?.signal);
  const metadata = metadataOf(opts?.metadata);
  const options = callOptionsOf(opts?.deadlineMs ?? deadlines.streamMs);
  const call = client.makeBidiStreamRequest(p.path, p.serialize, p.deserialize, metadata, options);
  call.on('error', ignore);
  const detach = onAbort(opts?.signal, () => call.cancel());
  let over = false;
  let localError: unknown;
  const overPromise = new Promise<void>((resolve) =>
    call.once('status', () => {
      over = true;
      resolve();
    }),
  );
  pump(requests, call, () => over, overPromise).catch((err: unknown) => {
    localError = err;
    call.cancel();
  });
  try {
    for await (const message of call) yield message;
    if (localError !== undefined) throw localError;
  } catch (err) {
    if (localError !== undefined) throw localError;
    throw errorFromGrpc(err);
  } finally {
    over = true;
    detach();
    call.cancel();
  }
}
