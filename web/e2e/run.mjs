// A small runner for the console's browser scenarios: Playwright (core
// only, no bundled browsers) driving the Chromium the machine has.
//
//   node run.mjs SCENARIO.mjs...
//
// Environment:
//   CANOPY_URL     the console's base URL, e.g. http://127.0.0.1:8080 (required)
//   CANOPY_SIGNIN  a one-time sign-in link the server printed (optional)
//   CANOPY_TOKEN   an API token for the sign-in form (optional)
//   CANOPY_SHOTS   folder for screenshots (default: ./shots)
//   CHROMIUM       the Chromium binary (required)
//
// Each scenario module exports
//   async function run({browser, base, signin, token, shots, step, timeout, problems})
// and calls `await step(name, async () => {...})` for each named step. A
// step prints "ok NAME" or "FAIL NAME: ERROR" (and writes FAIL-NAME.png of
// the page last opened); the first failure ends its scenario. The runner
// exits 1 if any step failed, 2 on bad usage.
//
// Every context the scenarios open through `browser` gets default
// timeouts of `timeout` ms for actions, waits and navigations, so a broken
// page fails instead of hanging; requests to any origin other than
// CANOPY_URL's are blocked (the console must embed everything it loads)
// and counted in problems(), with uncaught page errors and failed script
// and stylesheet loads.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const TIMEOUT = 15_000; // one action, wait or navigation
const STEP_TIMEOUT = 90_000; // one whole step

function usage(msg) {
  console.error(`run.mjs: ${msg}`);
  console.error('usage: CANOPY_URL=… CHROMIUM=… node run.mjs SCENARIO.mjs...');
  process.exit(2);
}

const scenarios = process.argv.slice(2);
if (scenarios.length === 0) usage('no scenario given');
const env = process.env;
if (!env.CANOPY_URL) usage('CANOPY_URL is not set');
if (!env.CHROMIUM) usage('CHROMIUM is not set');
let base;
try {
  base = new URL(env.CANOPY_URL);
} catch (e) {
  usage(`CANOPY_URL ${JSON.stringify(env.CANOPY_URL)}: ${e.message}`);
}
const baseURL = base.href.replace(/\/+$/, '');
const shots = resolve(env.CANOPY_SHOTS || 'shots');
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: env.CHROMIUM,
  headless: true,
  timeout: 60_000,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
    '--disable-default-apps', '--disable-sync', '--no-first-run', '--metrics-recording-only',
    '--disable-features=Translate,OptimizationHints,MediaRouter'],
});

// what went wrong in pages outside the steps' own checks
const found = [];
const pages = []; // every page opened, in order

function watch(context) {
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  context.on('page', (page) => {
    pages.push(page);
    page.on('pageerror', (err) => found.push(`uncaught error on ${page.url()}: ${err.message}`));
    page.on('dialog', (d) => d.accept().catch(() => {})); // hx-confirm and the like
    page.on('response', (resp) => {
      const type = resp.request().resourceType();
      if (resp.status() >= 400 && (type === 'script' || type === 'stylesheet')) {
        found.push(`${type} ${resp.url()} answered ${resp.status()}`);
      }
    });
  });
  return context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseURL + '/') || url === baseURL || url.startsWith('data:') || url.startsWith('blob:')) {
      return route.continue();
    }
    found.push(`request to another origin blocked: ${url}`);
    return route.abort('blockedbyclient');
  });
}

// contexts and pages made through the browser are watched
const newContext = browser.newContext.bind(browser);
browser.newContext = async (options = {}) => {
  const ctx = await newContext({ locale: 'en-US', viewport: { width: 1366, height: 900 }, ...options });
  await watch(ctx);
  return ctx;
};
browser.newPage = async (options = {}) => {
  const ctx = await browser.newContext(options);
  return ctx.newPage();
};

let passed = 0;
let failed = 0;

class StepFailed extends Error {}

function fileName(name) {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function step(name, fn) {
  try {
    await withDeadline(Promise.resolve().then(fn), STEP_TIMEOUT, `step ${name}`);
    passed++;
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    // Playwright's messages carry a call log: keep its first lines
    const lines = String(err instanceof Error ? err.message : err).split('\n').slice(0, 12);
    const open = pages.filter((p) => !p.isClosed());
    const last = open[open.length - 1];
    let where = '';
    if (last) {
      where = ` (page ${last.url()})`;
      const file = join(shots, `FAIL-${fileName(name)}.png`);
      try {
        await last.screenshot({ path: file, fullPage: true, timeout: TIMEOUT });
        lines.push(`screenshot: ${file}`);
      } catch (e) {
        lines.push(`no screenshot: ${e.message.split('\n')[0]}`);
      }
    }
    for (const f of found) lines.push(`seen in the pages: ${f}`);
    console.log(`FAIL ${name}: ${lines[0]}${where}`);
    for (const l of lines.slice(1)) if (l.trim()) console.log(`    ${l}`);
    throw new StepFailed(name);
  }
}

for (const file of scenarios) {
  let mod;
  try {
    mod = await import(pathToFileURL(resolve(file)).href);
  } catch (err) {
    failed++;
    console.log(`FAIL ${file}: cannot load: ${err.message}`);
    continue;
  }
  if (typeof mod.run !== 'function') {
    failed++;
    console.log(`FAIL ${file}: exports no run function`);
    continue;
  }
  try {
    await mod.run({
      browser, base: baseURL, signin: env.CANOPY_SIGNIN || '', token: env.CANOPY_TOKEN || '', shots, step,
      timeout: TIMEOUT, problems: () => found.slice(),
    });
  } catch (err) {
    if (!(err instanceof StepFailed)) {
      failed++;
      console.log(`FAIL ${file}: ${String(err && err.message || err).split('\n')[0]}`);
    }
  } finally {
    for (const ctx of browser.contexts()) await ctx.close().catch(() => {});
  }
}

await browser.close().catch(() => {});
console.log(`steps: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
