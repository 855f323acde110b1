// The evaluator: rasp compiled to WebAssembly, in a worker so that a
// runaway program never freezes the page. The page terminates this worker
// when a request runs over its time limit and starts a new one.
import init, { compile, help, run_parts, version } from "../build/pkg/rasp_web.js";

const ready = init({ module_or_path: new URL("rasp_web_bg.wasm", self.location.href) });

// The last drawing this worker sent to the page (a new worker sends the
// next one whole).
let lastSvg = null;

const HANDLERS = {
  // The drawing comes apart from the JSON (see run_parts in rasp-web).
  // A drawing the same as the last one sent is not sent again (most edits
  // leave it as it was): `same_svg` says to use that one.
  run: ({ code, input, sop }) => {
    const [json, svg] = run_parts(code, input, sop ?? "");
    const result = JSON.parse(json);
    result.same_svg = svg !== "" && svg === lastSvg;
    result.svg = svg === "" || result.same_svg ? null : svg;
    if (svg !== "") lastSvg = svg;
    return result;
  },
  compile: ({ code, sop, vocab, maxLen, input }) => JSON.parse(compile(code, sop, vocab, maxLen, input)),
  help: ({ topic }) => help(topic ?? ""),
  version: () => version(),
};

self.onmessage = async (event) => {
  const { id, kind, args } = event.data;
  try {
    await ready;
    const started = performance.now();
    const result = HANDLERS[kind](args);
    self.postMessage({ id, result, ms: performance.now() - started });
  } catch (error) {
    // A trap (stack exhausted, a bug) leaves the module unusable: the page
    // reports it and starts a fresh worker.
    self.postMessage({ id, failure: String(error && error.message ? error.message : error) });
  }
};
