// SPDX-License-Identifier: MIT
// Shared pieces of the browser tests: talking to run_browser.py (which owns
// every process), launching Debian's chromium through playwright-core, and
// waiting with timeouts generous enough for the sanitizer build of the hub.

import {createInterface} from 'node:readline';
import {chromium} from 'playwright-core';

const lines = createInterface({input: process.stdin});
const waiting = [];
lines.on('line', (line) => {
  const w = waiting.shift();
  if (w) w(JSON.parse(line));
});

/**
 * Ask run_browser.py to do something (start a hub, replay a capture...).
 * Throws when it failed.
 */
export function ctl(cmd, args = {}) {
  return new Promise((resolve, reject) => {
    waiting.push((a) => (a.ok ? resolve(a.result) : reject(new Error(`${cmd}: ${a.error}`))));
    process.stdout.write('@@ctl ' + JSON.stringify({cmd, args}) + '\n');
  });
}

/** Seconds every wait may take: the ASan hub is slower. */
export const TIMEOUT = Number(process.env.NDL_BROWSER_TIMEOUT || 60) * 1000;

let failures = 0;
let checks = 0;

/** One assertion: print it, count it. */
export function check(ok, what, detail) {
  checks++;
  if (ok) {
    console.log(`ok ${checks} - ${what}`);
  } else {
    failures++;
    console.log(`not ok ${checks} - ${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
  }
  return ok;
}

export function log(...a) {
  console.log('#', ...a);
}

/** Launch chromium headless: never downloads a browser. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.NDL_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
    timeout: TIMEOUT,
  });
}

/**
 * Wait until fn (run in the page, with arg) returns a truthy value; returns
 * it. On timeout, records a failed check named what and returns null.
 */
export async function waitIn(page, what, fn, arg, timeout = TIMEOUT) {
  try {
    const h = await page.waitForFunction(fn, arg, {timeout, polling: 100});
    const v = await h.jsonValue();
    check(true, what);
    return v;
  } catch (e) {
    check(false, what, String(e.message || e).split('\n')[0]);
    return null;
  }
}

/** Collect the page's uncaught errors and console errors. */
export function watchPage(page, errors) {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url || 'no URL'})`);
  });
}

/** Run the test body; print the summary and exit non-zero on any failure. */
export async function main(body) {
  let browser = null;
  try {
    browser = await launch();
    await body(browser);
  } catch (e) {
    failures++;
    console.log(`not ok - the test stopped: ${e.stack || e}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  console.log(`# ${checks} checks, ${failures} failed`);
  process.exit(failures || checks === 0 ? 1 : 0);
}
