// esbuild's worker recipe: the worker is its own entry point (see build.js), named here by its
// output file.
import { createClient } from "onestream";
import { mountPage, serverUrl } from "./page";

mountPage(
  createClient({
    worker: (name) => new SharedWorker(new URL("./worker.js", import.meta.url), { type: "module", name }),
    baseUrl: serverUrl(),
  }),
);
