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
  // The last drawing the worker sent (its SVG text).
  lastSvg: null,
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
  const request = { code: state.code, input: state.input, sop: state.sop };
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
  // The worker does not send the drawing it sent last time again.
  const svg = result.same_svg ? state.lastSvg : result.svg;
  state.lastSvg = svg ?? state.lastSvg;
  if (svg) {
    const placeAt = performance.now();
    // An edit that leaves the drawing as it was (most keystrokes inside a
    // statement) keeps the SVG on the page; one that changes some values
    // changes only those elements.
    document.body.dataset.lastPlacement = placeSvg(drawing, svg);
    document.body.dataset.lastSvgBytes = String(svg.length);
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
    if (!result.selected) drawing.replaceChildren();
  }
  show(
    "draw-error",
    svg ? "" : result.selected ? result.draw_error : "The program defines no s-op to draw yet.",
  );
}

// Puts an SVG string from the worker into the page without scripts or
// event attributes. rasp-draw escapes every text and attribute value, so
// in its SVG a "<" only starts one of its own tags: when no tag is a script
// or foreignObject and none has an on... attribute, the HTML parser reads
// the SVG straight into an inert template (a third of the time of parsing
// it as XML, cleaning every attribute and importing it). Anything else
// takes the careful path.
const UNSAFE_SVG = /<\s*(script|foreignObject)|<[^>]*\son[a-z]*\s*=/i;
// Returns how: "kept" (the same SVG is there), "patched" (the elements that
// differ were replaced), "replaced" (all of it) or "checked" (the careful
// path).
function placeSvg(container, text) {
  const placed = placedSvgText.get(container);
  const old = container.firstElementChild;
  if (placed === text && old) return "kept";
  placedSvgText.delete(container);
  if (!UNSAFE_SVG.test(text)) {
    if (old && placed !== undefined && patchSvg(old, placed, text)) {
      placedSvgText.set(container, text);
      return "patched";
    }
    const template = document.createElement("template");
    template.innerHTML = text.replace(/^<\?xml[^>]*\?>\s*/, "");
    const svg = template.content.firstElementChild;
    if (template.content.childElementCount === 1 && svg.namespaceURI === SVG_NS) {
      container.replaceChildren(svg);
      placedSvgText.set(container, text);
      return "replaced";
    }
  }
  placeSvgCarefully(container, text);
  return "checked";
}

// The SVG text each container shows, when it was placed from the text as
// it is (the patching compares the next text with it).
const placedSvgText = new WeakMap();

const SVG_NS = "http://www.w3.org/2000/svg";

// rasp-draw starts every element on a line of its own, and a raw "<" never
// occurs in text: the SVG splits into one piece per element before each
// newline that is followed by "<". A piece is an opening tag of a group
// (`<g ...>`, `<svg ...>`, their contents follow as pieces), a closing tag,
// or a whole leaf element (a rect with its hover <title>, a text with its
// spans, a path, a group's <title>).
function svgPieces(text) {
  return text.replace(/^<\?xml[^>]*\?>\s*/, "").split(/\n\s*(?=<)/);
}

const pieceTag = (piece) => piece.match(/^<(\/?[a-zA-Z]+)/)?.[1] ?? "";
const CONTAINERS = new Set(["svg", "g"]);

// The elements that start the pieces, in order: containers and the leaves
// in them (not the children of a leaf, which are in the leaf's piece).
function pieceElements(svg) {
  const found = [];
  const visit = (element) => {
    found.push(element);
    if (CONTAINERS.has(element.localName)) for (const child of element.children) visit(child);
  };
  visit(svg);
  return found;
}

// Makes the drawing on the page, `svg` (placed from `oldText`), the one
// `newText` describes, changing only the elements whose pieces differ. A
// new input or a small edit usually keeps the picture's elements and
// changes values, colours and hover texts: the browser then lays out only
// what changed instead of thousands of new elements. Returns false (and
// changes nothing) when the two pictures do not have the same elements.
function patchSvg(svg, oldText, newText) {
  const [before, after] = [svgPieces(oldText), svgPieces(newText)];
  if (before.length !== after.length) return false;
  const changed = [];
  for (let i = 0; i < after.length; i += 1) {
    if (pieceTag(before[i]) !== pieceTag(after[i])) return false;
    if (before[i] !== after[i]) changed.push(i);
  }
  const opening = before.filter((piece) => !piece.startsWith("</"));
  const elements = pieceElements(svg);
  if (elements.length !== opening.length) return false;
  if (changed.length === 0) return true;
  // The element of each piece: pieces that close a group have none.
  const elementOf = new Map();
  for (let i = 0, next = 0; i < before.length; i += 1) {
    if (!before[i].startsWith("</")) elementOf.set(i, elements[next++]);
  }
  // All changed pieces parsed at once, containers as empty groups. The
  // root's own tag is parsed as a group so it does not nest an <svg>.
  const parts = changed.map((i) => {
    const piece = after[i];
    const tag = pieceTag(piece);
    if (tag.startsWith("/")) return "<g></g>";
    if (tag === "svg") return `<g${piece.slice(4)}</g>`;
    return CONTAINERS.has(tag) ? `${piece}</g>` : piece;
  });
  const template = document.createElement("template");
  template.innerHTML = `<svg xmlns="${SVG_NS}">${parts.join("")}</svg>`;
  const parsed = template.content.firstElementChild;
  if (!parsed || parsed.children.length !== changed.length) return false;
  const replacements = [...parsed.children];
  changed.forEach((index, n) => {
    const old = elementOf.get(index);
    const fresh = replacements[n];
    if (!old) return;
    if (CONTAINERS.has(old.localName)) {
      copyAttributes(old, fresh);
    } else {
      old.replaceWith(fresh);
    }
  });
  return true;
}

function copyAttributes(target, source) {
  for (const attribute of [...target.attributes]) {
    if (!source.hasAttributeNS(attribute.namespaceURI, attribute.localName)) target.removeAttributeNode(attribute);
  }
  for (const attribute of source.attributes) {
    if (target.getAttributeNS(attribute.namespaceURI, attribute.localName) !== attribute.value) {
      target.setAttributeNS(attribute.namespaceURI, attribute.name, attribute.value);
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
