// End-to-end test of the playground in headless Chromium (Debian's, at
// /usr/bin/chromium; no browser download), driven by playwright-core,
// against `rasp serve web/dist` on a free port of 127.0.0.1.
//
//   node web/tests/browser.mjs        (web/test.sh builds what it needs first)
//
// Environment: RASP_BIN (the rasp binary; default target/release/rasp, else
// target/debug/rasp), CHROMIUM (default /usr/bin/chromium), SCREENSHOT
// (where to save a picture of the page; default web/test-results/page.png).
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
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
console.log(`browser: ${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
