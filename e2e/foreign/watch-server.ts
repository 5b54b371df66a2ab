// The watchdemo.v1 server as most gRPC-Web users deploy theirs: a real gRPC server
// (@grpc/grpc-js, HTTP/2 cleartext on loopback) that knows nothing of browsers, and in front of it
// a translating gRPC-Web proxy (@grpc-web/proxy, HTTP/1.1) that the browser talks to. The proxy
// is what onestream sees; the gRPC server is where upstream streams are counted.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import grpcWebProxy from "@grpc-web/proxy";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  CompactedSchema,
  EventType,
  PutResponseSchema,
  WatchResponseSchema,
  WatchService,
  type PutRequest,
  type PutResponse,
  type WatchRequest,
  type WatchResponse,
} from "../../proto/gen/watchdemo/v1/watch_pb";
import { grpcServiceOf, statusDetailsBin } from "./grpc-js";
import { WatchStore, type KeyEvent } from "./watch-store";

/** Kubernetes' annotation on the bookmark that ends the initial events. */
export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

export interface WatchServerOptions {
  /** BOOKMARK interval on every watch (ms). */
  bookmarkMs?: number;
}

export interface WatchServer {
  /** gRPC-Web, through the proxy: what the browser is given. */
  url: string;
  store: WatchStore;
  /** Watch calls open now / ever accepted, counted at the gRPC server. */
  stats(): { activeWatches: number; totalWatches: number };
  close(): Promise<void>;
}

export async function startWatchServer(opts: WatchServerOptions = {}): Promise<WatchServer> {
  const bookmarkMs = opts.bookmarkMs ?? 1_000;
  const store = new WatchStore();
  const counts = { activeWatches: 0, totalWatches: 0 };

  const watch = (call: grpc.ServerWritableStream<WatchRequest, WatchResponse>): void => {
    const { prefix, sinceRevision } = call.request;
    const replay = sinceRevision === 0n ? [] : store.since(prefix, sinceRevision);
    if (replay === undefined) {
      const message = `required revision ${sinceRevision} has been compacted (compact revision ${store.compactRevision})`;
      const metadata = new grpc.Metadata();
      metadata.set("grpc-status-details-bin", statusDetailsBin(grpc.status.OUT_OF_RANGE, message, CompactedSchema, { compactRevision: store.compactRevision }));
      call.emit("error", { code: grpc.status.OUT_OF_RANGE, details: message, metadata });
      return;
    }
    counts.activeWatches++;
    counts.totalWatches++;
    const send = (r: MessageInitShape<typeof WatchResponseSchema>) => call.write(create(WatchResponseSchema, r));
    const sendPut = (e: KeyEvent) => send({ type: EventType.PUT, revision: e.revision, key: e.key, value: e.value });
    const bookmark = (annotations: Record<string, string> = {}) => send({ type: EventType.BOOKMARK, revision: store.revision, annotations });
    for (const e of replay) sendPut(e);
    bookmark({ [INITIAL_EVENTS_END]: "true" });
    const unwatch = store.watch({ prefix, onPut: sendPut });
    const timer = setInterval(bookmark, bookmarkMs);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      unwatch();
      clearInterval(timer);
      counts.activeWatches--;
    };
    call.on("cancelled", end);
    call.on("close", end);
    call.on("error", end);
  };

  const put = (call: grpc.ServerUnaryCall<PutRequest, PutResponse>, done: grpc.sendUnaryData<PutResponse>): void => {
    const { key, value, requestId } = call.request;
    done(null, create(PutResponseSchema, { revision: store.put(key, value, requestId).revision }));
  };

  const server = new grpc.Server();
  server.addService(grpcServiceOf(WatchService), { watch, put });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  const grpcAddress = `127.0.0.1:${grpcPort}`;

  const app = grpcWebProxy({
    // @grpc-web/proxy 0.1.0 opens one HTTP/2 session per request and, when the browser goes
    // away, only close()s it: a graceful close that lets the open Watch run on at the gRPC
    // server forever (measured: still active 6 s after the abort). Its `target` factory is the
    // seam to fix that: close() destroys the session, which cancels the call (RST_STREAM).
    target: () => {
      const session = http2.connect(`http://${grpcAddress}`);
      session.close = () => session.destroy();
      return session;
    },
    origin: "*",
    // Trailers-only errors carry their details in response headers: expose them to the page.
    headers: ["grpc-status-details-bin"],
  });
  // The proxy copies request headers onto HTTP/2, where `transfer-encoding` is illegal: a chunked
  // request (Node clients send them; browsers do not) throws inside it and kills the process.
  const web = http.createServer((req, res) => {
    delete req.headers["transfer-encoding"];
    app(req, res);
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));

  return {
    url: `http://127.0.0.1:${(web.address() as AddressInfo).port}`,
    store,
    stats: () => ({ ...counts }),
    async close() {
      web.closeAllConnections();
      await new Promise<void>((r) => web.close(() => r()));
      server.forceShutdown();
    },
  };
}
