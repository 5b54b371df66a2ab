// readme.html: runs the README's "Using it" code (pasted unchanged by the matrix as
// using-it.ts) after the app's globals exist, and records how it ended.
import "./globals.ts";

try {
  await import("./using-it.ts");
  readmeRecord.done = "ok";
} catch (e) {
  readmeRecord.done = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
