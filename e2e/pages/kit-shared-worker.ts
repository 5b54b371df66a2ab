// A SharedWorker with just enough in it for the kit's spec: `probe(url)` fetches once, and
// `stream(url)` reads a long response in the background, recording how it ended.
interface StreamRecord {
  chunks: number;
  ended?: string;
}

const scope = globalThis as unknown as {
  probe(url: string): Promise<string>;
  stream(url: string): void;
  streamRecord: StreamRecord;
};

scope.probe = (url) =>
  fetch(url).then(
    (r) => `status ${r.status}`,
    (e: Error) => `failed: ${e.message}`,
  );

scope.streamRecord = { chunks: 0 };
scope.stream = (url) => {
  const rec: StreamRecord = { chunks: 0 };
  scope.streamRecord = rec;
  void (async () => {
    try {
      const res = await fetch(url);
      const reader = res.body!.getReader();
      for (;;) {
        const { done } = await reader.read();
        if (done) return void (rec.ended = "done");
        rec.chunks++;
      }
    } catch (e) {
      rec.ended = `error: ${(e as Error).message}`;
    }
  })();
};

console.log("kit worker started");
export {};
