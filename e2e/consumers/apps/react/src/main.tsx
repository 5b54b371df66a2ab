// The React fixture renders in StrictMode, so every component mounts, unmounts and mounts again
// in development; the matrix checks the built app shows each event once and that unmounting the
// feed takes its topic out of the upstream stream.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "onestream";
import { App } from "./App.tsx";

const client = createClient({
  worker: (name) => new SharedWorker(new URL("./worker.ts", import.meta.url), { type: "module", name }),
  baseUrl: new URLSearchParams(location.search).get("server") ?? location.origin,
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
