// Opens a notebook in Jupyter Notebook (6, the classic UI) with Debian's Chromium, runs its first
// cell as a person would (click it, Shift+Enter) and reports what the page showed, as one JSON
// line on stdout: whether the model's code was on the page while it was being written (before
// the plot), the code shown at the end, the plot's size as the browser decoded it, any error.
//
//   node run_notebook.js URL SCREENSHOT.png [TIMEOUT_MS]
//
// Everything is awaited on a condition of the page with a deadline; nothing sleeps.
"use strict";

const { chromium } = require("playwright-core");

const [url, screenshot, timeoutArg] = process.argv.slice(2);
const timeout = Number(timeoutArg || 120000);

function kernelIdle(page) {
  return page.waitForFunction(
    () => {
      const nb = window.Jupyter && window.Jupyter.notebook;
      return !!(nb && nb.kernel && nb.kernel.is_connected() &&
                document.querySelector("#kernel_indicator_icon.kernel_idle_icon"));
    },
    null,
    { timeout, polling: 100 }
  );
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    // root has no user namespace sandbox for Chromium here; the page is our own notebook
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  const report = { streamed: false, code: "", png: null, errors: [], console: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(timeout);
    page.on("pageerror", (e) => report.errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && report.console.push(m.text()));
    await page.goto(url);
    // the kernel is started, connected and idle, as the notebook itself knows it
    await kernelIdle(page);
    await page.click(".cell.code_cell .input_area");
    await page.keyboard.press("Shift+Enter");

    // While the model writes, its code grows in the cell's output (update_display_data): seen
    // there before the final "attempt 1 of 3" display, it was streamed.
    const output = ".cell.code_cell >> nth=0 >> .output_area";
    await page.waitForFunction(
      () => {
        const area = document.querySelector(".cell.code_cell .output_wrapper");
        if (!area) return false;
        const text = area.innerText || "";
        return text.includes("import matplotlib") || text.includes("attempt 1 of");
      },
      null,
      { timeout, polling: 50 }
    );
    report.streamed = await page.evaluate(() => {
      const area = document.querySelector(".cell.code_cell .output_wrapper");
      const text = area.innerText;
      return text.includes("import matplotlib") && !text.includes("attempt 1 of");
    });

    const img = await page.waitForSelector(`${output} img[src^="data:image/png"]`);
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, img);
    report.png = await img.evaluate((el) => ({ width: el.naturalWidth, height: el.naturalHeight }));
    await kernelIdle(page);
    report.code = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".cell.code_cell .output_markdown pre"))
        .map((e) => e.innerText)
        .join("\n")
    );
    report.outputs = await page.evaluate(
      () => document.querySelector(".cell.code_cell .output_wrapper").innerText
    );
    await img.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot, fullPage: true });
  } catch (e) {
    report.errors.push(String(e && e.stack ? e.stack : e));
    const page = browser.contexts()[0] && browser.contexts()[0].pages()[0];
    if (page) {
      report.page = await page.evaluate(() => document.body.innerText).catch(() => "");
      await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ errors: [String(e && e.stack ? e.stack : e)] }) + "\n");
  process.exit(1);
});
