// The evaluator: rasp compiled to WebAssembly, in a worker so that a
// runaway program never freezes the page. The page terminates this worker
// when a request runs over its time limit and starts a new one.
import init, { compile, help, run_update, version } from "../build/pkg/rasp_web.js";

const ready = init({ module_or_path: new URL("rasp_web_bg.wasm", self.location.href) });

// The drawings this worker made are named `${WORKER}/${count}`: the page
// says which one it shows, and when that is the last one made, the module
// sends only the elements that changed (a new worker has another name, so
// it sends its first drawing whole).
const WORKER = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
let drawings = 0;

const HANDLERS = {
  // The drawing comes apart from the JSON (see run_update in rasp-web):
  // `drawing` says whether `svg` is the whole SVG, the changed elements
  // (`changed` their indices), the same drawing as before, or none.
  run: ({ code, input, sop, shown }) => {
    const against = shown === `${WORKER}/${drawings}`;
    const [json, svg] = run_update(code, input, sop ?? "", against);
    const result = JSON.parse(json);
    result.svg = svg === "" ? null : svg;
    if (result.drawing !== "none") {
      drawings += 1;
      result.drawing_id = `${WORKER}/${drawings}`;
    }
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
