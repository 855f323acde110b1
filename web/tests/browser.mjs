// End-to-end test of the playground in headless Chromium (Debian's, at
// /usr/bin/chromium; no browser download), driven by playwright-core,
// against `rasp serve web/dist` on a free port of 127.0.0.1.
//
//   node web/tests/browser.mjs        (web/test.sh builds what it needs first)
//   node web/tests/browser.mjs --bench
//       instead of the checks, times redraws of the paper's programs on
//       16-token inputs and prints a table (web/test.sh --bench). Speed is
//       reported, never asserted: a loaded machine is slower.
//
// Environment: RASP_BIN (the rasp binary; default target/release/rasp, else
// target/debug/rasp), CHROMIUM (default /usr/bin/chromium), SCREENSHOT
// (where to save a picture of the page; default web/test-results/page.png).
import { chromium } from "playwright-core";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(web, "..");
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, "target");
const raspBin =
  process.env.RASP_BIN ??
  [join(targetDir, "release/rasp"), join(targetDir, "debug/rasp")].find((p) => existsSync(p));
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const screenshot = process.env.SCREENSHOT ?? join(web, "test-results/page.png");
if (!raspBin) throw new Error("no rasp binary: build it (cargo build -p rasp-cli) or set RASP_BIN");

const REVERSE = readFileSync(join(root, "examples/reverse.rasp"), "utf8");
const EXAMPLE_LINE = 'Example: reverse("hello") = [o, l, l, e, h] (strings)';

// ---- the server ----------------------------------------------------------------
function serve() {
  return new Promise((resolve, reject) => {
    const child = spawn(raspBin, ["serve", join(web, "dist"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const match = seen.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (match) resolve({ child, url: match[0] });
    });
    child.on("exit", (code) => reject(new Error(`rasp serve exited (${code}): ${seen}`)));
  });
}

// ---- the checks ------------------------------------------------------------------
let failures = 0;
let passed = 0;
const results = [];
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    passed += 1;
    results.push(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures += 1;
    results.push(`FAIL ${name}: ${error.message.split("\n").slice(0, 6).join("\n     ")}`);
  }
  console.log(results[results.length - 1]);
}

function link(base, code, input) {
  return `${base}?code=${encodeURIComponent(code)}&input=${encodeURIComponent(input)}`;
}

async function replaceProgram(page, text) {
  await page.click(".cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  // insertText types it at once (typing would auto-close brackets).
  await page.keyboard.insertText(text);
}

// ---- the bench -----------------------------------------------------------------
// The paper's programs, each with two 16-token inputs: an input edit
// switches between them, so every edit changes the drawing.
const BENCH = [
  ["reverse", "reverse.rasp", "abcdefghijklmnop", "ponmlkjihgfedcba"],
  ["histogram", "histogram.rasp", "abracadabrazebra", "zebraabracadabra"],
  ["sort", "sort.rasp", "§pmjdhgbfceaolkn", "§abcdefghijklmno"],
  ["most frequent", "most_frequent.rasp", "§abbcbccdadbcaab", "§aabbbccccdddddc"],
  ["Dyck", "dyck.rasp", "({[]})(){[()]}[]", "({[]})(){[()]}[)"],
];
const BENCH_EDITS = 9;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Makes one edit (`edit` returns when it is typed) and waits until its
// drawing is on the screen; returns the page's record of where the time went.
async function timedEdit(page, edit) {
  const before = Number(await page.evaluate(() => document.body.dataset.redraws ?? 0));
  await edit();
  await page.waitForFunction((n) => Number(document.body.dataset.redraws ?? 0) > n, before);
  return page.evaluate(() => {
    const data = document.body.dataset;
    const svg = document.querySelector("#drawing svg");
    return {
      wait: Number(data.lastWaitMs),
      run: Number(data.lastRunMs),
      transfer: Number(data.lastTransferMs),
      output: Number(data.lastOutputMs),
      place: Number(data.lastPlaceMs),
      placed: Number(data.lastRedrawMs),
      painted: Number(data.lastPaintedMs),
      placement: data.lastPlacement,
      sent: Number(data.lastSentBytes) / 1024,
      changed: Number(data.lastChanged),
      phases: JSON.parse(data.lastPhases || "{}"),
      elements: svg ? svg.querySelectorAll("*").length + 1 : 0,
    };
  });
}

async function bench(page, url) {
  const rows = [];
  for (const [name, file, first, second] of BENCH) {
    const code = readFileSync(join(root, "examples", file), "utf8");
    await page.goto(link(url, code, first));
    await page.waitForFunction(() => Number(document.body.dataset.redraws ?? 0) >= 1);
    const svgBytes = await page.evaluate(() => document.body.dataset.lastSvgBytes);
    for (const [kind, edit] of [
      ["input", (i) => page.fill("#input", i % 2 ? first : second)],
      [
        "program",
        async (i) => {
          await page.click(".cm-content");
          await page.keyboard.press("Control+End");
          await page.keyboard.press(i % 2 ? "Backspace" : "Space");
        },
      ],
    ]) {
      const samples = [];
      for (let i = 0; i < BENCH_EDITS; i += 1) samples.push(await timedEdit(page, () => edit(i)));
      const mid = (key) => median(samples.map((s) => s[key])).toFixed(1);
      // The phases rasp-web timed, then the rest of the worker's run:
      // making the answer's JSON, handing it to JavaScript, freeing the
      // program and the drawing.
      const rest = samples.map((s) => s.run - Object.values(s.phases).reduce((a, b) => a + b, 0));
      const phases = Object.keys(samples[0].phases)
        .map((phase) => `${phase} ${median(samples.map((s) => s.phases[phase])).toFixed(1)}`)
        .concat([`rest ${median(rest).toFixed(1)}`])
        .join(", ");
      rows.push(
        `| ${name} | ${kind} | ${svgBytes ? (Number(svgBytes) / 1024).toFixed(0) : "?"} KB, ${samples[0].elements} | ` +
          `${mid("sent")} KB, ${median(samples.map((s) => s.changed))} | ` +
          `${mid("wait")} | ${mid("run")} (${phases}) | ${mid("transfer")} | ${mid("output")} | ` +
          `${mid("place")} (${[...new Set(samples.map((s) => s.placement))].join(", ")}) | ` +
          `**${mid("placed")}** | ${mid("painted")} (max ${Math.max(...samples.map((s) => s.painted))}) |`,
      );
      console.log(rows[rows.length - 1]);
    }
  }
  console.log(`\nMedians of ${BENCH_EDITS} edits each, in ms; 16-token inputs; ${new Date().toISOString()}`);
  console.log(
    "| program | edit | SVG | sent | wait | worker run (phases) | transfer | output | place SVG | placed after edit | painted after edit |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
}

const benchMode = process.argv.includes("--bench");
// Checks that the drawing on the page is the SVG `text` (read by the XML
// parser): the same elements, attributes and texts in the same order.
async function sameDrawing(page, text) {
  const found = await page.evaluate((text) => {
    const want = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    const have = document.querySelector("#drawing svg");
    const describe = (node) =>
      node.nodeType === Node.TEXT_NODE
        ? `text ${JSON.stringify(node.data)}`
        : `${node.namespaceURI} ${node.localName} ` +
          [...node.attributes].map((a) => `${a.namespaceURI ?? ""}:${a.localName}=${a.value}`).sort().join(" ");
    const walk = (root) => {
      const out = [];
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
      for (let node = walker.currentNode; node; node = walker.nextNode()) out.push(describe(node));
      return out;
    };
    const [a, b] = [walk(want), walk(have)];
    const differs = a.findIndex((line, i) => line !== b[i]);
    return {
      difference:
        a.length !== b.length || differs >= 0 ? `${a[differs]} / ${b[differs]} (${a.length} / ${b.length} nodes)` : null,
      cells: have.querySelectorAll("rect.cell").length,
      tips: have.querySelectorAll("rect.cell > title").length,
    };
  }, text);
  if (found.difference) throw new Error(`the page's drawing differs: ${found.difference}`);
  return found;
}

const { child: server, url } = await serve();
const profile = mkdtempSync(join(tmpdir(), "rasp-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  viewport: { width: 1400, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on("pageerror", (error) => consoleErrors.push(String(error)));
page.setDefaultTimeout(20000);

try {
  if (benchMode) {
    await bench(page, url);
  } else {
    await check("a ?code= link runs the program on its input and draws its last s-op", async () => {
      const opened = Date.now();
      await page.goto(link(url, REVERSE, "hello"));
      await page.waitForFunction((line) => document.getElementById("repl").textContent.includes(line), EXAMPLE_LINE);
      await page.waitForSelector("#drawing svg");
      const counts = await page.textContent("#counts");
      if (!counts.includes("reverse: 2 layers, 2 heads")) throw new Error(`counts: ${counts}`);
      if ((await page.inputValue("#sop")) !== "reverse") throw new Error("reverse is not the selected s-op");
      const first = await page.evaluate(() => document.body.dataset.firstDrawingMs);
      console.log(`     first drawing ${first} ms after the page's script started; ${Date.now() - opened} ms after navigation`);
    });

    await check("editing the program changes the drawing", async () => {
      const before = await page.innerHTML("#drawing");
      await replaceProgram(page, `${REVERSE}\ndoubled = reverse_of(indices) * 2;\n`);
      await page.waitForFunction(() => document.getElementById("counts").textContent.startsWith("doubled:"));
      await page.waitForFunction(
        (old) => document.querySelector("#drawing svg") && document.getElementById("drawing").innerHTML !== old,
        before,
      );
      const output = await page.textContent("#repl");
      if (!output.includes('Example: doubled("hello") = [8, 6, 4, 2, 0] (ints)')) throw new Error(output);
    });

    await check("the input box is the running example", async () => {
      await page.fill("#input", "abc");
      await page.waitForFunction(() =>
        document.getElementById("repl").textContent.includes('Example: doubled("abc") = [4, 2, 0] (ints)'),
      );
      if (!page.url().includes("input=abc")) throw new Error(`the link does not follow: ${page.url()}`);
    });

    await check("a syntax error shows at its line", async () => {
      await replaceProgram(page, "a = tokens;\nb = indices + 1;\nc = 3 +;\n");
      await page.waitForSelector(".cm-lintRange-error");
      const errors = await page.textContent("#errors");
      if (!errors.includes("--> program.rasp:3:8")) throw new Error(errors);
      const marked = await page.evaluate(() => {
        const range = document.querySelector(".cm-lintRange-error");
        const line = range.closest(".cm-line");
        return [...document.querySelectorAll(".cm-content .cm-line")].indexOf(line) + 1;
      });
      if (marked !== 3) throw new Error(`the error is marked on line ${marked}`);
    });

    await check("infinite recursion ends with a message and the page stays usable", async () => {
      await replaceProgram(page, "def f(n) { return f(n); }\nf(1);\n");
      await page.waitForFunction(() => {
        const text = document.getElementById("errors").textContent + document.getElementById("notice").textContent;
        return /maximum recursion depth|Time limit|too deeply/.test(text);
      });
      const said = await page.evaluate(
        () => (document.getElementById("errors").textContent || document.getElementById("notice").textContent).split("\n")[0],
      );
      console.log(`     said: ${said}`);
      await page.fill("#input", "hello");
      await replaceProgram(page, REVERSE);
      await page.waitForFunction((line) => document.getElementById("repl").textContent.includes(line), EXAMPLE_LINE);
    });

    await check("a runaway loop hits the time limit, the worker restarts", async () => {
      const loop = "def g(n) {\n  s = 0;\n  for i in range(n) { for j in range(n) { s = s + 1; } }\n  return s;\n}\nx = g(100000);\n";
      const started = Date.now();
      await replaceProgram(page, loop);
      await page.waitForFunction(() => document.getElementById("notice").textContent.includes("Time limit"), null, {
        timeout: 30000,
      });
      const stoppedAfter = Date.now() - started;
      // The page answered during the runaway: typing still edits.
      await replaceProgram(page, REVERSE);
      await page.waitForFunction((line) => document.getElementById("repl").textContent.includes(line), EXAMPLE_LINE);
      console.log(`     stopped after ${stoppedAfter} ms`);
    });

    await check("an example is one click away", async () => {
      await page.click('button[data-example="sort"]');
      await page.waitForFunction(() =>
        document.getElementById("repl").textContent.includes('Example: sort_bos("§dbca") = [§, a, b, c, d] (strings)'),
      );
      await page.waitForSelector("#drawing svg");
    });

    await check("the drawing on the page is rasp draw's SVG, node for node, placed whole or patched", async () => {
      // The page places the SVG with the HTML parser, or changes only the
      // elements that differ from the drawing before; `rasp draw` writes
      // the same picture as a file, read here with the XML parser.
      const first = "ponmlkjihgfedcba";
      const second = "abcdefghijklmnop";
      const drawn = (input) => {
        const file = join(profile, "reverse.svg");
        execFileSync(raspBin, ["draw", "--sop", "reverse", join(root, "examples/reverse.rasp"), "--input", input, "-o", file]);
        return readFileSync(file, "utf8");
      };
      await page.goto(link(url, REVERSE, first));
      await page.waitForFunction(() => Number(document.body.dataset.redraws ?? 0) >= 1);
      const placements = [await page.evaluate(() => document.body.dataset.lastPlacement)];
      await sameDrawing(page, drawn(first));
      const before = await page.evaluate(() => Number(document.body.dataset.redraws));
      await page.fill("#input", second);
      await page.waitForFunction((n) => Number(document.body.dataset.redraws) > n, before);
      placements.push(await page.evaluate(() => document.body.dataset.lastPlacement));
      const found = await sameDrawing(page, drawn(second));
      if (placements.join() !== "replaced,patched") throw new Error(`placed: ${placements}`);
      // reverse has 2 heads (analysis: 2 layers, 2 heads), each a 16 × 16
      // grid, each cell with its hover text.
      if (found.cells !== 2 * 16 * 16 || found.tips !== found.cells) throw new Error(JSON.stringify(found));
    });

    await check("an edit that keeps the drawing keeps it on the page; one that changes it changes it", async () => {
      await page.evaluate(() => {
        document.querySelector("#drawing svg").dataset.mark = "placed before";
      });
      const redraws = () => page.evaluate(() => Number(document.body.dataset.redraws ?? 0));
      let before = await redraws();
      await page.click(".cm-content");
      await page.keyboard.press("Control+End");
      await page.keyboard.insertText("\n# a comment\n");
      await page.waitForFunction((n) => Number(document.body.dataset.redraws ?? 0) > n, before);
      const kept = await page.evaluate(() => [
        document.querySelector("#drawing svg").dataset.mark,
        document.body.dataset.lastPlacement,
      ]);
      if (kept.join() !== "placed before,kept") {
        throw new Error(`an edit that did not change the drawing placed it again: ${kept}`);
      }
      before = await redraws();
      await page.fill("#input", "abc");
      await page.waitForFunction((n) => Number(document.body.dataset.redraws ?? 0) > n, before);
      const label = await page.evaluate(() => {
        const svg = document.querySelector("#drawing svg");
        return svg.dataset.mark ? null : svg.getAttribute("aria-label");
      });
      if (!label || !label.includes('reverse("abc")')) throw new Error(`the drawing was not replaced: ${label}`);
      // Where the time went is recorded for every redraw (the bench prints it).
      const phases = await page.evaluate(() => Object.keys(JSON.parse(document.body.dataset.lastPhases)));
      for (const phase of ["session", "program", "layout", "svg"]) {
        if (!phases.includes(phase)) throw new Error(`no ${phase} in the phases: ${phases}`);
      }
    });

    for (const [name, file, sop, first, second] of [
      ["Dyck drawing (text spans, xml:space, 6,000 elements)", "dyck.rasp", "dyck3", "({[]})(){[()]}[]", "({[]})(){[()]}[)"],
      ["most frequent drawing (1,300 of 4,000 elements changed)", "most_frequent.rasp", "sort_by_most_freq_bos", "§abbcbccdadbcaab", "§aabbbccccdddddc"],
    ]) {
      await check(`a patched ${name} is rasp draw's SVG too`, async () => {
        const code = readFileSync(join(root, "examples", file), "utf8");
        const svgFile = join(profile, "patched.svg");
        execFileSync(raspBin, ["draw", "--sop", sop, join(root, "examples", file), "--input", second, "-o", svgFile]);
        await page.goto(link(url, code, first));
        await page.waitForFunction(() => Number(document.body.dataset.redraws ?? 0) >= 1);
        const before = await page.evaluate(() => Number(document.body.dataset.redraws));
        await page.fill("#input", second);
        await page.waitForFunction((n) => Number(document.body.dataset.redraws) > n, before);
        const placement = await page.evaluate(() => document.body.dataset.lastPlacement);
        if (placement !== "patched") throw new Error(`placed: ${placement}`);
        await sameDrawing(page, readFileSync(svgFile, "utf8"));
      });
    }

    await check("the paper's programs redraw quickly on 16-token inputs", async () => {
      const timings = [];
      for (const [example, input] of [
        ["sort", "§pmjdhgbfceaolkn"],
        ["most frequent", "§abbcbccdadbcaab"],
        ["Dyck", "({[]})(){[()]}[]"],
        ["histogram", "abracadabrazebra"],
      ]) {
        await page.click(`button[data-example="${example}"]`);
        await page.waitForSelector("#drawing svg");
        const before = await page.innerHTML("#drawing");
        const started = Date.now();
        await page.fill("#input", input);
        await page.waitForFunction(
          (old) => document.getElementById("drawing").innerHTML !== old && !document.getElementById("drawing").classList.contains("stale"),
          before,
        );
        const elapsed = Date.now() - started;
        const status = await page.textContent("#status");
        timings.push(`${example}: ${status} (${elapsed} ms as the test saw it)`);
      }
      console.log(`     ${timings.join("\n     ")}`);
    });

    await check("Compile reports 0 mismatches for reverse and shows its attention", async () => {
      await page.click('button[data-example="reverse"]');
      await page.waitForFunction((line) => document.getElementById("repl").textContent.includes(line), EXAMPLE_LINE);
      await page.fill("#vocab", "ehlo");
      await page.fill("#maxlen", "5");
      await page.click("#compile");
      await page.waitForFunction(() => !document.getElementById("compile-verify").hidden, null, { timeout: 30000 });
      const verify = await page.textContent("#compile-verify");
      if (!/mismatches: 0 of \d+ inputs/.test(verify)) throw new Error(verify);
      const summary = await page.textContent("#compile-summary");
      if (!summary.startsWith("reverse: compiled size d_model")) throw new Error(summary);
      await page.waitForSelector("#attention svg");
    });

    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`     screenshot: ${screenshot}`);
  }
  if (consoleErrors.length) {
    failures += 1;
    console.log(`FAIL errors in the page: ${consoleErrors.join("; ")}`);
  }
} finally {
  await context.close();
  server.kill();
  rmSync(profile, { recursive: true, force: true });
}

// The plain closing line CI tools read: counts of checks.
if (benchMode) process.exit(failures ? 1 : 0);
console.log(`browser: ${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
