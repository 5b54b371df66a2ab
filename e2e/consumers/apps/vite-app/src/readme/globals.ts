// What the README's "Using it" code takes from the app around it: the server URL, a token and
// the UI callbacks. Each callback records what it got in window.readmeRecord for the matrix.
export interface ReadmeRecord {
  /** "ok" once the README code ran to its end, else the error it threw. */
  done?: string;
  rendered: string[];
  badges: string[];
  live: string[];
  resets: string[];
  warnings: string[];
}

declare global {
  var readmeRecord: ReadmeRecord;
  var apiUrl: string;
  var token: string;
  var render: (topic: string, cursor: bigint, payload: Uint8Array) => void;
  var hideSpinner: (topics: string[]) => void;
  var resync: (topic: string, reason: string) => void;
  var warn: (error: Error) => void;
  var badge: (state: string, connection: number, role: string) => void;
}

const record: ReadmeRecord = { rendered: [], badges: [], live: [], resets: [], warnings: [] };
globalThis.readmeRecord = record;
globalThis.apiUrl = new URLSearchParams(location.search).get("server") ?? location.origin;
globalThis.token = "readme-token";
globalThis.render = (topic, cursor, payload) => record.rendered.push(`${topic}#${cursor} ${new TextDecoder().decode(payload)}`);
globalThis.hideSpinner = (topics) => record.live.push(...topics);
globalThis.resync = (topic, reason) => record.resets.push(`${topic}: ${reason}`);
globalThis.warn = (error) => record.warnings.push(error.message);
globalThis.badge = (state) => record.badges.push(state);
