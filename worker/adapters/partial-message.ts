// Reads what can be read of a protobuf message cut short: the first bytes of a message that was
// over the read limit (worker/host/read-limit.ts). Complete fields are kept as they are; a
// nested message cut in the middle keeps its own complete fields; a cut scalar, string or bytes
// field is dropped. The result is a valid encoding of the message's complete prefix, so the
// adapter's own `read` can tell which topic and cursor the oversized event was.
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** Nesting this deep is not a real message: stop there. */
const MAX_DEPTH = 32;

export function decodePrefix<D extends DescMessage>(desc: D, bytes: Uint8Array): MessageShape<D> {
  return fromBinary(desc, completePrefix(desc, bytes, 0));
}

function completePrefix(desc: DescMessage, bytes: Uint8Array, depth: number): Uint8Array {
  const reader = new BinaryReader(bytes);
  const writer = new BinaryWriter();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    try {
      const [fieldNo, wireType] = reader.tag();
      if (wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, fieldNo);
        writer.raw(bytes.subarray(start, reader.pos));
        continue;
      }
      const length = reader.uint32();
      const body = reader.pos;
      if (body + length <= reader.len) {
        reader.pos = body + length;
        writer.raw(bytes.subarray(start, reader.pos));
        continue;
      }
      // Cut inside this field: keep what of it is complete if it is a message, then stop.
      const nested = messageOf(desc, fieldNo);
      if (nested !== undefined && depth < MAX_DEPTH) writer.tag(fieldNo, WireType.LengthDelimited).bytes(completePrefix(nested, bytes.subarray(body), depth + 1));
      break;
    } catch {
      break; // a tag, length or scalar cut in the middle
    }
  }
  return writer.finish();
}

function messageOf(desc: DescMessage, fieldNo: number): DescMessage | undefined {
  const field = desc.fields.find((f) => f.number === fieldNo);
  if (field === undefined) return undefined;
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  return undefined;
}
