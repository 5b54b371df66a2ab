// A push-fed async iterable that behaves like a connect-es server stream: items queue until
// read, fail() makes the next read throw, and aborting the call's signal throws Canceled, as
// connect-web does for our own abort.
import { Code, ConnectError } from "@connectrpc/connect";

export class Channel<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private error: unknown;
  private ended = false;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;

  constructor(signal?: AbortSignal) {
    if (signal?.aborted === true) this.abort();
    signal?.addEventListener("abort", () => this.abort(), { once: true });
  }

  /** Like a fetch we aborted: what was buffered is gone, the read throws Canceled. */
  private abort(): void {
    this.items = [];
    this.ended = false;
    this.error = undefined;
    this.fail(new ConnectError("the operation was aborted", Code.Canceled));
  }

  get closed(): boolean {
    return this.ended || this.error !== undefined;
  }

  push(item: T): void {
    if (this.closed) return;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  /** Clean end after what is queued. */
  end(): void {
    if (this.closed) return;
    this.ended = true;
    this.wakeDone();
  }

  /** The next read (after what is queued) throws `err`. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.error = err;
    const w = this.waiter;
    if (w !== undefined && this.items.length === 0) {
      this.waiter = undefined;
      w.reject(err);
    }
  }

  private wakeDone(): void {
    const w = this.waiter;
    if (w !== undefined && this.items.length === 0) {
      this.waiter = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
