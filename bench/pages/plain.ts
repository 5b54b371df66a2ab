// The baseline: what an app does without onestream — each tab opens its own connect-web
// gRPC-Web Subscribe straight to the server (and so competes for the 6 HTTP/1.1 connections).
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { StreamService } from "../../proto/gen/onestream/v1/stream_pb";
import type { BenchPageApi } from "./api";
import { Recorder } from "./recorder";

const recorder = new Recorder();
let hello = false;
let error: string | undefined;

/** Reads the stream until it ends; closing the tab (its context) ends it, as for a real tab. */
async function consume(serverUrl: string, topics: string[]): Promise<void> {
  const client = createClient(StreamService, createGrpcWebTransport({ baseUrl: serverUrl, useBinaryFormat: true }));
  try {
    for await (const res of client.subscribe({ topics: topics.map((topic) => ({ topic })) })) {
      const frame = res.frame;
      if (frame.case === "hello") hello = true;
      else if (frame.case === "events") {
        const events = frame.value.events;
        recorder.batch(events.length, (i) => Number(events[i]!.publishedAtMs));
      }
    }
  } catch (e) {
    error = String(e);
  }
}

const api: BenchPageApi = {
  async start({ serverUrl, topics, keepLatencies }) {
    recorder.keepLatencies = keepLatencies;
    void consume(serverUrl, topics);
  },
  snapshot: () => recorder.snapshot(hello, error),
  latencies: () => recorder.samples,
};
(window as unknown as { bench: BenchPageApi }).bench = api;
