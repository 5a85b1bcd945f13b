// Drives Debian's Chromium through playwright-core for test_browser.py.
//
//   node driver.js '<json config>'
//
// The config names the browser (executable, home), the time limits (stepMs
// for each browser operation, deadlineMs for the whole run) and what the page
// should do (page: the options of page.js's stellwerkRoundTrip). The driver
// serves page.html, page.js and MQTT.js's browser bundle on an ephemeral port
// of 127.0.0.1, opens the page in headless Chromium and runs the round trip.
// It reports on stdout, one JSON object a line:
//   {"event":"subscribed"}            the page may now receive outside messages
//   {"event":"console","text":...}   what the page logged (for failure reports)
//   {"event":"done","ok":true,...}   the page's report; or ok:false with
//                                    error and stage ("launch": Chromium did
//                                    not start; "page": anything later)
// and it exits on its own after deadlineMs whatever happens.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2]);
const repoRoot = path.resolve(__dirname, '..', '..', '..');

// The only files the server hands out: URL path -> [file, content type].
const servedFiles = {
  '/': [path.join(__dirname, 'page.html'), 'text/html; charset=utf-8'],
  '/page.js': [path.join(__dirname, 'page.js'), 'text/javascript; charset=utf-8'],
  '/mqtt.min.js': [path.join(repoRoot, 'node_modules', 'mqtt', 'dist', 'mqtt.min.js'),
                   'text/javascript; charset=utf-8'],
};

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function answer(request, response) {
  const file = servedFiles[request.url];
  if (!file) {
    response.writeHead(404).end();
    return;
  }
  fs.readFile(file[0], (error, body) => {
    if (error) {
      response.writeHead(500).end(String(error));
      return;
    }
    response.writeHead(200, { 'Content-Type': file[1], 'Cache-Control': 'no-store' }).end(body);
  });
}

function startServer() {
  return new Promise((resolve, reject) => {
    const server = http.createServer(answer);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function launchBrowser() {
  return chromium.launch({
    executablePath: config.executable,
    headless: true,
    // As root Chromium refuses to start with its sandbox; the page runs only
    // our own files from 127.0.0.1.
    chromiumSandbox: false,
    timeout: config.launchMs,
    // Chromium reads the certificates it trusts from $HOME/.pki/nssdb.
    env: { ...process.env, HOME: config.home },
  });
}

async function runPage(browser, server) {
  const page = await browser.newPage();
  page.setDefaultTimeout(config.stepMs);
  page.on('console', (message) => emit({ event: 'console', text: message.text() }));
  page.on('pageerror', (error) => emit({ event: 'console', text: `page error: ${error}` }));
  await page.exposeFunction('stellwerkSubscribed', () => emit({ event: 'subscribed' }));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  return page.evaluate((options) => stellwerkRoundTrip(options), config.page);
}

function fail(stage, error) {
  emit({ event: 'done', ok: false, stage, error: String((error && error.message) || error) });
  process.exitCode = 1;
}

async function main() {
  let browser;
  try {
    browser = await launchBrowser();
  } catch (error) {
    fail('launch', error);
    return;
  }
  let server;
  try {
    server = await startServer();
    emit({ event: 'done', ok: true, ...(await runPage(browser, server)) });
  } catch (error) {
    fail('page', error);
  } finally {
    if (server) server.close();
    await browser.close();
  }
}

// The last word if anything above hangs; Playwright closes the browser it
// launched when the process exits.
setTimeout(() => {
  emit({ event: 'done', ok: false, error: `driver timed out after ${config.deadlineMs} ms` });
  process.exit(1);
}, config.deadlineMs).unref();

main();
