// onestream over a Firestore-style listen (listendemo.v1): the topic is a target, the cursor its
// opaque resume token. The README's "Your own stream" shows this file as it is.
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";
import { defineAdapter } from "onestream/worker";
import { ListenService, TargetChange_TargetChangeType as Change } from "../../proto/gen/listendemo/v1/listen_pb";

/** Tokens travel as bytes and are kept as strings, compared for equality only. */
const token = (bytes: Uint8Array): string | undefined => (bytes.length > 0 ? base64Encode(bytes) : undefined);

export const listenAdapter = defineAdapter({
  method: ListenService.method.listen,
  cursor: "opaque",
  historyOnly: true, // a call whose targets are all `once` ends after their history
  request: (topics, call) => ({
    targets: topics.map(({ topic, after }) => ({ targetId: topic, resumeToken: base64Decode(after ?? ""), once: call.historyOnly })),
  }),
  read: ({ responseType: r }) => {
    if (r.case === "documentChange") {
      const { targetId: topic, data: payload, resumeToken, commitTimeMs } = r.value;
      return { kind: "events", events: [{ topic, cursor: token(resumeToken)!, payload, publishedAt: Number(commitTimeMs) }] };
    }
    if (r.case !== "targetChange") return undefined;
    const { targetChangeType: type, targetIds, resumeToken } = r.value;
    const at = token(resumeToken);
    if (type === Change.NO_CHANGE_UNSPECIFIED && targetIds.length === 0) return { kind: "heartbeat" };
    if (type === Change.RESET) return targetIds.map((topic) => ({ kind: "reset", topic, reason: "retention", resumeAfter: at }));
    if (type !== Change.CURRENT) return undefined; // ADD
    // CURRENT says where each target is now (an anchor for "live from now"), then: live.
    const progress = at === undefined ? [] : targetIds.map((topic) => ({ kind: "progress", topic, cursor: at }) as const);
    return [...progress, { kind: "caught-up", topics: targetIds }];
  },
  publish: {
    method: ListenService.method.write,
    keyHeader: "idempotency-key", // key in a header
    request: ({ topic, payload }) => ({ targetId: topic, data: payload }),
    cursor: (r) => token(r.resumeToken),
  },
});
