/**
 * An in-process IssuerService on port 0 whose WatchRevocations streams are scripted by
 * the test (real generated types, real adapter, real sockets). GetKeys and Introspect
 * answer from test-provided functions.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient, createServer, type BatonServer, type CallContext, type Client, type ServiceImpl } from '@baton/proto';
import {
  IssuerService,
  RevocationLevel,
  RevocationReason,
  type GetKeysResponseSchema,
  type IntrospectResponseSchema,
  type RevocationEntrySchema,
  type WatchRevocationsResponseSchema,
} from '@baton/proto/baton/issuer/v1/issuer_pb.js';

export { RevocationLevel, RevocationReason };

type Event = MessageInitShape<typeof WatchRevocationsResponseSchema>['event'];
type Item = { kind: 'event'; event: Event } | { kind: 'end' } | { kind: 'fail'; err: unknown };
export type EntryInit = MessageInitShape<typeof RevocationEntrySchema>;

/** One WatchRevocations call, driven by the test. */
export class StubConnection {
  readonly #queue: Item[] = [];
  #wake: (() => void) | undefined;
  cancelled = false;

  constructor(
    readonly from: bigint,
    signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => {
      this.cancelled = true;
      this.#wake?.();
    });
  }

  #push(item: Item): void {
    this.#queue.push(item);
    this.#wake?.();
  }

  send(event: Event): void {
    this.#push({ kind: 'event', event });
  }
  entry(e: EntryInit): void {
    this.send({ case: 'entry', value: e });
  }
  keepAlive(sequence: bigint): void {
    this.send({ case: 'keepAlive', value: { sequence, serverTime: BigInt(Math.floor(Date.now() / 1000)) } });
  }
  /** snapshot_begin, the entries, snapshot_end. */
  snapshot(entries: EntryInit[], sequence: bigint, reset = false): void {
    this.send({ case: 'snapshotBegin', value: { reset, sequence } });
    for (const e of entries) this.entry(e);
    this.send({ case: 'snapshotEnd', value: { reset, sequence } });
  }
  /** Ends the stream normally (server-side disconnect). */
  end(): void {
    this.#push({ kind: 'end' });
  }
  /** Fails the stream with an error. */
  fail(err: unknown): void {
    this.#push({ kind: 'fail', err });
  }

  async next(): Promise<Item> {
    for (;;) {
      if (this.cancelled) return { kind: 'end' };
      const item = this.#queue.shift();
      if (item !== undefined) return item;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}

export interface IssuerStub {
  readonly client: Client<typeof IssuerService>;
  readonly port: number;
  readonly connections: StubConnection[];
  /** Resolves with the next WatchRevocations call (or one already waiting to be taken). */
  nextConnection(): Promise<StubConnection>;
  close(): Promise<void>;
}

export interface IssuerStubOptions {
  getKeys?: () => MessageInitShape<typeof GetKeysResponseSchema> | Promise<MessageInitShape<typeof GetKeysResponseSchema>>;
  introspect?: (token: string) => MessageInitShape<typeof IntrospectResponseSchema> | Promise<MessageInitShape<typeof IntrospectResponseSchema>>;
}

export async function startIssuerStub(options: IssuerStubOptions = {}): Promise<IssuerStub> {
  const connections: StubConnection[] = [];
  let taken = 0;
  const waiters: (() => void)[] = [];
  const impl: Partial<ServiceImpl<typeof IssuerService>> = {
    async *watchRevocations(req, ctx: CallContext) {
      const conn = new StubConnection(req.fromSequence, ctx.signal);
      connections.push(conn);
      waiters.splice(0).forEach((w) => w());
      for (;;) {
        const item = await conn.next();
        if (item.kind === 'end') return;
        if (item.kind === 'fail') throw item.err;
        yield { event: item.event };
      }
    },
    async getKeys() {
      if (!options.getKeys) throw new Error('getKeys not scripted');
      return options.getKeys();
    },
    async introspect(req) {
      if (!options.introspect) throw new Error('introspect not scripted');
      return options.introspect(req.token);
    },
  };
  const server: BatonServer = createServer({ tracing: false });
  server.addService(IssuerService, impl as ServiceImpl<typeof IssuerService>);
  const port = await server.listen('127.0.0.1:0');
  const client = createClient(IssuerService, `127.0.0.1:${port}`, { tracing: false });
  return {
    client,
    port,
    connections,
    async nextConnection() {
      while (connections.length <= taken) await new Promise<void>((r) => waiters.push(r));
      return connections[taken++]!;
    },
    async close() {
      client.close();
      await server.shutdown(0);
    },
  };
}

/** A revocation entry init with sensible defaults (live for 5 minutes). */
export function entry(sequence: number, level: RevocationLevel, target: string, over: Partial<EntryInit> = {}): EntryInit {
  const now = BigInt(Math.floor(Date.now() / 1000));
  return {
    sequence: BigInt(sequence),
    level,
    target,
    reason: RevocationReason.MANUAL,
    createdAt: now,
    expiresAt: now + 300n,
    notAfterIat: 0n,
    ...over,
  } as EntryInit;
}
