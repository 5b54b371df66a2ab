// onestream/react in an app: the status, a feed of one topic (mounted and unmounted by #toggle)
// and a publish box, with the ids the consumer matrix drives.
import { useState } from "react";
import type { Client } from "onestream";
import { useEvents, usePublish, useStatus } from "onestream/react";

const TOPIC = "consumers/demo";
const decoder = new TextDecoder();

function Feed({ client }: { client: Client }) {
  const events = useEvents(client, [TOPIC], { max: 50 });
  return (
    <ul id="events">
      {events.map((e) => (
        <li key={String(e.cursor)}>{decoder.decode(e.payload)}</li>
      ))}
    </ul>
  );
}

export function App({ client }: { client: Client }) {
  const status = useStatus(client);
  const publish = usePublish(client);
  const [text, setText] = useState("");
  const [shown, setShown] = useState(true);
  return (
    <>
      <p>
        status: <output id="status">{status?.state}</output>
      </p>
      <button id="toggle" onClick={() => setShown(!shown)}>
        {shown ? "unmount" : "mount"} the feed
      </button>
      {shown && <Feed client={client} />}
      <input id="message" value={text} onChange={(e) => setText(e.target.value)} />
      <button id="send" onClick={() => void publish(TOPIC, text)}>
        publish
      </button>
    </>
  );
}
