// The chat-node browser client: one WebSocket back to the node that served
// this page, every received frame shown as one line of plain text.
//
// Everything a peer sends is rendered with textContent, never as HTML: a
// line such as <img src=x onerror=...> shows as those characters.
'use strict';

(() => {
  const maxLines = 1000; // older lines are dropped from the page
  const firstDelayMs = 500; // reconnect backoff: 0.5 s, 1 s, 2 s, … 15 s
  const maxDelayMs = 15000;
  const pagingBannerMs = 2500; // how long the banner outlives a PAGING

  const $ = (id) => document.getElementById(id);
  const log = $('log');
  const stateView = $('state');
  const identityView = $('identity');
  const retryButton = $('retry');
  const pagingBanner = $('paging-banner');
  const composer = $('composer');
  const lineInput = $('line');
  const inviteForm = $('invite-form');
  const inviteTarget = $('invite-target');
  const commandButtons = ['page', 'leave', 'who', 'help', 'invite', 'send'];

  let socket = null;
  let attempt = 0; // failed connects since the last success
  let retryTimer = null;
  let countdownTimer = null;
  let bannerTimer = null;
  let me = '';
  let partner = '';

  // Appends one line; `kind` is in (received), out (typed here) or status.
  function addLine(text, kind) {
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    const item = document.createElement('li');
    item.className = kind;
    if (kind === 'in' && text === 'PAGING') item.classList.add('paging');
    item.textContent = kind === 'out' ? '> ' + text : text;
    log.append(item);
    while (log.childElementCount > maxLines) log.firstElementChild.remove();
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function showState(state, text) {
    stateView.dataset.state = state;
    stateView.textContent = text;
    const open = state === 'connected';
    for (const id of commandButtons) $(id).disabled = !open;
    lineInput.disabled = !open;
    inviteTarget.disabled = !open;
    retryButton.hidden = state !== 'waiting';
  }

  function showIdentity() {
    let text = me ? 'You are ' + me : '';
    if (me && partner) text += ', in a private chat with ' + partner;
    identityView.textContent = text;
    document.body.classList.toggle('private', partner !== '');
  }

  // Follows the lines that change who we are and where we chat.
  function track(line) {
    let m;
    if ((m = /^You are (Client \d+)$/.exec(line))) {
      me = m[1];
      partner = '';
    } else if ((m = /^Private chatting with (Client \d+)$/.exec(line))) {
      partner = m[1];
    } else if (line === 'Private chat ended.') {
      partner = '';
    } else if (line === 'PAGING') {
      pagingBanner.hidden = false;
      clearTimeout(bannerTimer);
      bannerTimer = setTimeout(() => {
        pagingBanner.hidden = true;
      }, pagingBannerMs);
      return;
    } else {
      return;
    }
    showIdentity();
  }

  function send(line) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(line);
    addLine(line, 'out');
    return true;
  }

  function connect() {
    clearTimeout(retryTimer);
    clearInterval(countdownTimer);
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const ws = new WebSocket(scheme + location.host + '/');
    let opened = false;
    socket = ws;
    showState('connecting', 'connecting…');
    ws.onopen = () => {
      opened = true;
      attempt = 0;
      showState('connected', 'connected');
      lineInput.focus();
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== 'string') return; // the node sends text only
      addLine(event.data, 'in');
      track(event.data);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      me = '';
      partner = '';
      showIdentity();
      pagingBanner.hidden = true;
      // A failed retry only shows in the badge; a lost session in the log.
      if (opened) {
        let why = 'connection closed';
        if (event.code && event.code !== 1005 && event.code !== 1006) {
          const reason = event.reason ? ' ' + event.reason : '';
          why += ' (' + event.code + reason + ')';
        }
        addLine(why, 'status');
      }
      scheduleReconnect();
    };
  }

  // Waits longer after each failed try, with jitter so that many pages do
  // not come back at the same instant after a restart.
  function scheduleReconnect() {
    const ceiling = Math.min(maxDelayMs, firstDelayMs * 2 ** attempt);
    const delay = Math.round(ceiling * (0.5 + Math.random() / 2));
    attempt += 1;
    const due = Date.now() + delay;
    const tick = () => {
      const secs = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      showState('waiting', 'disconnected, reconnecting in ' + secs + ' s');
    };
    tick();
    countdownTimer = setInterval(tick, 250);
    retryTimer = setTimeout(connect, delay);
  }

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    if (send(lineInput.value)) lineInput.value = '';
    lineInput.focus();
  });

  inviteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const n = inviteTarget.value.trim();
    if (n && send('invite ' + n)) inviteTarget.value = '';
    lineInput.focus();
  });

  const commands = { page: 'page', leave: 'leave', who: '/who', help: '/help' };
  for (const [id, line] of Object.entries(commands)) {
    $(id).addEventListener('click', () => {
      send(line);
      lineInput.focus();
    });
  }

  retryButton.addEventListener('click', () => {
    attempt = 0;
    connect();
  });

  connect();
})();
