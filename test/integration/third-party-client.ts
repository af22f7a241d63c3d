/**
 * A Baton client written the way a third party writes one in any language: the contracts
 * loaded from `proto/` at run time with @grpc/proto-loader (no generated code), Ed25519
 * from node:crypto, and every proof assembled by hand from the documented formats
 * (docs/integration.md). Nothing here imports a Baton package.
 */
import crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

/** The protobuf runtime proto-loader itself is built on, for messages outside any RPC. */
interface ProtobufType {
  decode(bytes: Uint8Array): unknown;
}
interface ProtobufRoot {
  resolvePath: (origin: string, target: string) => string;
  loadSync(files: string[], options: { keepCase: boolean }): ProtobufRoot;
  lookupType(name: string): ProtobufType;
}
const protobufjs = createRequire(require.resolve('@grpc/proto-loader'))('protobufjs') as { Root: new () => ProtobufRoot };

export const b64u = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
export const sha256 = (data: Buffer | string): Buffer => crypto.createHash('sha256').update(data).digest();
export const sha256B64u = (data: Buffer | string): string => b64u(sha256(data));

/** RFC 8785-style canonical JSON for the plain values Baton signs and hashes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** An Ed25519 key as Baton's wire formats use it. */
export interface Ed25519Key {
  readonly privateKey: KeyObject;
  /** JWK `x`: base64url of the 32 raw public-key bytes. */
  readonly x: string;
  readonly raw: Buffer;
  /** RFC 7638 thumbprint (what `cnf.jkt` and a hop's `kid` carry). */
  readonly jkt: string;
}

/** RFC 7638 thumbprint of an Ed25519 key: SHA-256 over its required members in lexical order. */
export function thumbprintOf(x: string): string {
  return sha256B64u(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`);
}

export function newKey(): Ed25519Key {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x!;
  return { privateKey, x, raw: Buffer.from(x, 'base64url'), jkt: thumbprintOf(x) };
}

/** A compact JWS signed with Ed25519 (`alg: EdDSA`). */
export function signJws(header: object, payload: object, key: KeyObject): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(crypto.sign(null, Buffer.from(input, 'ascii'), key))}`;
}

/** The claims of a compact JWS, unverified (for reading one's own token). */
export function claimsOf(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Baton's one proof format: `typ: dpop+jwt`, the caller's public JWK, bound to one call. */
function proof(key: Ed25519Key, methodPath: string, binding: { ath: string } | { rh: string }): string {
  return signJws(
    { alg: 'EdDSA', typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: key.x } },
    { jti: b64u(crypto.randomBytes(16)), htm: 'POST', htu: methodPath, iat: Math.floor(Date.now() / 1000), ...binding },
    key.privateKey,
  );
}

/** Builds the metadata of one call from its method path and the exact request bytes sent. */
export type Auth = (methodPath: string, requestBytes: Buffer) => Record<string, string>;

/** Operators, orchestrators: `baton-proof` with `rh` = SHA-256 of the request bytes. */
export const keyProof =
  (key: Ed25519Key): Auth =>
  (methodPath, requestBytes) => ({ 'baton-proof': proof(key, methodPath, { rh: sha256B64u(requestBytes) }) });

/** Agents: `authorization: DPoP <token>` and `dpop` with `ath` = SHA-256 of the token. */
export const dpop =
  (key: Ed25519Key, token: string): Auth =>
  (methodPath) => ({ authorization: `DPoP ${token}`, dpop: proof(key, methodPath, { ath: sha256B64u(token) }) });

/** The `baton.type.v1.Problem` a failed call carries in `grpc-status-details-bin`. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly trace_id: string;
}

/** A failed call: the gRPC status and the decoded problem. */
export class CallFailed extends Error {
  constructor(
    readonly grpcCode: number,
    readonly problem: Problem | undefined,
    readonly trailerCode: string | undefined,
  ) {
    super(`gRPC status ${grpcCode} (${problem?.code ?? trailerCode ?? 'no Baton code'})`);
  }
}

const PROTO_FILES = [
  'baton/identity/v1/identity.proto',
  'baton/issuer/v1/issuer.proto',
  'baton/delegation/v1/delegation.proto',
  'baton/audit/v1/audit.proto',
];

/** A client for any Baton RPC, from the `.proto` files alone. */
export class ThirdPartyClient {
  readonly #services: grpc.GrpcObject | protoLoader.PackageDefinition;
  readonly #client: grpc.Client;
  readonly #status: ProtobufType;
  readonly #problem: ProtobufType;

  constructor(address: string, protoDir: string) {
    // Strings for 64-bit integers and enums, snake_case field names, defaults filled in.
    this.#services = protoLoader.loadSync(PROTO_FILES, { includeDirs: [protoDir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const root = new protobufjs.Root();
    // google/protobuf/*.proto are built into protobufjs; Baton's own files come from proto/.
    root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : `${protoDir}/${target}`);
    root.loadSync(['google/rpc/status.proto', 'baton/type/v1/problem.proto'], { keepCase: true });
    this.#status = root.lookupType('google.rpc.Status');
    this.#problem = root.lookupType('baton.type.v1.Problem');
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** The method definition proto-loader built: path and (de)serializers. */
  method(service: string, method: string): grpc.MethodDefinition<object, object> {
    const def = (this.#services as Record<string, Record<string, grpc.MethodDefinition<object, object>>>)[service]?.[method];
    if (!def) throw new TypeError(`no method ${service}/${method} in proto/`);
    return def;
  }

  /**
   * Serializes `request` once with the loaded type, lets `auth` sign those bytes, and sends
   * exactly them: the server checks `rh` against the bytes it received.
   */
  call<T>(service: string, method: string, request: object, auth?: Auth): Promise<T> {
    const def = this.method(service, method);
    const bytes = def.requestSerialize(request);
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(auth?.(def.path, bytes) ?? {})) metadata.set(k, v);
    return new Promise<T>((resolve, reject) => {
      this.#client.makeUnaryRequest(
        def.path,
        (b: Buffer) => b,
        def.responseDeserialize,
        bytes,
        metadata,
        { deadline: Date.now() + 15_000 },
        (err, res) => (err ? reject(this.#failure(err)) : resolve(res as T)),
      );
    });
  }

  /** Decodes `grpc-status-details-bin`: a google.rpc.Status whose detail is a Problem. */
  #failure(err: grpc.ServiceError): CallFailed {
    const raw = err.metadata?.get('grpc-status-details-bin')[0];
    const trailer = err.metadata?.get('baton-error-code')[0];
    let problem: Problem | undefined;
    if (Buffer.isBuffer(raw)) {
      const status = this.#status.decode(raw) as { details: { type_url: string; value: Uint8Array }[] };
      const any = status.details.find((d) => d.type_url === 'type.googleapis.com/baton.type.v1.Problem');
      if (any) problem = this.#problem.decode(any.value) as Problem;
    }
    return new CallFailed(err.code, problem, typeof trailer === 'string' ? trailer : undefined);
  }

  close(): void {
    this.#client.close();
  }
}
