// The listendemo.v1 server: Listen and Write over gRPC-Web (connect-node, HTTP/1.1, CORS), the
// simplest way to serve a protocol to browsers. Listen answers ADD at once (connect-node holds
// the response headers until the first message), then per target: RESET when its token is
// unknown, the changes after the token, CURRENT with where the target is; then live changes, and
// a NO_CHANGE keep-alive whenever nothing was sent for `keepAliveMs`.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { cors, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  ListenResponseSchema,
  ListenService,
  TargetChange_TargetChangeType as Type,
  type ListenRequest,
  type ListenResponse,
} from "../../proto/gen/listendemo/v1/listen_pb";
import { ListenStore, type Change } from "./listen-store";

export interface ListenServerOptions {
  /** NO_CHANGE keep-alive after this much silence (ms). */
  keepAliveMs?: number;
}

export interface ListenServer {
  url: string;
  store: ListenStore;
  /** Listen calls open now / ever accepted. */
  stats(): { activeListens: number; totalListens: number };
  close(): Promise<void>;
}

type Out = MessageInitShape<typeof ListenResponseSchema>;

const ALLOWED_HEADERS = [...cors.allowedHeaders, "Idempotency-Key"].join(", ");

export async function startListenServer(opts: ListenServerOptions = {}): Promise<ListenServer> {
  const keepAliveMs = opts.keepAliveMs ?? 1_000;
  const store = new ListenStore();
  const counts = { activeListens: 0, totalListens: 0 };

  async function* listen(req: ListenRequest, ctx: HandlerContext): AsyncGenerator<ListenResponse> {
    counts.activeListens++;
    counts.totalListens++;
    const targets = new Set(req.targets.map((t) => t.targetId));
    const live: Change[] = [];
    let wake: (() => void) | undefined;
    const unlisten = store.onWrite((c) => {
      if (!targets.has(c.target)) return;
      live.push(c);
      wake?.();
    });
    const onAbort = () => wake?.();
    ctx.signal.addEventListener("abort", onAbort);
    const change = (c: Change): Out => ({
      responseType: { case: "documentChange", value: { targetId: c.target, data: c.data, commitTimeMs: BigInt(c.commitTimeMs), resumeToken: c.token } },
    });
    const targetChange = (type: Type, targetIds: string[], resumeToken: Uint8Array = new Uint8Array(), cause = ""): Out => ({
      responseType: { case: "targetChange", value: { targetChangeType: type, targetIds, resumeToken, cause } },
    });
    try {
      // Listening above came first, in the same turn: nothing written falls between history and live.
      const out: Out[] = [targetChange(Type.ADD, [...targets])];
      for (const t of req.targets) {
        const fresh = t.resumeToken.length === 0;
        let history = fresh ? [] : store.after(t.targetId, t.resumeToken);
        if (history === undefined) {
          out.push(targetChange(Type.RESET, [t.targetId], store.floor(t.targetId), "resume token unknown or expired"));
          history = store.changes(t.targetId);
        }
        out.push(...history.map(change), targetChange(Type.CURRENT, [t.targetId], store.head(t.targetId)));
      }
      for (const o of out) yield create(ListenResponseSchema, o);
      if (req.targets.length > 0 && req.targets.every((t) => t.once)) return;
      while (!ctx.signal.aborted) {
        if (live.length === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, keepAliveMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
          if (ctx.signal.aborted) return;
          if (live.length === 0) yield create(ListenResponseSchema, targetChange(Type.NO_CHANGE_UNSPECIFIED, []));
        }
        for (const c of live.splice(0)) yield create(ListenResponseSchema, change(c));
      }
    } finally {
      unlisten();
      ctx.signal.removeEventListener("abort", onAbort);
      counts.activeListens--;
    }
  }

  const rpc = connectNodeAdapter({
    grpcWeb: true,
    connect: false,
    grpc: false,
    routes: (router) =>
      router.service(ListenService, {
        listen,
        write: (req, ctx) => ({ resumeToken: store.write(req.targetId, req.data, ctx.requestHeader.get("idempotency-key") ?? "").token }),
      }),
  });
  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", cors.exposedHeaders.join(", "));
    }
    if (req.method !== "OPTIONS") return rpc(req, res);
    res.writeHead(204, { "access-control-allow-methods": "POST", "access-control-allow-headers": ALLOWED_HEADERS, "access-control-max-age": "7200" });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    stats: () => ({ ...counts }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
