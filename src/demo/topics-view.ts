// One card per joined topic: a live log of events with their cursors, whether the topic is
// live or still catching up, and reset notices (the app must be told, never silently skipped).

/** Lines kept per topic; older ones scroll away (the recording on window keeps all). */
export const LOG_LINES = 200;

export interface TopicView {
  append(events: ReadonlyArray<{ cursor: bigint; payload: Uint8Array }>): void;
  markLive(): void;
  notice(text: string): void;
  remove(): void;
}

const decoder = new TextDecoder();

export function createTopicView(container: HTMLElement, topic: string, onLeave: () => void): TopicView {
  const card = document.createElement("article");
  card.className = "topic";
  card.dataset.topic = topic;
  const head = document.createElement("header");
  const title = document.createElement("b");
  title.textContent = topic;
  const tag = document.createElement("span");
  tag.className = "tag";
  tag.textContent = "catching up";
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

  const line = (className: string, cursor: string, text: string) => {
    const li = document.createElement("li");
    li.className = className;
    const c = document.createElement("span");
    c.className = "cursor";
    c.textContent = cursor;
    const t = document.createElement("span");
    t.textContent = text;
    li.append(c, t);
    log.append(li);
    while (log.childElementCount > LOG_LINES) log.firstElementChild?.remove();
  };

  return {
    append(events) {
      // Render the tail only: a burst of thousands would otherwise be rebuilt for nothing.
      for (const e of events.slice(-LOG_LINES)) line("event", `#${e.cursor}`, decoder.decode(e.payload));
      total += events.length;
      count.textContent = `${total} received`;
      log.scrollTop = log.scrollHeight;
    },
    markLive() {
      tag.textContent = "live";
      tag.classList.add("live");
    },
    notice(text) {
      line("notice", "!", text);
    },
    remove: () => card.remove(),
  };
}
