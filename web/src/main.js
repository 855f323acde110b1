// The playground page: the editor, the running example, the REPL's output,
// the drawing of the selected s-op and the Compile panel. All the work is
// done by the worker (worker.js); this file only shows its answers.
import { EditorView, basicSetup } from "codemirror";
import { keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { raspHighlighting, raspLanguage } from "./rasp-mode.js";
import { EXAMPLES } from "./examples.js";
import { Evaluator, TimeLimitError } from "./evaluator.js";

// Time limits: running a program, and compiling + verifying it.
const RUN_LIMIT_MS = 5000;
const COMPILE_LIMIT_MS = 30000;
// Edits are run this long after the last keystroke: at once (0: right after
// the event that made the edit, so the changes of one action run together).
// Edits made while a run is under way are run together right after it, so
// typing never queues more than one run.
const DEBOUNCE_MS = 0;

const $ = (id) => document.getElementById(id);
const loadStarted = performance.now();

// ---- the link: ?code=...&input=...[&sop=...] -------------------------------
// Percent-encoded (encodeURIComponent); a literal "+" stays a plus, as RASP
// programs are full of them.
function readLink() {
  const found = {};
  for (const part of location.search.replace(/^\?/, "").split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1);
    try {
      found[decodeURIComponent(key)] = decodeURIComponent(value);
    } catch {
      found[key] = value;
    }
  }
  return found;
}

function writeLink() {
  const parts = [`code=${encodeURIComponent(state.code)}`, `input=${encodeURIComponent(state.input)}`];
  if (state.sop) parts.push(`sop=${encodeURIComponent(state.sop)}`);
  history.replaceState(null, "", `${location.pathname}?${parts.join("&")}`);
}

// ---- state -----------------------------------------------------------------
const link = readLink();
const state = {
  code: link.code ?? EXAMPLES[0].code,
  input: link.input ?? (link.code === undefined ? EXAMPLES[0].input : "hello"),
  // The s-op chosen in the menu; empty means the program's last s-op.
  sop: link.sop ?? "",
  // The s-op the last run drew (what Compile compiles).
  drawn: null,
  busy: false,
  dirty: false,
  // When the first edit not yet run was made (performance.now()).
  editedAt: null,
  firstDrawingMs: null,
};

const evaluator = new Evaluator(new URL("worker.js", import.meta.url));

// ---- the editor --------------------------------------------------------------
const editor = new EditorView({
  parent: $("editor"),
  doc: state.code,
  extensions: [
    basicSetup,
    keymap.of([indentWithTab]),
    raspLanguage,
    raspHighlighting,
    lintGutter(),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) {
        state.code = update.state.doc.toString();
        schedule();
      }
    }),
  ],
});

$("input").value = state.input;
$("input").addEventListener("input", () => {
  state.input = $("input").value;
  schedule();
});
$("sop").addEventListener("change", () => {
  state.sop = $("sop").value;
  schedule(0);
});

for (const example of EXAMPLES) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = example.name;
  button.dataset.example = example.name;
  button.addEventListener("click", () => {
    state.sop = "";
    state.input = example.input;
    $("input").value = example.input;
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: example.code } });
    defaultCompileOptions(true);
    schedule(0);
  });
  $("examples").append(button);
}

$("share").addEventListener("click", async () => {
  writeLink();
  try {
    await navigator.clipboard.writeText(location.href);
    notice("The link to this program and input is copied.", 2500);
  } catch {
    notice("The address bar holds the link to this program and input.", 4000);
  }
});

// ---- messages ----------------------------------------------------------------
let noticeTimer = null;
function notice(text, hideAfterMs) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(noticeTimer);
  if (hideAfterMs) noticeTimer = setTimeout(() => (box.hidden = true), hideAfterMs);
}

function show(id, text) {
  const element = $(id);
  element.hidden = !text;
  element.textContent = text || "";
}

// A failed or stopped evaluation: say what happened where the output goes.
function reportStopped(error, what) {
  const text =
    error instanceof TimeLimitError
      ? `Time limit: the ${what} ran longer than ${what === "program" ? RUN_LIMIT_MS / 1000 : COMPILE_LIMIT_MS / 1000} s and was stopped (the evaluator was restarted). Edit the program or input to run it again.`
      : `The evaluator failed while running the ${what}: ${error.message}` +
        (/call stack|recursion|stack/i.test(error.message)
          ? " (the program recursed too deeply for the browser's stack)"
          : "") +
        ". It was restarted.";
  notice(text);
  return text;
}

// ---- running ---------------------------------------------------------------------
let debounceTimer = null;
let refreshQueued = false;
function schedule(delay = DEBOUNCE_MS) {
  // The first edit not yet shown: redraw times count from it.
  state.editedAt ??= performance.now();
  clearTimeout(debounceTimer);
  if (delay > 0) {
    debounceTimer = setTimeout(refresh, delay);
  } else if (!refreshQueued) {
    // Right after the event that made the edit (before the browser paints
    // the keystroke), so the worker runs while the page renders it.
    refreshQueued = true;
    queueMicrotask(() => {
      refreshQueued = false;
      refresh();
    });
  }
}

async function refresh() {
  if (state.busy) {
    state.dirty = true;
    return;
  }
  state.busy = true;
  state.dirty = false;
  const editedAt = state.editedAt;
  state.editedAt = null;
  writeLink();
  const request = { code: state.code, input: state.input, sop: state.sop, shown: shown.id };
  $("status").textContent = "running…";
  try {
    const sentAt = performance.now();
    const { result, ms } = await evaluator.request("run", request, RUN_LIMIT_MS);
    const answeredAt = performance.now();
    $("notice").hidden = true;
    render(result, ms, editedAt, { sentAt, answeredAt });
  } catch (error) {
    const text = reportStopped(error, "program");
    $("repl").textContent = text;
    $("status").textContent = "stopped";
    editor.dispatch(setDiagnostics(editor.state, []));
    $("drawing").classList.add("stale");
  } finally {
    state.busy = false;
    if (state.dirty) schedule(0);
  }
}

// Where a redraw's time went (the bench mode of the browser test reads
// these from document.body.dataset): the edit's wait for its run, the
// worker's run, the answer's way back, showing the output and errors,
// placing the SVG, and the frame that shows it.
function recordRedraw(editedAt, times, placedAt, phases) {
  const data = document.body.dataset;
  data.lastRedrawMs = (placedAt - editedAt).toFixed(0);
  data.lastWaitMs = (times.sentAt - editedAt).toFixed(1);
  data.lastRunMs = times.runMs.toFixed(1);
  data.lastTransferMs = (times.answeredAt - times.sentAt - times.runMs).toFixed(1);
  data.lastOutputMs = (times.placeAt - times.renderAt).toFixed(1);
  data.lastPlaceMs = (placedAt - times.placeAt).toFixed(1);
  data.lastPhases = JSON.stringify(phases ?? {});
  // After the next frame is produced: the drawing is on the screen.
  requestAnimationFrame(() =>
    setTimeout(() => {
      data.lastPaintedMs = (performance.now() - editedAt).toFixed(0);
      data.redraws = String(Number(data.redraws ?? 0) + 1);
    }, 0),
  );
}

function render(result, ms, editedAt, times) {
  const renderAt = performance.now();
  $("repl").textContent = result.output || "(the program printed nothing)";
  $("status").textContent = `${ms.toFixed(0)} ms`;
  show("input-error", result.input_error);

  const diagnostics = result.diagnostics.filter((d) => d.from !== null);
  const length = editor.state.doc.length;
  editor.dispatch(
    setDiagnostics(
      editor.state,
      diagnostics.map((d) => ({
        from: Math.min(d.from, length),
        to: Math.min(Math.max(d.to, d.from), length),
        severity: "error",
        message: d.message,
      })),
    ),
  );
  show("errors", result.diagnostics.map((d) => d.rendered).join("\n"));

  const menu = $("sop");
  menu.replaceChildren(
    ...result.sops.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    }),
  );
  menu.value = result.selected ?? "";
  state.drawn = result.selected;
  $("compile").disabled = !result.selected;

  if (result.layers !== null) {
    const heads = result.heads_per_layer.join(", ");
    $("counts").textContent =
      `${result.selected}: ${result.layers} layer${result.layers === 1 ? "" : "s"}, ` +
      `${result.heads} head${result.heads === 1 ? "" : "s"}` +
      (result.layers > 0 ? ` (per layer: ${heads})` : "");
  } else if (!result.selected) {
    $("counts").textContent = "";
  }
  const drawing = $("drawing");
  const placeAt = performance.now();
  const placement = result.drawing === "none" ? null : showDrawing(drawing, result);
  if (placement) {
    document.body.dataset.lastPlacement = placement;
    // What came from the worker for it: the SVG's text, whole or changes.
    document.body.dataset.lastSentBytes = String(result.svg?.length ?? 0);
    const inTexts = new Set((result.texts_changed ?? []).filter((_, i) => i % 2 === 0)).size;
    const changed = (result.changed?.length ?? 0) + inTexts;
    document.body.dataset.lastChanged = String(changed);
    drawing.classList.remove("stale");
    if (editedAt !== null) {
      const placedAt = performance.now();
      const redraw = placedAt - editedAt;
      recordRedraw(editedAt, { ...times, runMs: ms, renderAt, placeAt }, placedAt, result.phases);
      $("status").textContent = `${ms.toFixed(0)} ms to run, drawn ${redraw.toFixed(0)} ms after the edit`;
    }
    if (state.firstDrawingMs === null) {
      state.firstDrawingMs = performance.now() - loadStarted;
      document.body.dataset.firstDrawingMs = state.firstDrawingMs.toFixed(0);
    }
  } else {
    drawing.classList.add("stale");
    if (!result.selected) {
      drawing.replaceChildren();
      shown.id = null;
    }
    // A drawing that could not be patched: the next run sends it whole.
    if (result.drawing !== "none") schedule(0);
  }
  show(
    "draw-error",
    placement ? "" : result.selected ? result.draw_error : "The program defines no s-op to draw yet.",
  );
}

// The drawing on the page: the worker's name for it (the worker sends the
// next one as changes to it), and its elements in document order as
// rasp-web counts them (see svgElements).
const shown = { id: null, elements: [] };

// Shows the worker's drawing; returns how ("kept": it is the one shown;
// "patched": the elements that changed were changed; "replaced" or
// "checked": placed whole, see placeSvg), or null when the changes did not
// fit the drawing on the page (then the next run sends it whole).
function showDrawing(container, result) {
  const svg = container.firstElementChild;
  const current = shown.id;
  shown.id = null;
  if (result.drawing === "whole") {
    const how = placeSvg(container, result.svg);
    document.body.dataset.lastSvgBytes = String(result.svg.length);
    shown.elements = svgElements(container.firstElementChild);
    // A drawing that could not be read is not one the worker can change.
    shown.id = container.firstElementChild ? result.drawing_id : null;
    return how;
  }
  if (!svg || current === null) return null;
  if (result.drawing === "changes" && !patchSvg(shown.elements, result)) return null;
  shown.id = result.drawing_id;
  return result.drawing === "same" ? "kept" : "patched";
}

// Puts an SVG string from the worker into the page without scripts or
// event attributes. rasp-draw escapes every text and attribute value, so
// in its SVG a "<" only starts one of its own tags: when no tag is a script
// or foreignObject and none has an on... attribute, the HTML parser reads
// the SVG straight into an inert template (a third of the time of parsing
// it as XML, cleaning every attribute and importing it). Anything else
// takes the careful path. Returns how: "replaced" or "checked".
const UNSAFE_SVG = /<\s*(script|foreignObject)|<[^>]*\son[a-z]*\s*=/i;
function placeSvg(container, text) {
  if (!UNSAFE_SVG.test(text)) {
    const template = document.createElement("template");
    template.innerHTML = text.replace(/^<\?xml[^>]*\?>\s*/, "");
    const svg = template.content.firstElementChild;
    if (template.content.childElementCount === 1 && svg.namespaceURI === SVG_NS) {
      container.replaceChildren(svg);
      return "replaced";
    }
  }
  placeSvgCarefully(container, text);
  return "checked";
}

const SVG_NS = "http://www.w3.org/2000/svg";
const CONTAINERS = new Set(["svg", "g"]);
const tagOf = (text) => text.match(/^<([a-zA-Z]+)/)?.[1] ?? "";

// The elements of a drawing in the order rasp-web numbers them: the <svg>,
// then each element inside it, inside a group after the group itself
// (the children of other elements, such as a cell's <title>, are part of
// their element).
function svgElements(svg) {
  const found = [];
  const visit = (element) => {
    found.push(element);
    if (CONTAINERS.has(element.localName)) for (const child of element.children) visit(child);
  };
  if (svg) visit(svg);
  return found;
}

// Changes the drawing on the page (its elements, `elements`) into the next
// one, as rasp-web's run_update describes it: element `changed[n]`
// becomes the n-th piece of `svg` (a group's or the root's opening tag, or
// a whole leaf element), and in the elements of `texts_changed` a text
// node gets the piece after them. Each element stays in place and only
// what differs in it is changed (a hover text, a value, a colour), so the
// browser lays out only what changed. Returns false when the changes do
// not fit the elements (then the drawing must be placed whole).
function patchSvg(elements, { svg, changed, texts_changed: texts }) {
  const pieces = (svg ?? "").split("\0");
  if (changed.length + texts.length / 2 !== pieces.length) return false;
  const wholes = pieces.slice(0, changed.length);
  if (UNSAFE_SVG.test(wholes.join(""))) return false;
  for (let n = 0; n < changed.length; n += 1) {
    if (elements[changed[n]]?.localName !== tagOf(wholes[n])) return false;
  }
  // New texts first: they count text nodes as they are.
  for (let n = 0; n < texts.length; n += 2) {
    const element = elements[texts[n]];
    if (!element) return false;
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode();
    for (let skip = texts[n + 1]; node && skip > 0; skip -= 1) node = walker.nextNode();
    if (!node) return false;
    node.data = pieces[changed.length + n / 2];
  }
  if (changed.length === 0) return true;
  // All the whole pieces parsed at once, containers as empty groups (the
  // root's tag too, so it does not nest an <svg>).
  const parts = wholes.map((piece) => {
    const tag = tagOf(piece);
    if (tag === "svg") return `<g${piece.slice(4)}</g>`;
    return CONTAINERS.has(tag) ? `${piece}</g>` : piece;
  });
  const template = document.createElement("template");
  template.innerHTML = `<svg xmlns="${SVG_NS}">${parts.join("")}</svg>`;
  const parsed = template.content.firstElementChild;
  if (!parsed || parsed.children.length !== changed.length) return false;
  const fresh = [...parsed.children];
  changed.forEach((index, n) => {
    const old = elements[index];
    if (CONTAINERS.has(old.localName)) copyAttributes(old, fresh[n]);
    else morph(old, fresh[n]);
  });
  return true;
}

// Makes `target` what `source` is, changing only what differs: its
// attributes, and its children when they are alike (the same kinds of
// nodes), else its children replaced.
function morph(target, source) {
  copyAttributes(target, source);
  const [have, want] = [target.childNodes, source.childNodes];
  let alike = have.length === want.length;
  for (let i = 0; alike && i < have.length; i += 1) alike = have[i].nodeName === want[i].nodeName;
  if (!alike) {
    target.replaceChildren(...want);
    return;
  }
  for (let i = 0; i < have.length; i += 1) {
    if (have[i].nodeType === Node.ELEMENT_NODE) morph(have[i], want[i]);
    else if (have[i].data !== want[i].data) have[i].data = want[i].data;
  }
}

// By name: reading `attributes` would make an Attr node for each one (and
// make SVG elements bring all their attributes up to date), which made
// patching several times slower. A prefixed attribute (xml:space) is
// added in its namespace.
function copyAttributes(target, source) {
  for (const name of target.getAttributeNames()) {
    if (!source.hasAttribute(name)) target.removeAttribute(name);
  }
  for (const name of source.getAttributeNames()) {
    const value = source.getAttribute(name);
    if (target.getAttribute(name) === value) continue;
    if (name.includes(":") && !target.hasAttribute(name)) {
      target.setAttributeNS(source.getAttributeNode(name).namespaceURI, name, value);
    } else {
      target.setAttribute(name, value);
    }
  }
}

// Parses the SVG as XML and removes scripts and event attributes.
function placeSvgCarefully(container, text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = parsed.documentElement;
  if (svg.nodeName !== "svg") {
    container.textContent = "the drawing could not be read";
    return;
  }
  for (const script of svg.querySelectorAll("script, foreignObject")) script.remove();
  for (const element of svg.querySelectorAll("*")) {
    for (const attribute of [...element.attributes]) {
      if (/^on/i.test(attribute.name)) element.removeAttribute(attribute.name);
    }
  }
  container.replaceChildren(document.importNode(svg, true));
}

// ---- compiling -------------------------------------------------------------------
// The vocabulary defaults to the input's distinct tokens, the length to its length.
function defaultCompileOptions(force) {
  const vocab = $("vocab");
  if (force || !vocab.value) vocab.value = [...new Set([...state.input])].sort().join("");
  const maxLen = $("maxlen");
  if (force) maxLen.value = String(Math.max(1, Math.min(64, [...state.input].length || 5)));
}

$("compile-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.drawn) return;
  const button = $("compile");
  button.disabled = true;
  button.textContent = "Compiling…";
  show("compile-error", "");
  show("compile-summary", "");
  show("compile-verify", "");
  $("attention").replaceChildren();
  const request = {
    code: state.code,
    sop: state.drawn,
    vocab: $("vocab").value,
    maxLen: Number($("maxlen").value) || 0,
    input: state.input,
  };
  try {
    const { result, ms } = await evaluator.request("compile", request, COMPILE_LIMIT_MS);
    if (result.error) {
      show("compile-error", result.error);
    } else {
      show("compile-summary", result.summary);
      show("compile-verify", `${result.verify}(compiled and verified in ${(ms / 1000).toFixed(1)} s)`);
      if (result.attention_svg) placeSvg($("attention"), result.attention_svg);
      else show("compile-error", result.attention_error);
    }
  } catch (error) {
    show("compile-error", reportStopped(error, "compilation"));
  } finally {
    button.disabled = false;
    button.textContent = "Compile";
  }
});

// ---- help ------------------------------------------------------------------------
$("help").addEventListener("toggle", async () => {
  if (!$("help").open || $("help-text").dataset.loaded) return;
  try {
    const { result } = await evaluator.request("help", { topic: "" }, RUN_LIMIT_MS);
    $("help-text").textContent = result;
    $("help-text").dataset.loaded = "yes";
  } catch (error) {
    $("help-text").textContent = String(error.message);
  }
});

defaultCompileOptions(true);
schedule(0);
