// The repo's SharedWorker entry (what the demo, the e2e tests and the benchmarks load).
// Create it through the client: `createClient({ worker: (name) => new SharedWorker(new URL(
// "../worker/shared-worker.ts", import.meta.url), { type: "module", name }) })`.
// The server is chosen by the first tab's `createClient({ baseUrl })` (default: the page's
// origin); a `?baseUrl=` query on this script's URL, when present, fixes it for every tab.
import { serve } from "./index";

const fromQuery = new URL(self.location.href).searchParams.get("baseUrl");
serve(fromQuery === null || fromQuery === "" ? {} : { baseUrl: fromQuery });
