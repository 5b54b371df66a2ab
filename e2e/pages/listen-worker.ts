// The SharedWorker of the e2e page with ?protocol=listen: onestream over listendemo.v1. The
// protocol announces no keep-alive interval, so the idle timeout is configured here: our server
// sends a NO_CHANGE at least every second; without this knob a silent stream would be noticed
// only after the 60 s default.
import { serve } from "onestream/worker";
import { listenAdapter } from "../foreign/listen-adapter";

serve({ adapter: listenAdapter, engine: { preHelloIdleMs: 5_000 } });
