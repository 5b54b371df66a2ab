// onestream in plain Node, as server-side rendering meets it: every entry the installed package
// exports imports without throwing (entries added later included: they are read from its
// package.json); the browser-only parts, used here, fail with an error naming what is missing;
// the bindings render their initial value (React, Vue) or read as stores (Svelte) on the server.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { get } from "svelte/store";
import { createSSRApp, h } from "vue";
import { renderToString as renderVue } from "vue/server-renderer";
import { createClient, UnsupportedError, type Client } from "onestream";
import { useEvents, useStatus } from "onestream/react";
import { eventsStore, statusStore } from "onestream/svelte";
import { startFaultProxy } from "onestream/testing";
import { useEvents as useVueEvents, useStatus as useVueStatus } from "onestream/vue";
import { serve } from "onestream/worker";

const manifest = JSON.parse(await readFile(new URL(import.meta.resolve("onestream/package.json")), "utf8")) as {
  exports: Record<string, unknown>;
};
const entries = Object.keys(manifest.exports).filter((k) => k !== "./package.json").map((k) => `onestream${k.slice(1)}`);
for (const entry of entries) await import(entry);
console.log(`imported in Node: ${entries.join(", ")}`);

const client = createClient({ worker: "/worker.js" });
assert.equal(client.status.state, "failed");
assert.match(client.status.lastError?.message ?? "", /navigator\.locks/);
await assert.rejects(client.ready, (e: unknown) => e instanceof UnsupportedError && /navigator\.locks/.test(e.message));
assert.throws(() => client.subscribe(["news"], () => {}), /navigator\.locks/);
assert.throws(() => serve(), /navigator\.locks/);
console.log(`createClient in Node: ${client.status.lastError?.message}`);

function Page({ client }: { client: Client | null }) {
  const events = useEvents(client, ["news"]);
  const status = useStatus(client);
  return createElement("p", null, `${status?.state ?? "no client"}: ${events.length} events`);
}
assert.equal(renderToString(createElement(Page, { client: null })), "<p>no client: 0 events</p>");
assert.equal(renderToString(createElement(Page, { client })), "<p>failed: 0 events</p>");

const vueApp = createSSRApp({
  setup() {
    const events = useVueEvents(null, ["news"]);
    const status = useVueStatus(client);
    return () => h("p", `${status.value?.state}: ${events.value.length} events`);
  },
});
assert.equal(await renderVue(vueApp), "<p>failed: 0 events</p>");

assert.deepEqual(get(eventsStore(null, ["news"])), []);
assert.equal(get(statusStore(client))?.state, "failed");

const proxy = await startFaultProxy({ target: "http://127.0.0.1:9" });
await proxy.close();
console.log("server-side rendering: React, Vue and Svelte bindings render their initial values");
