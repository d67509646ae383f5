// The chat relay on Node.js and ws: a peer for bench/run.
//
// Each line goes to every other client as `<S> <line>` (S: whole seconds
// since the sender connected), with `You are Client N` and `Client N
// connected` / `disconnected`; above --announce-limit members, arrivals and
// departures are summed up once a second, as chat-node does.
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const opt = { host: '127.0.0.1', port: 8765, 'announce-limit': 1000 };
for (const arg of process.argv.slice(2)) {
  const m = /^--([a-z-]+)=(.*)$/.exec(arg);
  if (m) opt[m[1]] = m[2];
}
const limit = Number(opt['announce-limit']);
let next = 1;
let arrived = 0;
let left = 0;

const wss = new WebSocketServer({
  host: opt.host, port: Number(opt.port), backlog: 4096,
  perMessageDeflate: false, clientTracking: true,
});

function toOthers(skip, text) {
  for (const c of wss.clients)
    if (c !== skip && c.readyState === WebSocket.OPEN) c.send(text);
}

wss.on('connection', (ws) => {
  const n = next++;
  const since = Date.now();
  ws.send(`You are Client ${n}`);
  if (wss.clients.size > limit) arrived++;
  else toOthers(ws, `Client ${n} connected`);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const line = data.toString();
    if (!line.trim()) return;
    toOthers(ws, `${Math.floor((Date.now() - since) / 1000)} ${line}`);
  });
  ws.on('close', () => {
    if (wss.clients.size >= limit) left++;
    else toOthers(ws, `Client ${n} disconnected`);
  });
});

setInterval(() => {
  if (!arrived && !left) return;
  toOthers(null, `${arrived} clients connected, ${left} disconnected ` +
                 `(${wss.clients.size} online)`);
  arrived = left = 0;
}, 1000);

wss.on('listening', () => {
  const a = wss.address();
  console.log(`node-ws listening on ws://${a.address}:${a.port}/`);
});
