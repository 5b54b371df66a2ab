// The Svelte fixture: one client for the page, handed to the app as a prop.
import { mount } from "svelte";
import { createClient } from "onestream";
import App from "./App.svelte";

const client = createClient({
  worker: (name) => new SharedWorker(new URL("./worker.ts", import.meta.url), { type: "module", name }),
  baseUrl: new URLSearchParams(location.search).get("server") ?? location.origin,
});

mount(App, { target: document.getElementById("app")!, props: { client } });
