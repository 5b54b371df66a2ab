// connectUpstream: an adapter's frames are checked before the engine sees them, publish puts
// the idempotency key where the adapter says, and call errors reach the adapter's `resets`.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  EventBatchSchema,
  EventSchema,
  PublishResponseSchema,
  StreamService,
  SubscribeResponseSchema,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";
import type { CallOptions, Frame } from "../engine/types";
import { defineAdapter, type FrameOf } from "./adapter";
import { connectUpstream, type Rpc } from "./upstream";

const opts = (): CallOptions & { historyOnly: boolean } => ({ signal: new AbortController().signal, headers: {}, historyOnly: false });

/** An Rpc whose stream yields `responses` and whose unary records what it was asked. */
function fakeRpc(responses: SubscribeResponse[], seen: { input?: unknown; headers?: Record<string, string> } = {}): Rpc {
  return {
    serverStream: () =>
      (async function* () {
        for (const r of responses) yield r;
      })() as never,
    unary: async (_m, input, o) => {
      seen.input = input;
      seen.headers = o.headers;
      return create(PublishResponseSchema, { cursor: 9n }) as never;
    },
  };
}

const batch = (...cursors: bigint[]): SubscribeResponse =>
  create(SubscribeResponseSchema, {
    frame: { case: "events", value: create(EventBatchSchema, { events: cursors.map((cursor) => create(EventSchema, { topic: "a", cursor })) }) },
  });

async function frames(up: ReturnType<typeof connectUpstream>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const fr of up.open([{ topic: "a" }], opts())) out.push(fr);
  return out;
}

describe("connectUpstream", () => {
  it("drops events whose cursor is not of the adapter's kind, with one warning", async () => {
    const warnings: string[] = [];
    const adapter = defineAdapter({
      method: StreamService.method.subscribe,
      cursor: "opaque",
      request: () => ({}),
      read: (res) =>
        res.frame.case === "events"
          ? { kind: "events", events: res.frame.value.events.map((e) => ({ topic: e.topic, cursor: e.cursor === 2n ? "t2" : (e.cursor as never), payload: e.payload })) }
          : undefined,
    });
    const out = await frames(connectUpstream(adapter, fakeRpc([batch(1n, 2n)]), (m) => warnings.push(m)));
    expect(out).toEqual([{ kind: "events", events: [{ topic: "a", cursor: "t2", payload: new Uint8Array() }] }]);
    expect(warnings).toEqual(["onestream: dropped 1 event(s) with a bad topic, cursor or payload"]);
  });

  it("drops a reset with an unknown reason and a progress with a bad topic", async () => {
    const warnings: string[] = [];
    const adapter = defineAdapter({
      method: StreamService.method.subscribe,
      cursor: "ordered",
      request: () => ({}),
      read: (): FrameOf<bigint>[] => [
        { kind: "reset", topic: "a", reason: "nonsense" as never, resumeAfter: 1n },
        { kind: "progress", topic: "", cursor: 1n },
        { kind: "heartbeat" },
      ],
    });
    const out = await frames(connectUpstream(adapter, fakeRpc([batch(1n)]), (m) => warnings.push(m)));
    expect(out).toEqual([{ kind: "heartbeat" }]);
    expect(warnings).toHaveLength(2);
  });

  it("a response the adapter reads into nothing still counts as a sign of life (a heartbeat)", async () => {
    const adapter = defineAdapter({
      method: StreamService.method.subscribe,
      cursor: "ordered",
      request: () => ({}),
      read: () => undefined, // e.g. Firestore's ADD, a keep-alive the adapter does not name
    });
    expect(await frames(connectUpstream(adapter, fakeRpc([batch(1n), batch(2n)])))).toEqual([{ kind: "heartbeat" }, { kind: "heartbeat" }]);
  });

  it("counts responses for the adapter: `received` is 0 while the first is read", async () => {
    const seen: number[] = [];
    const adapter = defineAdapter({
      method: StreamService.method.subscribe,
      cursor: "ordered",
      request: () => ({}),
      read: (_r, call) => {
        seen.push(call.received);
        return undefined;
      },
    });
    await frames(connectUpstream(adapter, fakeRpc([batch(1n), batch(2n), batch(3n)])));
    expect(seen).toEqual([0, 1, 2]);
  });

  it("publish: the key goes in the request field and in the named header", async () => {
    const seen: { input?: unknown; headers?: Record<string, string> } = {};
    const adapter = defineAdapter({
      method: StreamService.method.subscribe,
      cursor: "ordered",
      request: () => ({}),
      read: () => undefined,
      publish: {
        method: StreamService.method.publish,
        request: ({ topic, payload, key }) => ({ topic, payload, idempotencyKey: key }),
        keyHeader: "idempotency-key",
        cursor: (res) => res.cursor,
      },
    });
    const up = connectUpstream(adapter, fakeRpc([], seen));
    const r = await up.publish!({ topic: "a", payload: new Uint8Array([1]), key: "k1" }, { signal: new AbortController().signal, headers: { authorization: "Bearer x" } });
    expect(r).toEqual({ cursor: 9n });
    expect(seen.input).toMatchObject({ topic: "a", idempotencyKey: "k1" });
    expect(seen.headers).toEqual({ authorization: "Bearer x", "idempotency-key": "k1" });
  });

  it("resetsFor hands the adapter a ConnectError and checks what it returns", async () => {
    const adapter = defineAdapter({
      method: StreamService.method.subscribe,
      cursor: "ordered",
      request: () => ({}),
      read: () => undefined,
      resets: (err, call) => (err.code === Code.OutOfRange ? call.topics.map((t) => ({ kind: "reset" as const, topic: t.topic, reason: "retention" as const, resumeAfter: 7n })) : undefined),
    });
    const up = connectUpstream(adapter, fakeRpc([]));
    expect(up.resetsFor!(new ConnectError("too old", Code.OutOfRange), [{ topic: "a", after: 1n }])).toEqual([
      { kind: "reset", topic: "a", reason: "retention", resumeAfter: 7n },
    ]);
    expect(up.resetsFor!(new Error("network"), [{ topic: "a" }])).toBeUndefined();
  });

  it("the compiler holds an adapter to its cursor kind (tsc checks the expect-error)", () => {
    const adapter = defineAdapter({
      method: StreamService.method.subscribe,
      cursor: "opaque",
      request: ([t]) => {
        const after: string | undefined = t?.after; // not bigint | string
        return { topics: after === undefined ? [] : [{ topic: t!.topic }] };
      },
      // @ts-expect-error: a bigint cursor from an opaque adapter
      read: () => ({ kind: "progress", topic: "a", cursor: 1n }),
    });
    expect(adapter.cursor).toBe("opaque");
  });

  it("refuses an adapter with no cursor kind", () => {
    expect(() => connectUpstream({ ...defineAdapter({ method: StreamService.method.subscribe, cursor: "ordered", request: () => ({}), read: () => undefined }), cursor: "sorted" as never }, fakeRpc([]))).toThrow(
      /cursor must be/,
    );
  });
});
