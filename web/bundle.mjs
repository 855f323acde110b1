// Bundles the page (src/main.js) and the worker (src/worker.js) with
// esbuild into dist/, beside index.html, style.css and the wasm module.
// The wasm-bindgen glue must already be in build/pkg (build.sh puts it there).
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const here = new URL(".", import.meta.url).pathname;
const dist = `${here}dist`;
mkdirSync(dist, { recursive: true });

await esbuild.build({
  entryPoints: [`${here}src/main.js`, `${here}src/worker.js`],
  outdir: dist,
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  // The example programs are bundled as text.
  loader: { ".rasp": "text" },
  logLevel: "warning",
});

for (const file of ["index.html", "style.css"]) copyFileSync(`${here}src/${file}`, `${dist}/${file}`);
copyFileSync(`${here}build/pkg/rasp_web_bg.wasm`, `${dist}/rasp_web_bg.wasm`);
