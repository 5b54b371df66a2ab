// The chaos suite's recorder page: it never closes during a run, hears every chaos tab on a
// BroadcastChannel and hands their messages to the driver in small batches through a Playwright
// binding (messages.ts says why tabs do not call the binding themselves).
import { BINDING, RECORDER_CHANNEL, type ChaosMessage } from "../chaos/messages";

/** Batches go out at most this often: fewer binding calls, and still fresh for the driver's waits. */
const FLUSH_MS = 20;

const send = (window as unknown as Record<string, ((batch: ChaosMessage[]) => Promise<void>) | undefined>)[BINDING];
if (typeof send !== "function") throw new Error(`chaos recorder: no ${BINDING} binding; open it through the chaos driver`);

let batch: ChaosMessage[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

new BroadcastChannel(RECORDER_CHANNEL).onmessage = (ev: MessageEvent<ChaosMessage>) => {
  batch.push(ev.data);
  timer ??= setTimeout(() => {
    timer = undefined;
    const out = batch;
    batch = [];
    void send!(out);
  }, FLUSH_MS);
};
(window as unknown as { recorderReady: boolean }).recorderReady = true;
