// onestream over a Kubernetes/etcd-style watch (watchdemo.v1): the topic is a key prefix, the
// cursor the revision. The README's "Your own stream" shows this file as it is.
import { defineAdapter } from "onestream/worker";
import { CompactedSchema, EventType, WatchService } from "../../proto/gen/watchdemo/v1/watch_pb";

export const watchAdapter = defineAdapter({
  method: WatchService.method.watch,
  cursor: "ordered", // revisions grow: a replayed event is recognised by comparison
  maxTopics: 1, // one prefix per Watch call
  heartbeatMs: 1_000, // our server's BOOKMARK interval (the protocol does not announce it)
  request: ([t]) => ({ prefix: t!.topic, sinceRevision: t!.after ?? 0n }),
  read: (r, call) => {
    const topic = call.topics[0]!.topic;
    if (r.type === EventType.PUT) {
      return { kind: "events", events: [{ topic, cursor: r.revision, payload: r.value, meta: { key: r.key } }] };
    }
    if (r.type !== EventType.BOOKMARK) return undefined;
    // A bookmark moves the position with no event (idle prefixes stay inside the history); the
    // one that ends the replay is also the caught-up marker.
    const progress = { kind: "progress", topic, cursor: r.revision } as const;
    return r.annotations["k8s.io/initial-events-end"] === "true" ? [progress, { kind: "caught-up" }] : progress;
  },
  // OUT_OF_RANGE with a Compacted detail: the history after our revision is gone.
  resets: (error, call) => {
    const [compacted] = error.findDetails(CompactedSchema);
    if (compacted === undefined) return undefined;
    return call.topics.map(({ topic }) => ({ kind: "reset", topic, reason: "retention", resumeAfter: compacted.compactRevision }));
  },
  publish: {
    method: WatchService.method.put,
    request: ({ topic, payload, key }) => ({ key: topic, value: payload, requestId: key }), // key in a field
    cursor: (r) => r.revision,
  },
});
