// End-to-end: the chat page served by chat-node, in Debian's chromium driven
// by playwright-core, next to the challenge's reference terminal client.
//
//   node chat_page.test.mjs --node build/chat-node \
//        --reference-client tests/e2e/reference_client.py \
//        --artifacts build/browser-artifacts
//
// One node on an ephemeral port on 127.0.0.1, two browser pages (Client 1
// and 2) and the reference client (Client 3). The steps share that one
// session, in order; /healthz and /metrics are checked against what the
// steps did. Screenshots go to --artifacts. Every wait is bounded.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    node: { type: 'string' },
    'reference-client': { type: 'string' },
    artifacts: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const required of ['node', 'reference-client', 'artifacts'])
  if (!opts[required]) throw new Error(`missing --${required}`);

const WAIT_MS = 5000; // any single expectation; loopback answers in ms
const PAGE_INTERVAL_MS = 500; // --page-interval, to keep the test short
const WATCHDOG_MS = 150000; // the whole run, whatever hangs

// The flags this machine needs: no background traffic, no sandbox as root.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

setTimeout(() => {
  console.error(`browser test: watchdog fired after ${WATCHDOG_MS} ms`);
  cleanup().finally(() => process.exit(2));
}, WATCHDOG_MS).unref();

// ---------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it returns a truthy value; fails after `ms`.
async function eventually(what, probe, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

// A chat-node process; resolves once it prints its listening line.
function startNode(port = 0) {
  const proc = spawn(opts.node, [
    '--host=127.0.0.1', `--port=${port}`,
    `--page-interval=${PAGE_INTERVAL_MS}ms`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node did not start')),
      10000);
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /chat-node listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), started: Date.now() });
      }
    });
    proc.on('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
}

// Stops a node with SIGTERM; resolves to its exit code.
function stopNode(node) {
  if (node.proc.exitCode !== null) return Promise.resolve(node.proc.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => node.proc.kill('SIGKILL'), 5000);
    node.proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
    node.proc.kill('SIGTERM');
  });
}

// A plain HTTP GET on loopback (node's http ignores proxy variables).
function get(port, target) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target,
      agent: false, timeout: WAIT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode,
        headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${target} timed out`)));
    req.on('error', reject);
  });
}

// Sends raw bytes, resolves to the first line the server answers.
function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.setTimeout(WAIT_MS, () => socket.destroy(new Error('no answer')));
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) {
        resolve(data.slice(0, data.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

// Prometheus text -> { name: value }, checking HELP and TYPE lines on the way.
function parseMetrics(text) {
  const values = {};
  const help = {};
  const type = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = /^# HELP (\w+) (.+)$/.exec(line))) help[m[1]] = m[2];
    else if ((m = /^# TYPE (\w+) (counter|gauge)$/.exec(line)))
      type[m[1]] = m[2];
    else if ((m = /^(\w+) (\d+)$/.exec(line))) values[m[1]] = Number(m[2]);
    else throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
  }
  for (const name of Object.keys(values)) {
    assert.ok(help[name], `HELP for ${name}`);
    assert.equal(type[name], name.endsWith('_total') ? 'counter' : 'gauge');
  }
  return { values, help };
}

async function metrics(port) {
  const res = await get(port, '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.body);
}

// The reference terminal client as a subprocess: types lines, collects
// every frame it prints as `< frame`.
function startReferenceClient(port) {
  const proc = spawn(opts.python, [opts['reference-client'],
    `ws://127.0.0.1:${port}/`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = { proc, frames: [], typed: 0, buffer: '' };
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    client.buffer += chunk;
    let nl;
    while ((nl = client.buffer.indexOf('\n')) >= 0) {
      let line = client.buffer.slice(0, nl);
      client.buffer = client.buffer.slice(nl + 1);
      while (line.startsWith('> ')) line = line.slice(2); // prompts
      if (line.startsWith('< ')) client.frames.push(line.slice(2));
    }
  });
  client.type = (line) => {
    client.typed += 1;
    proc.stdin.write(line + '\n');
  };
  return client;
}

// What a page shows: lines received (`in`), typed (`out`) and its state.
const received = (page) =>
  page.$$eval('#log li.in', (items) => items.map((li) => li.textContent));
const typedCount = (page) => page.locator('#log li.out').count();
const stateOf = (page) => page.getAttribute('#state', 'data-state');

async function seen(page, line) {
  return eventually(`${JSON.stringify(line)} on the page`,
    async () => (await received(page)).includes(line));
}

async function seenMatch(page, pattern) {
  return eventually(`${pattern} on the page`, async () =>
    (await received(page)).find((line) => pattern.test(line)));
}

const count = (lines, line) => lines.filter((l) => l === line).length;

async function type(page, line) {
  await page.fill('#line', line);
  await page.press('#line', 'Enter');
}

// `<S> <text>` as seen by others: S = whole seconds since the sender
// connected, which the test brackets between what it measured.
function checkStamp(line, text, sender, sentAt, receivedAt) {
  const m = /^(\d+) (.*)$/s.exec(line);
  assert.ok(m, `stamped line: ${JSON.stringify(line)}`);
  assert.equal(m[2], text);
  const low = Math.floor((sentAt - sender.connectedHigh) / 1000);
  const high = Math.floor((receivedAt - sender.connectedLow) / 1000);
  const s = Number(m[1]);
  assert.ok(s >= Math.max(0, low) && s <= high,
    `stamp ${s} within [${low}, ${high}]`);
  return s;
}

// ------------------------------------------------------------- the session

let node = null;
let restarted = null;
let context = null;
let userDataDir = null;
let ref = null;
const pages = {}; // a: Client 1, b: Client 2
const who = {}; // connect times, for the stamps
const pageErrors = [];
const expected = { deliveries: 0 };

async function cleanup() {
  if (ref && ref.proc.exitCode === null) ref.proc.kill('SIGKILL');
  if (context) await context.close().catch(() => {});
  context = null;
  for (const n of [node, restarted])
    if (n && n.proc.exitCode === null) n.proc.kill('SIGKILL');
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  userDataDir = null;
}

async function openPage(name, id) {
  const page = name === 'a' && context.pages().length
    ? context.pages()[0] : await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
  page.on('console', (msg) => {
    // Refused reconnects while the node is down are expected; nothing else.
    if (msg.type() === 'error' && !/WebSocket connection/.test(msg.text()))
      pageErrors.push(`${name}: console: ${msg.text()}`);
  });
  const connectedLow = Date.now();
  await page.goto(`http://127.0.0.1:${node.port}/`);
  await seen(page, `You are Client ${id}`);
  who[name] = { connectedLow, connectedHigh: Date.now() };
  pages[name] = page;
  return page;
}

before(async () => {
  await mkdir(opts.artifacts, { recursive: true });
  node = await startNode();
  userDataDir = await mkdtemp(path.join(os.tmpdir(), 'chat-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 900, height: 640 },
  });
});

after(cleanup);

test('the page connects back over WebSocket and shows who you are',
  async () => {
    const a = await openPage('a', 1);
    assert.equal(await stateOf(a), 'connected');
    assert.equal(await a.textContent('#identity'), 'You are Client 1');
    const b = await openPage('b', 2);
    await seen(a, 'Client 2 connected');
    const connectedLow = Date.now();
    ref = startReferenceClient(node.port);
    await eventually('the reference client greeted',
      () => ref.frames.includes('You are Client 3'));
    who.ref = { connectedLow, connectedHigh: Date.now() };
    await seen(a, 'Client 3 connected');
    await seen(b, 'Client 3 connected');
  });

test('/healthz and /metrics count the three sessions', async () => {
  const health = await get(node.port, '/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.headers['content-type'], 'application/json');
  const body = JSON.parse(health.body);
  assert.equal(body.status, 'ok');
  assert.equal(body.sessions, 3);
  assert.ok(Number.isInteger(body.uptime_seconds));
  const alive = Math.ceil((Date.now() - node.started) / 1000);
  assert.ok(body.uptime_seconds <= alive);
  const { values, help } = await metrics(node.port);
  assert.equal(values.chat_sessions_connected, 3);
  assert.equal(values.chat_connections_accepted_total, 3);
  assert.equal(values.chat_connections_refused_total, 0);
  assert.equal(values.chat_frames_received_total, 0);
  assert.equal(values.chat_pages_active, 0);
  assert.equal(values.chat_private_chats_active, 0);
  assert.equal(values.chat_deliveries_total, 0);
  // Nobody was too slow, too fast or silent.
  for (const name of ['chat_slow_consumer_drops_total',
    'chat_rate_limited_clients_total', 'chat_ping_timeouts_total']) {
    assert.equal(values[name], 0);
    assert.ok(help[name]);
  }
  // Two pages loaded: index.html, style.css and app.js each.
  assert.ok(values.chat_http_requests_total >= 6 + 2);
  const again = await metrics(node.port);
  assert.equal(again.values.chat_http_requests_total,
    values.chat_http_requests_total + 1);
});

test('chat goes both ways, stamped with seconds since the sender connected',
  async () => {
    const { a, b } = pages;
    await sleep(1100); // so that every stamp is at least 1
    let sentAt = Date.now();
    await type(a, 'hello from the browser');
    const line = await seenMatch(b, / hello from the browser$/);
    await eventually('the terminal got it', () =>
      ref.frames.some((f) => f.endsWith(' hello from the browser')));
    const s = checkStamp(line, 'hello from the browser', who.a, sentAt,
      Date.now());
    assert.ok(s >= 1);
    assert.ok(ref.frames.includes(line));
    assert.ok(!(await received(a)).includes(line), 'no echo to the sender');
    expected.deliveries += 2;

    sentAt = Date.now();
    ref.type('hi from the terminal');
    const fromRef = await seenMatch(a, / hi from the terminal$/);
    await seen(b, fromRef);
    checkStamp(fromRef, 'hi from the terminal', who.ref, sentAt, Date.now());
    expected.deliveries += 2;

    sentAt = Date.now();
    await type(b, 'and back from page two');
    const fromB = await seenMatch(a, / and back from page two$/);
    checkStamp(fromB, 'and back from page two', who.b, sentAt, Date.now());
    await eventually('the terminal got page two',
      () => ref.frames.includes(fromB));
    expected.deliveries += 2;
  });

test('page sends PAGING every interval until another client types',
  async () => {
    const { a, b } = pages;
    const before = count(await received(b), 'PAGING');
    await a.click('#page');
    await eventually('three PAGING lines on page two', async () =>
      count(await received(b), 'PAGING') >= before + 3);
    assert.ok(!(await b.isHidden('#paging-banner')), 'banner shown');
    assert.ok(count(ref.frames, 'PAGING') >= 2, 'the terminal is paged');
    assert.equal(count(await received(a), 'PAGING'), 0, 'not the pager');
    assert.equal((await metrics(node.port)).values.chat_pages_active, 1);

    // The pager's own line does not stop it.
    await type(a, 'wake up');
    await seenMatch(b, / wake up$/);
    expected.deliveries += 2;
    const going = count(await received(b), 'PAGING');
    await eventually('paging goes on', async () =>
      count(await received(b), 'PAGING') > going, 3 * PAGE_INTERVAL_MS);

    // Another client's line stops it.
    ref.type("I'm up");
    await seenMatch(b, / I'm up$/);
    expected.deliveries += 2;
    await sleep(300); // a PAGING already on the wire may still land
    const atStop = count(await received(b), 'PAGING');
    const refAtStop = count(ref.frames, 'PAGING');
    await sleep(3 * PAGE_INTERVAL_MS);
    assert.equal(count(await received(b), 'PAGING'), atStop, 'page stopped');
    assert.equal(count(ref.frames, 'PAGING'), refAtStop, 'page stopped');
    assert.equal((await metrics(node.port)).values.chat_pages_active, 0);
  });

test('invite and leave: a private chat nobody else can see', async () => {
  const { a, b } = pages;
  await a.fill('#invite-target', '3');
  await a.click('#invite');
  await seen(a, 'Private chatting with Client 3');
  await eventually('the terminal is invited',
    () => ref.frames.includes('Private chatting with Client 1'));
  assert.equal(await a.textContent('#identity'),
    'You are Client 1, in a private chat with Client 3');
  assert.equal((await metrics(node.port)).values.chat_private_chats_active, 1);

  await type(a, 'just between us');
  await eventually('the partner got it',
    () => ref.frames.some((f) => / just between us$/.test(f)));
  ref.type('our secret');
  await seenMatch(a, / our secret$/);
  expected.deliveries += 2;
  await type(b, 'anyone still here?');
  await sleep(300); // time for any leak to show
  const bLines = await received(b);
  assert.ok(!bLines.some((l) => /just between us|our secret/.test(l)));
  assert.ok(!(await received(a)).some((l) => /anyone still here/.test(l)));
  assert.ok(!ref.frames.some((l) => /anyone still here/.test(l)));

  await a.click('#leave');
  await seen(a, 'Private chat ended.');
  await eventually('the partner is told',
    () => ref.frames.includes('Private chat ended.'));
  assert.equal(await a.textContent('#identity'), 'You are Client 1');
  assert.equal((await metrics(node.port)).values.chat_private_chats_active, 0);
});

test('HTML from a client is shown as text and never runs', async () => {
  const { a, b } = pages;
  const script = '<script>window.__pwned = "script"</script>';
  const img = '<img src=x onerror="window.__pwned = \'img\'">';
  ref.type(script);
  ref.type(img);
  await type(b, '<b>bold?</b> & <i>entities</i> &amp;');
  expected.deliveries += 6;
  for (const page of [a, b]) {
    await seenMatch(page, new RegExp(` ${escape(img)}$`));
    await seenMatch(page, new RegExp(` ${escape(script)}$`));
  }
  await seenMatch(a, / <b>bold\?<\/b> & <i>entities<\/i> &amp;$/);
  for (const page of [a, b]) {
    assert.equal(await page.locator('#log img, #log script, #log b, #log i')
      .count(), 0, 'no element made from a line');
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  }
  // The sender's own copy is text too.
  assert.equal(await b.locator('#log li.out').last().textContent(),
    '> <b>bold?</b> & <i>entities</i> &amp;');
  await b.click('#who');
  await seen(b, 'Online: 3');
  await seen(b, 'Client 2 (you)');
  await a.screenshot({ path: path.join(opts.artifacts, 'chat-page-1.png') });
  await b.screenshot({ path: path.join(opts.artifacts, 'chat-page-2.png') });
});

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('the counters match what the clients sent and received', async () => {
  const { a, b } = pages;
  // The node counts a frame when it sends it; wait until the last ones
  // have landed (counters only grow, so a match is final).
  let sent, got, values;
  await eventually('the frame counters to match the clients', async () => {
    sent = (await typedCount(a)) + (await typedCount(b)) + ref.typed;
    got = (await received(a)).length + (await received(b)).length +
      ref.frames.length;
    values = (await metrics(node.port)).values;
    return values.chat_frames_received_total === sent &&
      values.chat_frames_sent_total === got;
  }).catch(() => {});
  assert.equal(values.chat_frames_received_total, sent);
  assert.equal(values.chat_frames_sent_total, got);
  assert.equal(values.chat_deliveries_total, expected.deliveries);
  assert.equal(values.chat_sessions_connected, 3);

  // A 404 is no session; a broken upgrade is a refused connection.
  assert.equal((await get(node.port, '/nope')).status, 404);
  const answer = await rawRequest(node.port,
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
    'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    'Sec-WebSocket-Version: 99\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 426 /); // an unknown version
  const after = (await metrics(node.port)).values;
  assert.equal(after.chat_connections_refused_total, 1);
  assert.equal(after.chat_connections_accepted_total, 3);
  assert.equal(after.chat_http_requests_total,
    values.chat_http_requests_total + 2);
});

test('the page reconnects with backoff when the node comes back', async () => {
  const { a, b } = pages;
  const port = node.port;
  const attempts = []; // when page one opens each new WebSocket
  a.on('websocket', () => attempts.push(Date.now()));
  assert.equal(await stopNode(node), 0, 'the node exits 0 on SIGTERM');
  for (const page of [a, b]) {
    await seen(page, 'Server shutting down');
    await eventually('the page waits to reconnect',
      async () => (await stateOf(page)) === 'waiting');
  }
  assert.match(await a.textContent('#state'), /reconnecting in \d+ s/);
  await a.screenshot({ path: path.join(opts.artifacts, 'reconnecting.png') });
  await eventually('the terminal client exits',
    () => ref.proc.exitCode !== null);

  await sleep(2500); // let two retries fail: the backoff has to grow
  restarted = await startNode(port);
  for (const page of [a, b])
    await eventually('the page is back', async () =>
      (await stateOf(page)) === 'connected', 20000);
  // Retries wait 0.5-1 x 0.5 s, 1 s, 2 s, …: the second gap is the longer.
  assert.ok(attempts.length >= 3, `${attempts.length} connection attempts`);
  const gaps = [attempts[1] - attempts[0], attempts[2] - attempts[1]];
  assert.ok(gaps[0] >= 450 && gaps[0] <= 1000 + 1000, `first gap ${gaps[0]}`);
  assert.ok(gaps[1] >= 950 && gaps[1] <= 2000 + 1000, `second gap ${gaps[1]}`);
  const closed = (await a.$$eval('#log li.status',
    (items) => items.map((li) => li.textContent)));
  assert.deepEqual(closed, ['connection closed (1001 Server shutting down)'],
    'failed retries stay out of the log');
  // A fresh node numbers from 1 again.
  const ids = [];
  for (const page of [a, b])
    ids.push((await page.textContent('#identity')).replace('You are ', ''));
  assert.deepEqual(ids.sort(), ['Client 1', 'Client 2']);
  const health = JSON.parse((await get(port, '/healthz')).body);
  assert.equal(health.sessions, 2);
  await type(a, 'back again');
  await seenMatch(b, /^\d+ back again$/);
  assert.equal(await stopNode(restarted), 0);
});

test('no script error and no blocked resource on either page', () => {
  assert.deepEqual(pageErrors, []);
});
