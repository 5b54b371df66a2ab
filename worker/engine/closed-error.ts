// ClosedError alone, with no imports: the tab bundle needs it (one class on both sides of the
// worker boundary) without pulling in the engine's error table and @connectrpc/connect.

/** Every engine call after close() throws or rejects with this. */
export class ClosedError extends Error {
  override readonly name = "ClosedError";
  constructor(what = "engine") {
    super(`onestream ${what} is closed`);
  }
}
