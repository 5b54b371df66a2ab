// onestream over a Firestore-style listen it did not design (listendemo.v1), in real Chromium:
// opaque resume tokens compared for equality only, served by connect-node's gRPC-Web.
import { startListenServer } from "./listen-server";
import { foreignSuite } from "./suite";

const text = new TextEncoder();
const decode = new TextDecoder();
const token = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

foreignSuite({
  name: "listen",
  topic: "room",
  async start() {
    const server = await startListenServer({ keepAliveMs: 1_000 });
    const { store } = server;
    return {
      url: server.url,
      activeStreams: () => server.stats().activeListens,
      totalStreams: () => server.stats().totalListens,
      write: (topic, value) => token(store.write(topic, text.encode(value)).token),
      metaOf: () => undefined, // the protocol has nothing besides the data
      cursorsOf: (topic, value) => store.changes(topic).filter((c) => decode.decode(c.data) === value).map((c) => token(c.token)),
      expire(topic, keep) {
        store.compact(topic, keep);
        return token(store.floor(topic));
      },
      close: () => server.close(),
    };
  },
});
