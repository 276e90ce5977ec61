// Opens a mixmaster report in Debian's headless Chromium (driven by
// playwright-core; no browser is downloaded) and prints, as JSON, what a
// reader would see: console errors, page errors, requests that left the
// file, every plot with its axes and data paths, and the screenshot taken.
//
// Usage: node check_report.mjs REPORT.html SCREENSHOT.png
// The browser is $CHROMIUM, else /usr/bin/chromium.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { statSync } from "node:fs";

const [report, screenshot] = process.argv.slice(2);
if (!report || !screenshot) {
  console.error("usage: node check_report.mjs REPORT.html SCREENSHOT.png");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Root in a container has no user namespaces for the sandbox; the rest
  // keep Chromium from reaching for Google's services on a closed network.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const result = { consoleErrors: [], pageErrors: [], external: [], plots: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") result.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => result.pageErrors.push(String(e)));
  const url = pathToFileURL(report).href;
  page.on("request", (r) => {
    if (r.url() !== url) result.external.push(r.url());
  });
  await page.goto(url, { waitUntil: "load" });
  result.title = await page.title();
  result.plots = await page.evaluate(() =>
    [...document.querySelectorAll("svg.plot")].map((svg) => {
      const box = svg.getBoundingClientRect();
      const axis = (cls) => {
        const g = svg.querySelector(`g.${cls}`);
        if (!g) return null;
        return {
          ticks: [...g.querySelectorAll("text:not(.axis-label)")].map((t) => t.textContent),
          label: g.querySelector("text.axis-label")?.textContent ?? "",
        };
      };
      const paths = [...svg.querySelectorAll("path.data")].map((p) => {
        // Count the drawn vertices from the path data itself (every
        // M/L/V command is one point), not from the attribute we wrote.
        const d = p.getAttribute("d") || "";
        const vertices = (d.match(/[MLV]/g) || []).length;
        const r = p.getBoundingClientRect();
        return {
          name: p.getAttribute("data-name"),
          declared: Number(p.getAttribute("data-points")),
          vertices,
          length: p.getTotalLength(),
          width: r.width,
          height: r.height,
        };
      });
      return {
        id: svg.id,
        width: box.width,
        height: box.height,
        x: axis("x-axis"),
        y: axis("y-axis"),
        paths,
      };
    }),
  );
  await page.screenshot({ path: screenshot, fullPage: true });
  result.screenshot = { path: screenshot, bytes: statSync(screenshot).size };
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
