// A create-vite vanilla-ts app using onestream: Vite's worker recipe, the page shared by the
// plain-TypeScript fixtures.
import { createClient } from "onestream";
import { mountPage, serverUrl } from "./page.ts";

mountPage(
  createClient({
    worker: (name) => new SharedWorker(new URL("./worker.ts", import.meta.url), { type: "module", name }),
    baseUrl: serverUrl(),
  }),
);
