// The chat page over https://, in Debian's chromium: a node with
// --tls-cert/--tls-key serves the page, and the page connects back with
// wss:// (web/app.js picks the scheme from location.protocol).
//
//   node https_page.test.mjs --node build/chat-node \
//        --artifacts build/browser-artifacts
//
// The certificate is made here with Debian's openssl (a CA and a leaf for
// localhost); chromium is told to trust exactly that key (its SPKI hash),
// not to ignore certificate errors in general. Every wait is bounded.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    node: { type: 'string' },
    artifacts: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const required of ['node', 'artifacts'])
  if (!opts[required]) throw new Error(`missing --${required}`);

const WAIT_MS = 5000;
const WATCHDOG_MS = 60000;

setTimeout(() => {
  console.error(`https page test: watchdog fired after ${WATCHDOG_MS} ms`);
  cleanup().finally(() => process.exit(2));
}, WATCHDOG_MS).unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(what, probe, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const openssl = (dir, ...args) =>
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30000 });

// A CA, a certificate for localhost signed by it, and the leaf key's SPKI
// hash (what --ignore-certificate-errors-spki-list takes).
async function makeCertificate(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '2', '-subj', '/CN=chat browser test CA');
  openssl(dir, 'req', ...ec, '-keyout', 'key.pem', '-out', 'req.csr',
    '-subj', '/CN=localhost');
  await writeFile(path.join(dir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(dir, 'x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey',
    'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '2',
    '-extfile', 'san.ext');
  const spki = openssl(dir, 'pkey', '-in', 'key.pem', '-pubout', '-outform',
    'der');
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(spki).digest('base64');
}

let dir, node, browser;
const pageErrors = [];

function startNode() {
  const proc = spawn(opts.node, ['--host=127.0.0.1', '--port=0',
    `--tls-cert=${path.join(dir, 'cert.pem')}`,
    `--tls-key=${path.join(dir, 'key.pem')}`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node did not start')),
      10000);
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /chat-node listening on wss:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.on('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  browser = null;
  if (node && node.proc.exitCode === null) node.proc.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
}

const received = (page) =>
  page.$$eval('#log li.in', (items) => items.map((li) => li.textContent));

async function openPage(port, id) {
  const page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
  });
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`https://localhost:${port}/`);
  await eventually(`You are Client ${id}`,
    async () => (await received(page)).includes(`You are Client ${id}`));
  return { page, sockets };
}

before(async () => {
  await mkdir(opts.artifacts, { recursive: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'chat-https-page-'));
  const spki = await makeCertificate(dir);
  node = await startNode();
  browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-quic', `--ignore-certificate-errors-spki-list=${spki}`],
  });
});

after(cleanup);

test('over https the page connects with wss and chats', async () => {
  const a = await openPage(node.port, 1);
  const b = await openPage(node.port, 2);
  assert.equal(await a.page.evaluate(() => location.protocol), 'https:');
  assert.deepEqual(a.sockets, [`wss://localhost:${node.port}/`]);
  assert.deepEqual(b.sockets, [`wss://localhost:${node.port}/`]);
  await a.page.fill('#line', 'sent over wss');
  await a.page.press('#line', 'Enter');
  await eventually('the line on the other page', async () =>
    (await received(b.page)).some((l) => /^\d+ sent over wss$/.test(l)));
  await b.page.screenshot({ path: path.join(opts.artifacts,
    'https-page.png') });
  assert.deepEqual(pageErrors, []);
});
