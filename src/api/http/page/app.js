// The click-to-call web page (issue 5): a form that places calls through the REST API, a live
// table of calls fed by Server-Sent Events, and a SIP ladder per call drawn from the server's
// message trace. Plain browser JavaScript, one module, no framework, no build step. Every URL is
// relative to the page, so that the page also works behind a reverse proxy on a sub-path.

const MAX_CALLS = 50;
const TICK_MS = 250;
/** Pause before opening a new stream when EventSource gave up (401, 503, server gone). */
const RESTART_MS = 5000;
/** The server itself, as a participant of the ladder (peers are `address:port`). */
const SERVER = 'server';
const LEG_RANK = { waiting: 0, calling: 1, ringing: 2, answered: 3, ended: 4 };

/** @type {Map<string, CallView>} call id → what the page knows of it */
const calls = new Map();
/** The call whose ladder is open. */
let selectedId;
/** The ladder's entries and the index of the message shown. */
let ladder = { id: undefined, entries: [], selected: -1 };
/** Server clock minus browser clock (ms), from the latest event, so that timers tick in server time. */
let serverOffset = 0;
let traceTimer;
let source;

const byId = (id) => document.getElementById(id);

/** An element with properties (`class`, `text`, `on…` listeners, attributes) and children. */
function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// ── the REST API ───────────────────────────────────────────────────────────────────

/** fetch + JSON; failures become `{ok: false, detail}` with the problem's `detail` (RFC 9457). */
async function api(path, init = {}) {
  let res;
  try {
    res = await fetch(path, { ...init, headers: { accept: 'application/json', ...init.headers } });
  } catch (err) {
    return { ok: false, status: 0, detail: `the server could not be reached (${err.message})` };
  }
  let body;
  try {
    body = (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : await res.text();
  } catch {
    body = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, body };
  const detail = body && typeof body === 'object' ? body.detail ?? body.message ?? body.title : undefined;
  return { ok: false, status: res.status, body, detail: `${res.status} ${detail ?? res.statusText ?? ''}`.trim() };
}

const callPath = (id) => `v1/calls/${encodeURIComponent(id)}`;

// ── the state of one call, from its resource and its events ────────────────────────

/**
 * @typedef {{state: string, code?: number, ringingAt?: number, answeredAt?: number, endedAt?: number}} LegView
 * @typedef {{id: string, initiator: string, destination: string, mode: string, createdAt?: number,
 *   endedAt?: number, state: string, finalCode?: number, finalText?: string, reason?: string, note: string,
 *   legs: {initiator: LegView, destination: LegView}, events: object[], seqs: Set<number>,
 *   detailsAsked: boolean, row?: object}} CallView
 */
function newCall(id) {
  return {
    id, initiator: '', destination: '', mode: '', createdAt: undefined, endedAt: undefined,
    state: 'in-progress', finalCode: undefined, finalText: undefined, reason: undefined, note: '',
    legs: { initiator: { state: 'calling' }, destination: { state: 'waiting' } },
    events: [], seqs: new Set(), detailsAsked: false, row: undefined,
  };
}

function callFor(id) {
  let call = calls.get(id);
  if (!call) {
    call = newCall(id);
    calls.set(id, call);
  }
  return call;
}

/** Legs only move forward (an event and an older list entry may arrive in any order). */
function advance(leg, state) {
  if (LEG_RANK[state] > LEG_RANK[leg.state]) leg.state = state;
}

function isOver(call) {
  return call.state !== 'in-progress' && call.state !== 'connected';
}

function setOver(call, state, event) {
  if (!isOver(call)) call.state = state;
  call.endedAt ??= event.time;
}

function applyEvent(call, e) {
  if (typeof e.seq !== 'number' || call.seqs.has(e.seq)) return;
  call.seqs.add(e.seq);
  let at = call.events.length;
  while (at > 0 && call.events[at - 1].seq > e.seq) at--;
  call.events.splice(at, 0, e);
  if (call.createdAt === undefined || e.time < call.createdAt) call.createdAt = e.time;
  if (e.translatedInitiator && !call.initiator) call.initiator = e.translatedInitiator;
  if (e.translatedDestination && !call.destination) call.destination = e.translatedDestination;
  const leg = e.leg ? call.legs[e.leg] : undefined;
  const { initiator, destination } = call.legs;
  switch (e.kind) {
    case 'ringing':
      if (leg) {
        leg.ringingAt ??= e.time;
        advance(leg, 'ringing');
      }
      break;
    case 'answered':
      if (leg) {
        leg.answeredAt ??= e.time;
        advance(leg, 'answered');
      }
      if (e.leg === 'initiator') advance(destination, 'calling');
      break;
    case 'referred':
      advance(destination, 'calling');
      break;
    case 'connected':
      destination.answeredAt ??= e.time;
      advance(destination, 'answered');
      call.finalCode ??= e.code;
      call.finalText ??= e.text;
      if (call.state === 'in-progress') call.state = 'connected';
      break;
    case 'failed':
      if (leg) {
        advance(leg, 'ended');
        leg.code = e.code;
        leg.endedAt ??= e.time;
      }
      call.finalCode ??= e.code;
      call.finalText ??= e.text;
      call.reason = e.reason;
      setOver(call, 'failed', e);
      break;
    case 'refused':
      call.finalCode ??= e.code;
      call.finalText ??= e.text;
      call.reason = e.reason;
      initiator.state = initiator.state === 'calling' ? 'waiting' : initiator.state;
      setOver(call, 'refused', e);
      break;
    case 'completed':
      call.reason = e.reason;
      setOver(call, 'completed', e);
      // After a REFER the phones talk to each other: only the server's own dialog ended.
      for (const name of e.reason === 'referred' ? ['initiator'] : ['initiator', 'destination']) {
        const l = call.legs[name];
        if (l.state === 'answered') {
          l.state = 'ended';
          l.endedAt ??= e.time;
        }
      }
      break;
    case 'initiated':
      break;
    default:
      // fallback, transfer-*: shown as the latest note.
      call.note = e.text;
  }
}

/** A call resource (`GET /v1/calls`, `GET /v1/calls/{id}`, the 201 of `POST /v1/calls`). */
function applyResource(call, r) {
  if (!r || typeof r !== 'object') return;
  if (r.initiator) call.initiator = r.initiator;
  if (r.destination) call.destination = r.destination;
  if (r.mode) call.mode = r.mode;
  if (typeof r.createdAt === 'number') call.createdAt = r.createdAt;
  if (Array.isArray(r.events)) for (const e of r.events) applyEvent(call, e);
  // A list entry has no events: its leg times and state say as much.
  for (const name of ['initiator', 'destination']) {
    const times = { ...r.legs?.[name] };
    // After a REFER the destination talks to the initiator's phone, not to us: not "ended".
    if (name === 'destination' && (call.reason ?? r.reason) === 'referred') delete times.endedAt;
    const leg = call.legs[name];
    for (const [key, state] of [['ringingAt', 'ringing'], ['answeredAt', 'answered'], ['endedAt', 'ended']]) {
      if (typeof times[key] === 'number') {
        leg[key] ??= times[key];
        advance(leg, state);
      }
    }
  }
  if (call.legs.initiator.answeredAt !== undefined) advance(call.legs.destination, 'calling');
  if (typeof r.finalCode === 'number') call.finalCode ??= r.finalCode;
  if (r.finalText) call.finalText ??= r.finalText;
  if (r.reason) call.reason ??= r.reason;
  if (typeof r.endedAt === 'number') call.endedAt ??= r.endedAt;
  if (r.state && r.state !== 'in-progress' && (call.state === 'in-progress' || (call.state === 'connected' && r.state !== 'connected'))) {
    call.state = r.state;
  }
}

/** One GET of the call's resource (URIs, mode, events) for a call first seen in an event. */
async function fetchDetails(call) {
  if (call.detailsAsked) return;
  call.detailsAsked = true;
  const r = await api(callPath(call.id));
  if (!r.ok) return;
  applyResource(call, r.body);
  renderRow(call);
  if (selectedId === call.id) renderEvents(call);
}

// ── formatting ───────────────────────────────────────────────────────────────────

function duration(ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.floor(s);
  const hh = Math.floor(whole / 3600);
  const mm = String(Math.floor((whole % 3600) / 60)).padStart(hh ? 2 : 1, '0');
  const ss = String(whole % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

const offset = (call, t) => (call.createdAt === undefined || t === undefined ? '' : `+${duration(t - call.createdAt)}`);
const shortId = (id) => id.slice(0, 8);

function legText(call, leg) {
  const label = leg.state === 'ended' && leg.code ? `ended ${leg.code}` : leg.state;
  const times = [];
  if (leg.ringingAt !== undefined) times.push(`rang ${offset(call, leg.ringingAt)}`);
  if (leg.answeredAt !== undefined) times.push(`answered ${offset(call, leg.answeredAt)}`);
  if (leg.endedAt !== undefined) times.push(`ended ${offset(call, leg.endedAt)}`);
  return { label, times: times.join(' · ') };
}

function outcomeText(call) {
  const code = call.finalCode ? ` ${call.finalCode}` : '';
  switch (call.state) {
    case 'in-progress':
      return call.note ? `in progress — ${call.note}` : 'in progress';
    case 'connected':
      return call.note ? `connected — ${call.note}` : 'connected';
    case 'completed':
      return call.reason === 'referred' ? 'completed: connected, the phones talk directly' : `completed${call.reason ? ` (${call.reason})` : ''}`;
    case 'failed':
    case 'refused':
      return `${call.state}${code}${call.finalText ? `: ${call.finalText}` : ''}`;
    default:
      return call.state;
  }
}

// ── the table ─────────────────────────────────────────────────────────────────────

function renderRow(call) {
  if (!call.row) {
    const cells = {
      id: h('th', { scope: 'row' }, h('code', { title: call.id }, shortId(call.id))),
      route: h('td', { class: 'route' }),
      mode: h('td'),
      initiator: h('td', { 'data-leg': 'initiator' }, h('span', { class: 'state' }), h('span', { class: 'times' })),
      destination: h('td', { 'data-leg': 'destination' }, h('span', { class: 'state' }), h('span', { class: 'times' })),
      elapsed: h('td', { class: 'elapsed' }),
      outcome: h('td', { class: 'outcome' }),
      action: h('td'),
    };
    const button = h('button', {
      type: 'button', class: 'open-ladder', 'aria-controls': 'ladder-section', 'aria-expanded': 'false',
      'aria-label': `SIP ladder of call ${shortId(call.id)}`, onclick: () => openLadder(call.id),
    }, 'Ladder');
    cells.action.append(button);
    const tr = h('tr', { 'data-call-id': call.id }, ...Object.values(cells));
    call.row = { tr, cells, button };
    insertRow(call);
    byId('no-calls').hidden = true;
  }
  const { tr, cells } = call.row;
  setText(cells.route, `${call.initiator || '…'} → ${call.destination || '…'}`);
  setText(cells.mode, call.mode || '…');
  for (const name of ['initiator', 'destination']) {
    const cell = cells[name];
    const leg = call.legs[name];
    const { label, times } = legText(call, leg);
    cell.dataset.state = leg.state;
    setText(cell.firstChild, label);
    setText(cell.lastChild, times);
  }
  tr.dataset.state = call.state;
  cells.outcome.dataset.outcome = call.state;
  setText(cells.outcome, outcomeText(call));
  renderElapsed(call);
}

function renderElapsed(call) {
  if (!call.row || call.createdAt === undefined) return;
  const end = call.endedAt ?? Date.now() + serverOffset;
  setText(call.row.cells.elapsed, duration(end - call.createdAt));
}

/** Newest first; beyond MAX_CALLS the oldest row goes (unless its ladder is open). */
function insertRow(call) {
  const body = byId('call-rows');
  const created = call.createdAt ?? Infinity;
  let before = null;
  for (const tr of body.rows) {
    const other = calls.get(tr.dataset.callId);
    if (other && (other.createdAt ?? Infinity) < created) {
      before = tr;
      break;
    }
  }
  body.insertBefore(call.row.tr, before);
  while (body.rows.length > MAX_CALLS) {
    const last = [...body.rows].reverse().find((tr) => tr.dataset.callId !== selectedId);
    if (!last) break;
    calls.delete(last.dataset.callId);
    last.remove();
  }
}

setInterval(() => {
  for (const call of calls.values()) if (call.endedAt === undefined) renderElapsed(call);
}, TICK_MS);

// ── the event stream ─────────────────────────────────────────────────────────────

function streamStatus(state, text) {
  const node = byId('stream-status');
  node.dataset.stream = state;
  setText(node, `Event stream: ${text}`);
}

function onEvent(e) {
  if (!e || typeof e.callId !== 'string' || typeof e.kind !== 'string') return;
  if (typeof e.time === 'number') serverOffset = e.time - Date.now();
  const call = callFor(e.callId);
  applyEvent(call, e);
  renderRow(call);
  if (!call.mode || !call.initiator) void fetchDetails(call);
  if (selectedId === call.id) {
    renderEvents(call);
    // The messages of this event are in the trace already; those that follow a final one soon.
    scheduleTrace(isOver(call) || e.kind === 'connected' ? 1200 : 300);
  }
}

/**
 * EventSource reconnects by itself and sends `Last-Event-ID`, so the server replays what was
 * missed. When it gives up (the server refused the stream), a new one starts after a pause and
 * the list is read again, since the events in between are not replayed to a new stream.
 */
function connectStream() {
  source = new EventSource('v1/events');
  let restarted = false;
  source.onopen = () => streamStatus('live', 'live');
  source.onmessage = (m) => {
    let e;
    try {
      e = JSON.parse(m.data);
    } catch {
      return;
    }
    onEvent(e);
  };
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) {
      streamStatus('reconnecting', 'reconnecting…');
      return;
    }
    if (restarted) return;
    restarted = true;
    source.close();
    streamStatus('down', `disconnected; trying again in ${RESTART_MS / 1000} s`);
    setTimeout(() => {
      connectStream();
      void loadCalls();
    }, RESTART_MS);
  };
}

async function loadCalls() {
  const r = await api(`v1/calls?limit=${MAX_CALLS}`);
  if (!r.ok) {
    feedback(`Could not read the calls: ${r.detail}`, 'error');
    return;
  }
  for (const resource of (r.body?.calls ?? []).slice().reverse()) {
    if (typeof resource?.id !== 'string') continue;
    const call = callFor(resource.id);
    applyResource(call, resource);
    renderRow(call);
  }
}

// ── the form ─────────────────────────────────────────────────────────────────────

function feedback(text, kind) {
  const node = byId('feedback');
  node.className = kind ?? '';
  node.textContent = text;
}

async function placeCall(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = byId('call-button');
  const body = { initiator: form.initiator.value.trim(), destination: form.destination.value.trim() };
  if (form.mode.value) body.mode = form.mode.value;
  button.disabled = true;
  feedback('Placing the call…');
  const r = await api('v1/calls', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  button.disabled = false;
  if (!r.ok) {
    feedback(`Error: ${r.detail}`, 'error');
    return;
  }
  const call = callFor(r.body.id);
  applyResource(call, r.body);
  call.detailsAsked = true;
  renderRow(call);
  feedback(`Call ${shortId(call.id)} placed: ${call.initiator} → ${call.destination}.`, 'ok');
}

// ── the ladder ───────────────────────────────────────────────────────────────────

async function openLadder(id) {
  const call = calls.get(id);
  if (!call) return;
  selectedId = id;
  for (const other of calls.values()) other.row?.button.setAttribute('aria-expanded', String(other.id === id));
  const section = byId('ladder-section');
  section.hidden = false;
  setText(byId('ladder-title'), `SIP ladder of call ${shortId(id)}`);
  byId('message-panel').hidden = true;
  ladder = { id, entries: [], selected: -1 };
  byId('ladder').replaceChildren();
  renderEvents(call);
  byId('ladder-title').focus();
  call.detailsAsked = false;
  await Promise.all([refreshTrace(), fetchDetails(call)]);
}

function closeLadder() {
  const call = calls.get(selectedId);
  selectedId = undefined;
  clearTimeout(traceTimer);
  byId('ladder-section').hidden = true;
  call?.row?.button.setAttribute('aria-expanded', 'false');
  call?.row?.button.focus();
}

function scheduleTrace(ms) {
  clearTimeout(traceTimer);
  traceTimer = setTimeout(() => void refreshTrace(), ms);
}

async function refreshTrace() {
  const id = selectedId;
  if (id === undefined) return;
  const status = byId('ladder-status');
  const r = await api(`${callPath(id)}/trace`);
  if (id !== selectedId) return;
  if (!r.ok) {
    setText(status, `No trace: ${r.detail}`);
    return;
  }
  const entries = Array.isArray(r.body?.entries) ? r.body.entries : [];
  setText(status, `${entries.length} SIP message${entries.length === 1 ? '' : 's'}. Choose one to read it whole.`);
  drawLadder(calls.get(id), entries);
}

/** `host:port` of a SIP URI as the trace writes peers (`[v6]:port`), the port 5060 when absent. */
function hostPortOf(uri) {
  const m = /^sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i.exec(uri ?? '');
  return m ? `${m[1].toLowerCase()}:${m[2] ?? '5060'}` : undefined;
}

/** Participants left to right: the initiator's side, the server, then the others (destination last). */
function participantsOf(call, entries) {
  const peers = [];
  for (const e of entries) if (!peers.includes(e.peer)) peers.push(e.peer);
  const roles = new Map();
  const ini = hostPortOf(call?.initiator);
  const dst = hostPortOf(call?.destination);
  for (const p of peers) {
    const lower = p.toLowerCase();
    if (lower === ini) roles.set(p, 'initiator');
    else if (lower === dst) roles.set(p, 'destination');
  }
  const rank = (p) => (roles.get(p) === 'initiator' ? 0 : roles.get(p) === 'destination' ? 2 : 1);
  peers.sort((a, b) => rank(a) - rank(b));
  const order = peers.length ? [peers[0], SERVER, ...peers.slice(1)] : [SERVER];
  const name = (p) => (p === SERVER ? 'clicktocall (this server)' : roles.has(p) ? `${roles.get(p)} ${p}` : p);
  return { order, name, roles };
}

function drawLadder(call, entries) {
  const container = byId('ladder');
  const keepFocus = container.contains(document.activeElement) ? document.activeElement.dataset.index : undefined;
  ladder = { id: selectedId, entries, selected: ladder.id === selectedId ? ladder.selected : -1 };
  const { order, name } = participantsOf(call, entries);
  const n = order.length;
  // Column 1: time; each participant takes two columns, its lifeline on the line between them.
  container.style.setProperty('--ladder-columns', `minmax(6.5rem, auto) repeat(${2 * n}, minmax(2.5rem, 1fr))`);
  const head = h('div', { class: 'ladder-head', 'aria-hidden': 'true' }, h('span', { class: 'time' }, 'time · leg'));
  order.forEach((p, k) => {
    const label = h('span', { class: p === SERVER ? 'who server' : 'who' }, name(p));
    label.style.gridColumn = `${2 + 2 * k} / span 2`;
    head.append(label);
  });
  const legs = [];
  for (const e of entries) if (!legs.includes(e.sipCallId)) legs.push(e.sipCallId);
  const t0 = entries.length ? entries[0].time : 0;
  const list = h('ol', { class: 'ladder-rows', 'aria-label': 'SIP messages in time order' });
  entries.forEach((e, i) => {
    const from = e.direction === 'out' ? SERVER : e.peer;
    const to = e.direction === 'out' ? e.peer : SERVER;
    const a = order.indexOf(from);
    const b = order.indexOf(to);
    const leg = legs.indexOf(e.sipCallId) + 1;
    const at = `+${((e.time - t0) / 1000).toFixed(3)} s`;
    const lifelines = order.map((_, k) => {
      const line = h('span', { class: 'life', 'aria-hidden': 'true' });
      line.style.gridColumn = `${2 + 2 * k} / span 2`;
      return line;
    });
    const arrow = h('span', { class: `arrow ${a < b ? 'to-right' : 'to-left'} leg-${Math.min(leg, 3)}`, 'aria-hidden': 'true' },
      h('span', { class: 'label' }, e.summary));
    arrow.style.gridColumn = `${3 + 2 * Math.min(a, b)} / ${3 + 2 * Math.max(a, b)}`;
    const button = h('button', {
      type: 'button', class: 'msg', 'data-index': i, 'data-summary': e.summary, 'aria-pressed': String(i === ladder.selected),
      onclick: () => showMessage(i),
    },
    h('span', { class: 'time', 'aria-hidden': 'true' }, `${at} · ${leg}`),
    ...lifelines,
    arrow,
    h('span', { class: 'visually-hidden' }, `${at}: ${e.summary}, from ${name(from)} to ${name(to)} over ${e.transport}, leg ${leg}`));
    list.append(h('li', null, button));
  });
  container.replaceChildren(head, list);
  const referMode = call?.mode === 'refer' || call?.mode === 'ood-refer';
  setText(byId('ladder-legend'), (legs.length > 1
    ? `Leg 1 (solid lines) and leg 2 (dashed lines) are the server's two SIP dialogs (Call-IDs ${legs.join(', ')}).`
    : legs.length === 1 ? `One SIP dialog (Call-ID ${legs[0]}).` : '') +
    (referMode ? ' In REFER modes the initiator\'s phone calls the destination itself: the server does not see that call.' : ''));
  if (keepFocus !== undefined) container.querySelector(`button[data-index="${keepFocus}"]`)?.focus();
}

function showMessage(i) {
  const e = ladder.entries[i];
  if (!e) return;
  ladder.selected = i;
  for (const b of byId('ladder').querySelectorAll('button.msg')) b.setAttribute('aria-pressed', String(Number(b.dataset.index) === i));
  const t0 = ladder.entries[0].time;
  const way = e.direction === 'out' ? `sent to ${e.peer}` : `received from ${e.peer}`;
  setText(byId('message-title'), `${e.summary} — ${way} over ${e.transport} at +${((e.time - t0) / 1000).toFixed(3)} s`);
  setText(byId('message-text'), e.text);
  byId('message-panel').hidden = false;
}

/** Up/Down/Home/End move between the ladder's messages. */
function ladderKeys(event) {
  const buttons = [...byId('ladder').querySelectorAll('button.msg')];
  const at = buttons.indexOf(document.activeElement);
  if (at < 0) return;
  const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  if (next === undefined || !buttons[next]) return;
  event.preventDefault();
  buttons[next].focus();
}

function renderEvents(call) {
  const list = byId('event-list');
  list.replaceChildren(...call.events.map((e) => h('li', null,
    h('span', { class: 'time' }, offset(call, e.time)), ' ',
    h('strong', null, e.kind), e.leg ? ` (${e.leg})` : '', ` ${e.code} ${e.text}`)));
}

// ── start ────────────────────────────────────────────────────────────────────────

byId('call-form').addEventListener('submit', placeCall);
byId('ladder-close').addEventListener('click', closeLadder);
byId('ladder-refresh').addEventListener('click', () => void refreshTrace());
byId('ladder').addEventListener('keydown', ladderKeys);
connectStream();
void loadCalls();
