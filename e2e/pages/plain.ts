// The baseline onestream exists to beat: each tab opens its own gRPC-Web stream. With HTTP/1.1's
// six connections per host shared by all tabs, the seventh tab's fetch never starts (FIELD-NOTES).
// Query: ?server=URL&topics=a,b. Records progress on window.__plain for the e2e spec.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { StreamService } from "../../proto/gen/onestream/v1/stream_pb";

interface PlainRecording {
  /** The server's Hello arrived: the stream is open. */
  hello: boolean;
  events: number;
  error?: string;
}

declare global {
  interface Window {
    __plain: PlainRecording;
  }
}

const rec: PlainRecording = { hello: false, events: 0 };
window.__plain = rec;
const q = new URLSearchParams(location.search);
const server = q.get("server") ?? "";
const topics = (q.get("topics") ?? "").split(",").filter((t) => t !== "");
const out = document.getElementById("out");

const client = createClient(StreamService, createGrpcWebTransport({ baseUrl: server, useBinaryFormat: true }));

async function run(): Promise<void> {
  for await (const res of client.subscribe({ topics: topics.map((topic) => ({ topic })) })) {
    if (res.frame.case === "hello") rec.hello = true;
    if (res.frame.case === "events") rec.events += res.frame.value.events.length;
    if (out) out.textContent = JSON.stringify(rec);
  }
}

run().catch((e: unknown) => {
  rec.error = String(e);
  if (out) out.textContent = JSON.stringify(rec);
});
