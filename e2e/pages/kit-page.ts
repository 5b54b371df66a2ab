// Starts the bare SharedWorker the kit's own spec inspects and takes offline.
declare global {
  interface Window {
    __kitWorker: SharedWorker;
  }
}
window.__kitWorker = new SharedWorker(new URL("./kit-shared-worker.ts", import.meta.url), { type: "module", name: "kit-self-test" });
window.__kitWorker.port.start();
export {};
