// The ceiling: a bare SharedWorker that posts events of onestream's StreamEvent shape to every
// connected page in batches with plain postMessage — no network, no decoding, no engine. Payloads
// are views into one buffer per batch, as protobuf-es decodes a frame, so the structured clone
// costs what onestream's fan-out would cost.
// The project's tsconfig has DOM types, not a worker's: name the one global we need.
const scope = globalThis as unknown as { onconnect: ((ev: MessageEvent) => void) | null };

const ports: MessagePort[] = [];
const TOPIC = "ceiling";
const PAYLOAD_BYTES = 8;

function post(total: number, batch: number): void {
  let cursor = 0n;
  let sent = 0;
  // One batch per task, like a worker that receives one network chunk per task. A MessageChannel
  // tick, not setTimeout(0): nested timers are clamped to 4 ms, which would be the bound measured.
  const tick = new MessageChannel();
  const step = (): void => {
    const size = Math.min(batch, total - sent);
    const buf = new Uint8Array(size * PAYLOAD_BYTES);
    const now = Date.now();
    const events = new Array(size);
    for (let i = 0; i < size; i++) {
      cursor += 1n;
      events[i] = { topic: TOPIC, cursor, payload: buf.subarray(i * PAYLOAD_BYTES, (i + 1) * PAYLOAD_BYTES), publishedAt: now };
    }
    for (const port of ports) port.postMessage(events);
    sent += size;
    if (sent < total) tick.port2.postMessage(null);
    else tick.port1.close();
  };
  tick.port1.onmessage = step;
  step();
}

scope.onconnect = (ev: MessageEvent) => {
  const port = ev.ports[0]!;
  ports.push(port);
  port.onmessage = (m: MessageEvent<{ total: number; batch: number }>) => post(m.data.total, m.data.batch);
  port.postMessage("connected");
};
