// Types for chromium.mjs (plain JS so `npm run setup:browser` runs without a TS loader).
export declare const CHROMIUM_FLAGS: string[];
export declare function chromiumCandidates(): string[];
export declare function locateChromium(): string | undefined;
export declare function findChromium(): string;
