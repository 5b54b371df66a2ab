// The Vue fixture: one client for the page, handed to the app as a prop.
import { createApp } from "vue";
import { createClient } from "onestream";
import App from "./App.vue";

const client = createClient({
  worker: (name) => new SharedWorker(new URL("./worker.ts", import.meta.url), { type: "module", name }),
  baseUrl: new URLSearchParams(location.search).get("server") ?? location.origin,
});

createApp(App, { client }).mount("#app");
