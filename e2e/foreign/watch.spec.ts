// onestream over a Kubernetes/etcd-style watch it did not design (watchdemo.v1), in real Chromium:
// a @grpc/grpc-js server over HTTP/2 behind the @grpc-web/proxy translating proxy. Revisions are
// global, so other prefixes' puts interleave with the watched ones (their gaps are no loss).
import { foreignSuite } from "./suite";
import { startWatchServer } from "./watch-server";

const text = new TextEncoder();
const decode = new TextDecoder();

foreignSuite({
  name: "watch",
  topic: "pods/",
  async start() {
    const server = await startWatchServer({ bookmarkMs: 1_000 });
    const { store } = server;
    return {
      url: server.url,
      activeStreams: () => server.stats().activeWatches,
      totalStreams: () => server.stats().totalWatches,
      write(topic, value) {
        store.put(`nodes/${value}`, text.encode(value)); // another prefix: a gap in this one's revisions
        return String(store.put(`${topic}${value}`, text.encode(value)).revision);
      },
      metaOf: (topic, value) => ({ key: `${topic}${value}` }),
      cursorsOf: (topic, value) => store.history(topic).filter((e) => decode.decode(e.value) === value).map((e) => String(e.revision)),
      expire(topic, keep) {
        const kept = store.history(topic).at(-keep)!;
        store.compact(kept.revision - 1n);
        return String(store.compactRevision);
      },
      close: () => server.close(),
    };
  },
});
