// What a @grpc/grpc-js server needs from protobuf-es generated code, without @grpc/proto-loader:
// a service definition whose (de)serializers are toBinary/fromBinary, and the
// `grpc-status-details-bin` trailer of gRPC's rich error model (a google.rpc.Status carrying
// typed details), which grpc-js leaves to the application.
import { fromBinary, toBinary, create, type DescMessage, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

export function grpcServiceOf(service: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: (msg) => Buffer.from(toBinary(m.input, msg as never)),
      requestDeserialize: (bytes) => fromBinary(m.input, bytes),
      responseSerialize: (msg) => Buffer.from(toBinary(m.output, msg as never)),
      responseDeserialize: (bytes) => fromBinary(m.output, bytes),
    };
  }
  return def;
}

/** A serialized google.rpc.Status { code, message, details: [Any(detail)] }. */
export function statusDetailsBin<D extends DescMessage>(code: number, message: string, desc: D, detail: MessageInitShape<D>): Buffer {
  const any = new BinaryWriter()
    .tag(1, WireType.LengthDelimited)
    .string(`type.googleapis.com/${desc.typeName}`)
    .tag(2, WireType.LengthDelimited)
    .bytes(toBinary(desc, create(desc, detail)))
    .finish();
  const status = new BinaryWriter()
    .tag(1, WireType.Varint)
    .int32(code)
    .tag(2, WireType.LengthDelimited)
    .string(message)
    .tag(3, WireType.LengthDelimited)
    .bytes(any)
    .finish();
  return Buffer.from(status);
}
