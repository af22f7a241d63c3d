import { toBinary } from '@bufbuild/protobuf';
import type { DescFile, DescService, MessageInitShape } from '@bufbuild/protobuf';
import { nestedTypes } from '@bufbuild/protobuf/reflect';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { GrpcStatus } from '@baton/core';
import type {
  ServerReflection,
  ServerReflectionRequest,
  ServerReflectionResponseSchema,
} from './gen/grpc/reflection/v1/reflection_pb.js';
import type { ServiceImpl } from './handler-types.js';

type Response = MessageInitShape<typeof ServerReflectionResponseSchema>;

interface Index {
  readonly files: Map<string, DescFile>;
  readonly symbols: Map<string, DescFile>;
}

/**
 * `grpc.reflection.v1.ServerReflection` over the registered services: list_services,
 * file_by_filename and file_containing_symbol answer with serialized FileDescriptorProtos
 * (the file first, then its transitive dependencies), built from the generated descriptors.
 */
export class ReflectionIndex {
  private index: Index | undefined;
  private readonly encoded = new WeakMap<DescFile, Uint8Array>();

  constructor(private readonly services: () => readonly DescService[]) {}

  /** Forget the index after a service was added. */
  invalidate(): void {
    this.index = undefined;
  }

  private build(): Index {
    const files = new Map<string, DescFile>();
    const symbols = new Map<string, DescFile>();
    const addFile = (file: DescFile): void => {
      if (files.has(file.proto.name)) return;
      files.set(file.proto.name, file);
      for (const type of nestedTypes(file)) {
        symbols.set(type.typeName, file);
        if (type.kind === 'service') for (const m of type.methods) symbols.set(`${type.typeName}.${m.name}`, file);
      }
      for (const dep of file.dependencies) addFile(dep);
    };
    for (const s of this.services()) addFile(s.file);
    return { files, symbols };
  }

  private bytesOf(file: DescFile): Uint8Array {
    let b = this.encoded.get(file);
    if (!b) {
      b = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, b);
    }
    return b;
  }

  /** The file and its transitive dependencies, each once, the file first. */
  private closure(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const stack = [file];
    while (stack.length > 0) {
      const f = stack.shift()!;
      if (seen.has(f.proto.name)) continue;
      seen.add(f.proto.name);
      out.push(this.bytesOf(f));
      stack.push(...f.dependencies);
    }
    return out;
  }

  private fileResponse(file: DescFile | undefined, what: string): Response['messageResponse'] {
    if (!file) return { case: 'errorResponse', value: { errorCode: GrpcStatus.NOT_FOUND, errorMessage: `${what} not found` } };
    return { case: 'fileDescriptorResponse', value: { fileDescriptorProto: this.closure(file) } };
  }

  /** Answer one reflection request. */
  respond(req: ServerReflectionRequest): Response {
    const index = (this.index ??= this.build());
    const r = req.messageRequest;
    let messageResponse: Response['messageResponse'];
    switch (r.case) {
      case 'listServices':
        messageResponse = { case: 'listServicesResponse', value: { service: this.services().map((s) => ({ name: s.typeName })) } };
        break;
      case 'fileByFilename':
        messageResponse = this.fileResponse(index.files.get(r.value), 'file');
        break;
      case 'fileContainingSymbol':
        messageResponse = this.fileResponse(index.symbols.get(r.value.replace(/^\./, '')), 'symbol');
        break;
      case 'allExtensionNumbersOfType':
        // Baton's protos declare no extensions: known types have none.
        messageResponse = index.symbols.has(r.value)
          ? { case: 'allExtensionNumbersResponse', value: { baseTypeName: r.value, extensionNumber: [] } }
          : { case: 'errorResponse', value: { errorCode: GrpcStatus.NOT_FOUND, errorMessage: 'type not found' } };
        break;
      case 'fileContainingExtension':
        messageResponse = { case: 'errorResponse', value: { errorCode: GrpcStatus.NOT_FOUND, errorMessage: 'extension not found' } };
        break;
      default:
        messageResponse = { case: 'errorResponse', value: { errorCode: GrpcStatus.INVALID_ARGUMENT, errorMessage: 'empty request' } };
    }
    return { validHost: req.host, originalRequest: req, messageResponse };
  }

  /** The ServerReflection service implementation. */
  impl(): ServiceImpl<typeof ServerReflection> {
    const self = this;
    return {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) yield self.respond(req);
      },
    };
  }
}
