// webpack 5's worker recipe. webpack emits the worker as a classic script that loads its chunks
// with importScripts, so the worker is created without `type: "module"`.
import { createClient } from "onestream";
import { mountPage, serverUrl } from "./page";

mountPage(
  createClient({
    worker: (name) => new SharedWorker(new URL("./worker.ts", import.meta.url), { name }),
    baseUrl: serverUrl(),
  }),
);
