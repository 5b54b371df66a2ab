// Inside this repo, `import … from "onestream/worker"` (the way the README's examples and the
// foreign-protocol adapters are written) means the sources, not the built dist/ the package
// exports point at. Vite and vitest take this map; tsconfig.json's "paths" says the same for tsc.
import { fileURLToPath } from "node:url";

const at = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

export const sourceAliases: Record<string, string> = {
  "onestream/worker": at("worker/index.ts"),
  "onestream/testing": at("e2e/kit/index.ts"),
  "onestream/react": at("src/bindings/react.ts"),
  "onestream/vue": at("src/bindings/vue.ts"),
  "onestream/svelte": at("src/bindings/svelte.ts"),
};

/** Vite's alias list: the exact "onestream" specifier, then its subpaths. */
export const viteAliases = [
  { find: /^onestream$/, replacement: at("src/index.ts") },
  ...Object.entries(sourceAliases).map(([find, replacement]) => ({ find, replacement })),
];
