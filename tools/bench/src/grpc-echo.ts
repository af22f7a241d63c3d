/**
 * The reference for every gRPC figure: a bare grpc-js unary echo (raw grpc-js, no Baton
 * adapter, no protobuf: bytes in, the same bytes out) on 127.0.0.1, port 0.
 */
import * as grpc from '@grpc/grpc-js';

const PATH = '/bench.Echo/Echo';
const identity = (b: Buffer): Buffer => b;

/** A running echo server and one client channel to it. */
export interface GrpcEcho {
  /** One round trip carrying `payload` both ways. */
  call(payload: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

/** Starts the echo server and connects a client (first call made, so the channel is ready). */
export async function startGrpcEcho(): Promise<GrpcEcho> {
  const server = new grpc.Server();
  const definition: grpc.ServiceDefinition = {
    echo: {
      path: PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  server.addService(definition, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (payload: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(PATH, identity, identity, payload, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  await call(Buffer.alloc(1));
  return {
    call,
    async close() {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
