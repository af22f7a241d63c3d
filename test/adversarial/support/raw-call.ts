/**
 * Calls any method with raw bytes, bypassing the typed client and its encoder: what an
 * attacker's own gRPC stack sends. Resolves with what came back — the gRPC status, the
 * Baton code from the trailers, how many messages arrived — never rejects, and gives up
 * after a deadline so a hang shows up as DEADLINE_EXCEEDED (4) instead of a stuck test.
 */
import * as grpc from '@grpc/grpc-js';
import type { DescService } from '@bufbuild/protobuf';
import { MetadataKey } from '@baton/proto';

export interface RawOutcome {
  readonly path: string;
  /** gRPC status code; 0 for OK (or a stream that delivered a message and was cancelled by us). */
  readonly status: number;
  /** `baton-error-code` trailer, '' when absent. */
  readonly code: string;
  readonly messages: number;
}

const identity = (b: Buffer): Buffer => b;

/** A raw client; `-1` lifts the client's own send limit so oversized messages reach the server. */
export function rawClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
}

/** One raw client per address, created on first use. */
export function rawClients(): { get(address: string): grpc.Client; close(): void } {
  const clients = new Map<string, grpc.Client>();
  return {
    get(address) {
      let c = clients.get(address);
      if (!c) clients.set(address, (c = rawClient(address)));
      return c;
    },
    close() {
      for (const c of clients.values()) c.close();
    },
  };
}

/** Every method path of a service with its kind. */
export function methodsOf(service: DescService): { path: string; kind: string }[] {
  return service.methods.map((m) => ({ path: `/${service.typeName}/${m.name}`, kind: m.methodKind }));
}

/** Sends `payload` as the one request message of `path`. */
export function rawCall(client: grpc.Client, path: string, kind: string, payload: Buffer, metadata: Record<string, string> = {}, deadlineMs = 8000): Promise<RawOutcome> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const options = { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    let messages = 0;
    let done = false;
    const finish = (status: number, trailers?: grpc.Metadata) => {
      if (done) return;
      done = true;
      const code = trailers?.get(MetadataKey.errorCode)[0];
      resolve({ path, status, code: typeof code === 'string' ? code : '', messages });
    };
    const onError = (err: grpc.ServiceError) => finish(err.code, err.metadata);
    if (kind === 'unary') {
      client.makeUnaryRequest(path, identity, identity, payload, md, options, (err) => (err ? onError(err) : finish(0)));
    } else if (kind === 'client_streaming') {
      const call = client.makeClientStreamRequest(path, identity, identity, md, options, (err) => (err ? onError(err) : finish(0)));
      call.write(payload);
      call.end();
    } else {
      const call =
        kind === 'server_streaming' ? client.makeServerStreamRequest(path, identity, identity, payload, md, options) : client.makeBidiStreamRequest(path, identity, identity, md, options);
      if (kind === 'bidi_streaming') {
        (call as grpc.ClientDuplexStream<Buffer, Buffer>).write(payload);
        (call as grpc.ClientDuplexStream<Buffer, Buffer>).end();
      }
      call.on('data', () => {
        messages++;
        // A live stream (a feed, a watch) answered: that is all we need to know.
        if (kind === 'server_streaming') {
          finish(0);
          call.cancel();
        }
      });
      call.on('error', (err: grpc.ServiceError) => onError(err));
      call.on('status', (st: grpc.StatusObject) => finish(st.code, st.metadata));
    }
  });
}
