// Test-only: a hand-written HTTP/2 client over a plain socket, for clients that break the
// rules a real HTTP/2 stack would follow (ignoring the server's stream limit). It writes
// frames itself and records the control frames it receives.
import net from 'node:net';

const FRAME_DATA = 0x0;
const FRAME_HEADERS = 0x1;
const FRAME_RST_STREAM = 0x3;
const FRAME_SETTINGS = 0x4;
const FRAME_GOAWAY = 0x7;
const FLAG_END_STREAM = 0x1;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;

/** HTTP/2 error codes the tests look for (RFC 9113 §7). */
export const H2_REFUSED_STREAM = 0x7;

/** What the server sent, in order. */
export type RawEvent =
  | { readonly kind: 'settings'; readonly ack: boolean; readonly maxConcurrentStreams?: number }
  | { readonly kind: 'headers'; readonly stream: number }
  | { readonly kind: 'rst'; readonly stream: number; readonly code: number }
  | { readonly kind: 'goaway'; readonly lastStream: number; readonly code: number }
  | { readonly kind: 'closed' };

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK "literal header field without indexing, new name" (short names and values only). */
function literal(name: string, value: string): Buffer {
  if (name.length > 126 || value.length > 126) throw new TypeError('raw-h2: header too long for this encoder');
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

/** A raw HTTP/2 connection. */
export interface RawH2 {
  readonly events: RawEvent[];
  /** Opens a gRPC call to `path` (stream ids 1, 3, 5, …); `message` is sent and the stream half-closed unless null. */
  call(path: string, message: Buffer | null): number;
  /** Resolves once `pred` holds for the events so far (polling), or rejects after `timeoutMs`. */
  until(pred: (events: readonly RawEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * Connects and sends the preface and an empty SETTINGS frame. With `ackSettings` the
 * server's SETTINGS are acknowledged (as RFC 9113 requires); without, they never are.
 */
export async function rawH2(host: string, port: number, options: { ackSettings: boolean }): Promise<RawH2> {
  const sock = net.connect(port, host);
  sock.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const events: RawEvent[] = [];
  let pending = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const len = pending.readUIntBE(0, 3);
      if (pending.length < 9 + len) break;
      const [type, flags] = [pending[3]!, pending[4]!];
      const stream = pending.readUInt32BE(5) & 0x7fffffff;
      const p = pending.subarray(9, 9 + len);
      pending = pending.subarray(9 + len);
      if (type === FRAME_SETTINGS) {
        const ack = (flags & FLAG_ACK) !== 0;
        let maxConcurrentStreams: number | undefined;
        for (let i = 0; i + 6 <= p.length; i += 6) if (p.readUInt16BE(i) === 0x3) maxConcurrentStreams = p.readUInt32BE(i + 2);
        events.push(maxConcurrentStreams === undefined ? { kind: 'settings', ack } : { kind: 'settings', ack, maxConcurrentStreams });
        if (!ack && options.ackSettings) sock.write(frame(FRAME_SETTINGS, FLAG_ACK, 0, Buffer.alloc(0)));
      } else if (type === FRAME_HEADERS) events.push({ kind: 'headers', stream });
      else if (type === FRAME_RST_STREAM) events.push({ kind: 'rst', stream, code: p.readUInt32BE(0) });
      else if (type === FRAME_GOAWAY) events.push({ kind: 'goaway', lastStream: p.readUInt32BE(0) & 0x7fffffff, code: p.readUInt32BE(4) });
    }
  });
  sock.on('close', () => events.push({ kind: 'closed' }));
  sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  sock.write(frame(FRAME_SETTINGS, 0, 0, Buffer.alloc(0)));

  let nextStream = 1;
  const raw: RawH2 = {
    events,
    call(path, message) {
      const id = nextStream;
      nextStream += 2;
      const block = Buffer.concat([
        literal(':method', 'POST'),
        literal(':scheme', 'http'),
        literal(':path', path),
        literal(':authority', `${host}:${port}`),
        literal('content-type', 'application/grpc'),
        literal('te', 'trailers'),
      ]);
      sock.write(frame(FRAME_HEADERS, FLAG_END_HEADERS, id, block));
      if (message) {
        const body = Buffer.alloc(5 + message.length);
        body.writeUInt32BE(message.length, 1);
        message.copy(body, 5);
        sock.write(frame(FRAME_DATA, FLAG_END_STREAM, id, body));
      }
      return id;
    },
    async until(pred, timeoutMs = 5_000) {
      const end = Date.now() + timeoutMs;
      while (!pred(events)) {
        if (Date.now() > end) throw new Error(`raw-h2: condition not met; events: ${JSON.stringify(events.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close() {
      sock.destroy();
    },
  };
  return raw;
}
