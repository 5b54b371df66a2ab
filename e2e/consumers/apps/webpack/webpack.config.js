// webpack 5 as its TypeScript guide sets it up (ts-loader). webpack bundles the worker from
// `new SharedWorker(new URL("./worker.ts", import.meta.url))` by itself; see src/index.ts.
const path = require("path");

module.exports = {
  mode: "production",
  entry: "./src/index.ts",
  module: { rules: [{ test: /\.ts$/, use: "ts-loader", exclude: /node_modules/ }] },
  resolve: { extensions: [".ts", ".js"] },
  output: { filename: "[name].js", path: path.resolve(__dirname, "dist"), clean: true },
};
