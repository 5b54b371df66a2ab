// One card per joined topic: a live log of events with their cursors, a chip saying whether the
// topic is live, catching up or waiting for the stream (status-words.ts decides), reset notices
// (the app must be told, never silently skipped) and this tab's publishes as they progress.
import type { Word } from "./status-words";

/** Lines kept per topic; older ones scroll away (the recording on window keeps all). */
export const LOG_LINES = 200;

export interface TopicView {
  append(events: ReadonlyArray<{ cursor: bigint; payload: Uint8Array }>): void;
  /** What the chip says. */
  show(word: Word): void;
  notice(text: string): void;
  /** A log line for a publish in progress; `update` rewrites it as it becomes durable, then acknowledged. */
  publishing(): { update(text: string): void };
  remove(): void;
}

const decoder = new TextDecoder();

const PUBLISH_WHY =
  "Published from this tab. Durable: stored in the outbox (IndexedDB), so it is sent even if every tab closes. " +
  "Acknowledged: the server stored it under this cursor.";

export function createTopicView(container: HTMLElement, topic: string, onLeave: () => void): TopicView {
  const card = document.createElement("article");
  card.className = "topic";
  card.dataset.topic = topic;
  const head = document.createElement("header");
  const title = document.createElement("b");
  title.textContent = topic;
  const tag = document.createElement("span");
  tag.className = "tag";
  const count = document.createElement("span");
  count.className = "hint";
  const leave = document.createElement("button");
  leave.className = "secondary";
  leave.textContent = "Leave";
  leave.addEventListener("click", onLeave);
  const left = document.createElement("span");
  left.append(title, " ", tag, " ", count);
  head.append(left, leave);
  const log = document.createElement("ol");
  card.append(head, log);
  container.append(card);
  let total = 0;

  const line = (className: string, cursor: string, text: string, title = "") => {
    const li = document.createElement("li");
    li.className = className;
    li.title = title;
    const c = document.createElement("span");
    c.className = "cursor";
    c.textContent = cursor;
    const t = document.createElement("span");
    t.textContent = text;
    li.append(c, t);
    log.append(li);
    while (log.childElementCount > LOG_LINES) log.firstElementChild?.remove();
    return t;
  };
  const scroll = () => void (log.scrollTop = log.scrollHeight);

  return {
    append(events) {
      // Render the tail only: a burst of thousands would otherwise be rebuilt for nothing.
      for (const e of events.slice(-LOG_LINES)) line("event", `#${e.cursor}`, decoder.decode(e.payload));
      total += events.length;
      count.textContent = `${total} received`;
      scroll();
    },
    show(word) {
      tag.textContent = word.text;
      tag.dataset.tone = word.tone;
      tag.title = word.why;
    },
    notice(text) {
      line("notice", "!", text);
      scroll();
    },
    publishing() {
      const t = line("publish", "↑", "", PUBLISH_WHY);
      scroll();
      return { update: (next) => void (t.textContent = next) };
    },
    remove: () => card.remove(),
  };
}
