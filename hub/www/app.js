// SPDX-License-Identifier: MIT
// The nd-hub dashboard: one eater (the browser SDK) showing the hub's status
// and the dumplings of the built-in chefs. Everything from the network is
// put on the page with textContent, never parsed as HTML. Every list and
// map below has a cap; what goes over it forgets its oldest entries.

import {connect, hubUrl, STATUS_CHEF, DROPS_CHEF} from '/sdk/netdumplings.js';

const CAP = {
  dnsNames: 2000,     // distinct host names counted
  dnsRecent: 100,     // latest lookups listed
  dnsRows: 300,       // rows of the names table shown
  arp: 1024,          // IP addresses in the ARP table
  rows: 200,          // flows, HTTP, TLS rows
  points: 300,        // points per packet-count series
  kitchens: 64,       // kitchens with a packet-count series
  rawChefs: 200,      // chefs in the raw view
  rawPerChef: 20,     // dumplings kept per chef
  rawBytes: 20000,    // characters of one dumpling shown
  rates: 4096,        // previous counters kept for rates
  goneKitchens: 20,   // disconnected kitchens still listed
  goneSeconds: 600,   // ... for this long
};

// ---------------------------------------------------------------- helpers

/** An element with text; children may be nodes or strings. */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'title') e.title = String(v);
      else e.setAttribute(k, String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const $ = (id) => document.getElementById(id);

function str(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function num(v) {
  return typeof v === 'number' && isFinite(v) ? v : 0;
}

const numFmt = new Intl.NumberFormat('en');
function fmtNum(v) {
  return typeof v === 'number' && isFinite(v) ? numFmt.format(v) : '–';
}

function fmtRate(v) {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  return v >= 100 ? numFmt.format(Math.round(v)) : v.toFixed(1);
}

function fmtTime(epoch) {
  if (typeof epoch !== 'number' || !isFinite(epoch)) return '';
  const d = new Date(epoch * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function fmtDuration(s) {
  if (typeof s !== 'number' || !isFinite(s)) return '–';
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function endpoint(e) {
  if (!e || typeof e !== 'object') return '';
  const ip = str(e.ip !== undefined ? e.ip : e.host); // chefs say ip, the hub's status host
  const port = e.port;
  if (port === undefined || port === null || port === 0) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A Map used as a bounded most-recently-touched set. */
function touch(map, key, value, cap) {
  map.delete(key);
  map.set(key, value);
  while (map.size > cap) map.delete(map.keys().next().value);
}

/** Push onto the front of a list, keeping at most cap entries. */
function pushFront(list, item, cap) {
  list.unshift(item);
  if (list.length > cap) list.length = cap;
}

function fillBody(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  const empty = document.querySelector(`.empty[data-for="${table.id}"]`);
  if (empty) empty.hidden = rows.length > 0;
}

function td(v, cls) {
  return el('td', cls ? {class: cls} : null, str(v));
}

// ------------------------------------------------------------------ state

const params = new URLSearchParams(location.search);
const state = {
  status: null,
  prevCounters: new Map(),  // connection key -> {t, n}
  rates: new Map(),         // connection key -> per second
  hubRates: {in: null, out: null},
  prevHub: null,
  gone: new Map(),          // connection key -> {entry, at}: kitchens that left
  lastKitchens: new Map(),  // connection key -> entry, from the latest status
  dns: new Map(),           // full name -> {count, types:Set, last, answer, kitchen}
  dnsRecent: [],
  arp: new Map(),           // ip -> {mac, kitchen, last, notes, changed}
  packets: new Map(),       // kitchen -> [{t, counts}]
  flows: [],
  http: [],
  tls: [],
  raw: new Map(),           // chef label -> [json text]
  drops: {notices: 0, dropped: 0},
  gaps: {events: 0, missing: 0},
};

const dirty = new Set();
function mark(...what) {
  for (const w of what) dirty.add(w);
}

// --------------------------------------------------------------- handlers

function onStatus(p, d) {
  if (!p || typeof p !== 'object') return;
  const up = num(p.server_uptime);
  if (state.prevHub && up > state.prevHub.up) {
    const dt = up - state.prevHub.up;
    state.hubRates.in = (num(p.total_dumplings_in) - state.prevHub.in) / dt;
    state.hubRates.out = (num(p.total_dumplings_out) - state.prevHub.out) / dt;
  } else if (state.prevHub && up < state.prevHub.up) {
    // The hub restarted: its counters started again.
    state.prevCounters.clear();
    state.hubRates = {in: null, out: null};
  }
  // Kitchens that left stay listed a while, so that a finished replay can
  // still be read.
  const now = Date.now() / 1000;
  const present = new Map();
  for (const k of Array.isArray(p.dumpling_kitchens) ? p.dumpling_kitchens : []) {
    const h = k.info_from_hub || {};
    present.set(`${str(h.host)} ${str(h.port)}`, k);
  }
  for (const [key, k] of state.lastKitchens) {
    if (!present.has(key)) touch(state.gone, key, {entry: k, at: now}, CAP.goneKitchens);
  }
  for (const [key, g] of state.gone) {
    if (present.has(key) || now - g.at > CAP.goneSeconds) state.gone.delete(key);
  }
  state.lastKitchens = present;
  state.prevHub = {up, in: num(p.total_dumplings_in), out: num(p.total_dumplings_out)};
  const rate = (kind, entry, n) => {
    const h = entry.info_from_hub || {};
    const key = `${kind} ${str(h.host)} ${str(h.port)}`;
    const prev = state.prevCounters.get(key);
    if (prev && up > prev.t && n >= prev.n) state.rates.set(key, (n - prev.n) / (up - prev.t));
    touch(state.prevCounters, key, {t: up, n}, CAP.rates);
    return state.rates.get(key);
  };
  const list = (v) => (Array.isArray(v) ? v : []);
  for (const k of list(p.dumpling_kitchens)) k._rate = rate('k', k, num((k.info_from_hub || {}).dumplings_in));
  for (const e of list(p.dumpling_eaters)) e._rate = rate('e', e, num((e.info_from_hub || {}).sent));
  while (state.rates.size > CAP.rates) state.rates.delete(state.rates.keys().next().value);
  state.status = p;
  mark('status');
}

// Names are split on dots that are not escaped (presentation form, RFC 1035 5.1).
function fold(name, n) {
  if (!n) return name;
  const labels = name.split(/(?<!\\)\./);
  return labels.length <= n ? name : labels.slice(-n).join('.');
}

function onDNS(p, d) {
  const l = p && p.lookup;
  if (!l || typeof l !== 'object' || typeof l.hostname !== 'string') return false;
  const name = l.hostname === '' ? '.' : l.hostname;
  const e = state.dns.get(name) || {count: 0, types: new Set(), last: 0, answer: '', kitchen: ''};
  e.count++;
  if (typeof l.qtype === 'string' && e.types.size < 16) e.types.add(l.qtype);
  e.last = num(l.when) || num(d.metadata.creation_time);
  e.kitchen = str(d.metadata.kitchen);
  let answer = '';
  if (l.is_response) {
    const data = Array.isArray(l.answers) ? l.answers.map((a) => str(a && a.data)).filter((x) => x) : [];
    answer = l.rcode && l.rcode !== 'NOERROR' ? str(l.rcode) : data.slice(0, 3).join(', ') || str(l.rcode);
    e.answer = answer;
  }
  touch(state.dns, name, e, CAP.dnsNames);
  pushFront(state.dnsRecent, {t: e.last, kitchen: e.kitchen, name, type: str(l.qtype),
    answer: l.is_response ? answer || '(no answer)' : 'query'}, CAP.dnsRecent);
  mark('dns');
  return true;
}

function onARP(p, d) {
  if (!p || typeof p.src_ip !== 'string' || typeof p.src_hw !== 'string') return false;
  if (p.src_ip === '0.0.0.0') return true; // an address probe says nothing about the sender
  const old = state.arp.get(p.src_ip);
  const changed = old && old.mac !== p.src_hw;
  touch(state.arp, p.src_ip, {
    mac: p.src_hw, kitchen: str(d.metadata.kitchen),
    last: num(p.time) || num(d.metadata.creation_time),
    notes: p.notes ? str(p.notes) : changed ? `was ${old.mac}` : old ? old.notes : '',
    changed: !!(changed || (old && old.changed) || p.notes === 'source device has new IP address'),
  }, CAP.arp);
  mark('arp');
  return true;
}

function onPackets(p, d) {
  const counts = p && p.packet_counts;
  if (!counts || typeof counts !== 'object') return false;
  const k = str(d.metadata.kitchen);
  let series = state.packets.get(k);
  const total = Object.values(counts).reduce((a, b) => a + num(b), 0);
  if (series && series.length && total < series[series.length - 1].total) series = []; // restarted
  series = series || [];
  series.push({t: num(d.metadata.creation_time), counts, total});
  if (series.length > CAP.points) series.splice(0, series.length - CAP.points);
  touch(state.packets, k, series, CAP.kitchens);
  mark('packets');
  return true;
}

function onFlow(p, d) {
  if (!p || typeof p !== 'object' || !p.client || !p.server) return false; // the summary
  pushFront(state.flows, {d, p}, CAP.rows);
  mark('flows');
  return true;
}

function onHTTP(p, d) {
  if (!p || (p.kind !== 'request' && p.kind !== 'response')) return false;
  pushFront(state.http, {d, p}, CAP.rows);
  mark('http');
  return true;
}

function onTLS(p, d) {
  if (!p || (p.kind !== 'client_hello' && p.kind !== 'server_hello')) return false;
  pushFront(state.tls, {d, p}, CAP.rows);
  mark('tls');
  return true;
}

const VIEWS = {
  DNSLookupChef: onDNS,
  ARPChef: onARP,
  PacketCountChef: onPackets,
  FlowChef: onFlow,
  HTTPRequestChef: onHTTP,
  TLSClientHelloChef: onTLS,
};

function onRaw(d, text) {
  const m = d.metadata;
  const label = VIEWS[m.chef] ? `${m.chef} (${str(m.driver)})` : m.chef;
  let list = state.raw.get(label);
  if (!list) {
    list = [];
    if (state.raw.size >= CAP.rawChefs) return; // keep the chefs already listed
    state.raw.set(label, list);
    mark('rawChefs');
  }
  pushFront(list, text, CAP.rawPerChef);
  if ($('raw-chef').value === label || !$('raw-chef').value) mark('raw');
}

function onDumpling(d) {
  const m = d.metadata;
  if (m.kitchen === null && m.chef === STATUS_CHEF) return onStatus(d.payload, d);
  if (m.kitchen === null && m.chef === DROPS_CHEF) return; // counted by the 'drops' event
  const view = VIEWS[m.chef];
  if (view && view(d.payload, d)) return;
  let text = JSON.stringify(d, null, 2);
  if (text.length > CAP.rawBytes) text = text.slice(0, CAP.rawBytes) + '\n… (cut)';
  onRaw(d, text);
}

// -------------------------------------------------------------- rendering

function renderStatus() {
  const p = state.status;
  if (!p) return;
  $('t-uptime').textContent = fmtDuration(p.server_uptime);
  $('t-kitchens').textContent = fmtNum(p.dumpling_kitchen_count);
  $('t-eaters').textContent = fmtNum(p.dumpling_eater_count);
  const rate = (r) => (r === null || r === undefined ? '' : ` (${fmtRate(r)}/s)`);
  $('t-in').textContent = fmtNum(p.total_dumplings_in) + rate(state.hubRates.in);
  $('t-out').textContent = fmtNum(p.total_dumplings_out) + rate(state.hubRates.out);
  $('t-dropped').textContent = fmtNum(p.total_dumplings_dropped);
  const rej = p.rejections && typeof p.rejections === 'object' ?
    Object.entries(p.rejections).filter(([, n]) => num(n) > 0).map(([k, n]) => `${k}: ${n}`).join(', ') : '';
  $('t-rejected').textContent = fmtNum(p.total_dumplings_rejected);
  $('t-rejected').title = rej;
  $('t-dropped').parentElement.classList.toggle('warn', num(p.total_dumplings_dropped) > 0);

  const live = (Array.isArray(p.dumpling_kitchens) ? p.dumpling_kitchens : []).map((k) => [k, null]);
  const gone = [...state.gone.values()].reverse().map((g) => [g.entry, g.at]);
  const kitchens = live.concat(gone).map(([k, goneAt]) => {
    const i = k.info_from_kitchen || {}, h = k.info_from_hub || {};
    const chefs = Array.isArray(i.chefs) ? i.chefs.map((c) => str(c).replace(/^.*\./, '')) : [];
    return el('tr', {class: goneAt ? 'gone' : null, 'data-live': goneAt ? 'no' : 'yes',
      title: goneAt ? `disconnected at ${fmtTime(goneAt)}` : null},
      el('td', {class: 'name'}, str(i.kitchen_name), goneAt ? el('span', {class: 'badge off'}, 'gone') : null),
      td(i.interface), td(endpoint(h)),
      td(fmtNum(h.dumplings_in), 'num'), td(goneAt ? '' : fmtRate(k._rate), 'num'),
      td(fmtNum(h.rate_limited), 'num'), td(fmtNum(h.bad_lines), 'num'),
      td(h.batch ? 'yes' : 'no'),
      el('td', {class: 'chefs', title: chefs.join(', ')}, chefs.length ? `${chefs.length}: ${chefs.join(', ')}` : ''));
  });
  fillBody($('kitchens-table'), kitchens);
  const eaters = (Array.isArray(p.dumpling_eaters) ? p.dumpling_eaters : []).map((e) => {
    const i = e.info_from_eater || {}, h = e.info_from_hub || {};
    const sub = h.subscribe && Object.keys(h.subscribe).length ? JSON.stringify(h.subscribe) : 'everything';
    return el('tr', {class: num(h.dropped) > 0 ? 'warn' : null},
      el('td', {class: 'name'}, str(i.eater_name)), td(endpoint(h)),
      td(fmtNum(h.sent), 'num'), td(fmtRate(e._rate), 'num'), td(fmtNum(h.queued), 'num'),
      td(fmtNum(h.dropped), 'num'), td(fmtNum(h.not_subscribed), 'num'),
      td(h.batch ? 'yes' : 'no'), el('td', {class: 'sub', title: sub}, sub));
  });
  fillBody($('eaters-table'), eaters);
}

function renderPageStats() {
  const s = eater.stats();
  $('page-stats').textContent =
    `This page: ${fmtNum(s.dumplings)} dumplings in ${fmtNum(s.messages)} messages` +
    ` (${s.batch ? 'batch mode' : 'one per message'}), ${fmtNum(s.connects)} connection(s); ` +
    `gaps: ${fmtNum(s.gaps)} (${fmtNum(s.missing)} missing); ` +
    `drop notices: ${fmtNum(s.dropNotices)} (${fmtNum(s.dropped)} dropped).`;
}

function renderDNS() {
  const filter = $('dns-filter').value.trim().toLowerCase();
  const n = Number($('dns-fold').value) || 0;
  const groups = new Map();
  for (const [name, e] of state.dns) {
    if (filter && !name.toLowerCase().includes(filter)) continue;
    const key = fold(name, n);
    const g = groups.get(key) || {count: 0, types: new Set(), last: 0, answer: '', names: 0};
    g.count += e.count;
    g.names++;
    for (const t of e.types) if (g.types.size < 16) g.types.add(t);
    if (e.last >= g.last) {
      g.last = e.last;
      g.answer = e.answer || g.answer;
    }
    groups.set(key, g);
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].count - a[1].count || b[1].last - a[1].last);
  const rows = sorted.slice(0, CAP.dnsRows).map(([name, g]) =>
    el('tr', null,
      el('td', {class: 'name', title: g.names > 1 ? `${g.names} names` : null}, name,
        g.names > 1 ? el('span', {class: 'badge'}, `${g.names} names`) : null),
      td(fmtNum(g.count), 'num'), td([...g.types].join(' ')), el('td', {class: 'answer', title: g.answer}, g.answer),
      td(fmtTime(g.last))));
  fillBody($('dns-table'), rows);
  const recent = state.dnsRecent.filter((r) => !filter || r.name.toLowerCase().includes(filter)).map((r) =>
    el('tr', null, td(fmtTime(r.t)), td(r.kitchen), el('td', {class: 'name'}, r.name), td(r.type),
      el('td', {class: 'answer', title: r.answer}, r.answer)));
  fillBody($('dns-recent'), recent);
}

function renderARP() {
  const rows = [...state.arp.entries()].reverse().map(([ip, a]) =>
    el('tr', {class: a.changed ? 'warn' : null},
      el('td', {class: 'name'}, ip), el('td', {class: 'mono'}, a.mac), td(a.kitchen),
      td(fmtTime(a.last)), td(a.notes)));
  fillBody($('arp-table'), rows);
}

function renderFlows() {
  $('flows').hidden = false;
  fillBody($('flows-table'), state.flows.map(({d, p}) => {
    const c = p.client_to_server || {}, s = p.server_to_client || {};
    return el('tr', null, td(fmtTime(p.end)), td(p.proto), td(endpoint(p.client), 'mono'),
      td(endpoint(p.server), 'mono'), td(`${fmtNum(c.packets)} / ${fmtNum(s.packets)}`, 'num'),
      td(`${fmtNum(c.bytes)} / ${fmtNum(s.bytes)}`, 'num'),
      td(typeof p.duration === 'number' ? p.duration.toFixed(3) : '', 'num'),
      td([p.end_reason, p.tcp_state].filter((x) => x).map(str).join(', ')), td(d.metadata.kitchen));
  }));
}

function renderHTTP() {
  $('http').hidden = false;
  fillBody($('http-table'), state.http.map(({d, p}) => {
    const url = p.url || (p.host || p.uri ? `${str(p.host)}${str(p.uri)}` : '');
    const bad = typeof p.status === 'number' && p.status >= 400;
    return el('tr', {class: p.kind === 'response' ? (bad ? 'resp warn' : 'resp') : null},
      td(fmtTime(p.time)), td(endpoint(p.client), 'mono'), td(p.kind === 'request' ? p.method : `↳ ${str(p.method)}`),
      el('td', {class: 'url', title: url}, url), td(p.status, 'num'),
      td(typeof p.latency === 'number' ? (p.latency * 1000).toFixed(1) : '', 'num'),
      td(p.content_type || p.user_agent || ''), td(d.metadata.kitchen));
  }));
}

function renderTLS() {
  $('tls').hidden = false;
  fillBody($('tls-table'), state.tls.map(({d, p}) => {
    const hello = p.kind === 'client_hello';
    const alpn = Array.isArray(p.alpn) ? p.alpn.map(str).join(', ') : str(p.alpn);
    return el('tr', {class: hello ? null : 'resp'}, td(fmtTime(p.time)), td(endpoint(p.client), 'mono'),
      td(endpoint(p.server), 'mono'), el('td', {class: 'name'}, hello ? str(p.sni) : '↳ server hello'),
      td(p.version), td(alpn), td(hello ? p.ja3_hash : '', 'mono small'), td(d.metadata.kitchen));
  }));
}

function renderRawChefs() {
  const sel = $('raw-chef');
  const cur = sel.value;
  sel.replaceChildren(...[...state.raw.keys()].sort().map((k) => el('option', {value: k}, k)));
  if (cur && state.raw.has(cur)) sel.value = cur;
  document.querySelector('.empty[data-for="raw-chef"]').hidden = state.raw.size > 0;
  mark('raw');
}

function renderRaw() {
  const list = state.raw.get($('raw-chef').value) || [];
  $('raw-view').textContent = list.join('\n\n');
  $('raw-view').hidden = list.length === 0;
  $('raw-count').textContent = list.length ? `latest ${list.length}` : '';
}

const COLORS = ['#2f6fde', '#e0672b', '#2a9d6f', '#c23b6e', '#8a5cd1', '#b08a18', '#1595b5',
  '#6b7280', '#d64545', '#4d9c2f', '#a15c2e', '#3c4fa8', '#0f766e', '#9d174d'];
const layerColor = new Map();
function colorOf(layer) {
  if (layerColor.size >= 256) layerColor.clear(); // layer names come from the network
  if (!layerColor.has(layer)) layerColor.set(layer, COLORS[layerColor.size % COLORS.length]);
  return layerColor.get(layer);
}

function renderPackets() {
  const sel = $('packets-kitchen');
  const kitchens = [...state.packets.keys()].sort();
  if (sel.options.length !== kitchens.length || kitchens.some((k, i) => sel.options[i].value !== k)) {
    const cur = sel.value;
    sel.replaceChildren(...kitchens.map((k) => el('option', {value: k}, k)));
    if (kitchens.includes(cur)) sel.value = cur;
  }
  const series = state.packets.get(sel.value) || [];
  const canvas = $('packets-chart');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 640, h = canvas.clientHeight || 220;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const last = series[series.length - 1];
  const layers = last ? Object.keys(last.counts).sort((a, b) => num(last.counts[b]) - num(last.counts[a])) : [];
  const legend = layers.map((layer) => {
    const prev = series.length > 1 ? series[series.length - 2] : null;
    const dt = prev ? last.t - prev.t : 0;
    const r = dt > 0 ? (num(last.counts[layer]) - num(prev.counts[layer])) / dt : null;
    return el('li', {'data-layer': layer},
      el('span', {class: 'swatch', style: `background:${colorOf(layer)}`}),
      el('span', {class: 'layer'}, layer), el('span', {class: 'count'}, fmtNum(num(last.counts[layer]))),
      r === null ? null : el('span', {class: 'muted small'}, ` ${fmtRate(r)}/s`));
  });
  fillBody({id: 'packets-legend', tBodies: [$('packets-legend')]}, legend);
  // Axes: x is the dumplings' creation time (capture time in a replay).
  const pad = {l: 52, r: 12, t: 10, b: 22};
  const cw = w - pad.l - pad.r, ch = h - pad.t - pad.b;
  const styles = getComputedStyle(document.body);
  g.font = '11px ' + styles.fontFamily;
  g.fillStyle = styles.getPropertyValue('--muted') || '#666';
  g.strokeStyle = styles.getPropertyValue('--grid') || '#e5e7eb';
  g.lineWidth = 1;
  if (!series.length) {
    g.fillText('no packet counts yet', pad.l, pad.t + ch / 2);
    return;
  }
  const t0 = series[0].t, t1 = Math.max(series[series.length - 1].t, t0 + 1);
  let ymax = 1;
  for (const s of series) for (const v of Object.values(s.counts)) ymax = Math.max(ymax, num(v));
  const mag = Math.pow(10, Math.floor(Math.log10(ymax)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => ymax / st <= 5) || mag * 10;
  ymax = Math.ceil(ymax / step) * step;
  const X = (t) => pad.l + (t - t0) / (t1 - t0) * cw;
  const Y = (v) => pad.t + ch - v / ymax * ch;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let v = 0; v <= ymax; v += step) {
    g.beginPath();
    g.moveTo(pad.l, Math.round(Y(v)) + 0.5);
    g.lineTo(pad.l + cw, Math.round(Y(v)) + 0.5);
    g.stroke();
    g.fillText(fmtNum(v), pad.l - 6, Y(v));
  }
  g.textAlign = 'left';
  g.textBaseline = 'top';
  g.fillText(fmtTime(t0), pad.l, pad.t + ch + 6);
  g.textAlign = 'right';
  g.fillText(fmtTime(t1), pad.l + cw, pad.t + ch + 6);
  g.lineWidth = 2;
  g.lineJoin = 'round';
  for (const layer of layers) {
    g.strokeStyle = colorOf(layer);
    g.beginPath();
    series.forEach((s, i) => {
      const x = X(s.t), y = Y(num(s.counts[layer]));
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    if (series.length === 1) g.lineTo(pad.l + cw, Y(num(last.counts[layer])));
    g.stroke();
  }
}

const RENDER = {
  status: renderStatus, dns: renderDNS, arp: renderARP, packets: renderPackets,
  flows: renderFlows, http: renderHTTP, tls: renderTLS, rawChefs: renderRawChefs, raw: renderRaw,
};

function render() {
  for (const what of Object.keys(RENDER)) {
    if (!dirty.has(what)) continue;
    dirty.delete(what);
    try {
      RENDER[what]();
    } catch (e) {
      console.error(`dashboard: rendering ${what} failed`, e);
    }
  }
  renderPageStats();
}

// A few renders a second at most, however fast dumplings come.
setInterval(() => {
  if (dirty.size || document.visibilityState === 'visible') requestAnimationFrame(render);
}, 250);

// ------------------------------------------------------------- connection

const url = params.get('hub') || hubUrl();
const eater = connect(url, {
  name: params.get('name') || 'dashboard',
  token: params.get('token') || undefined,
  reconnectMax: 5,
});
window.ndlDashboard = {eater, state};

eater.onDumpling(onDumpling);
eater.on('state', (s) => {
  const pill = $('conn-state');
  pill.dataset.state = s.state;
  pill.textContent = s.state;
  let detail = url;
  if (s.state === 'open') detail += s.batch ? ' · batch mode' : ' · one dumpling per message';
  if (s.state === 'reconnecting') {
    detail += ` · closed (${s.code}${s.reason ? ': ' + s.reason : ''}), next try in ${s.delay.toFixed(1)} s`;
  }
  if (s.state === 'closed' && s.code) detail += ` · closed (${s.code}${s.reason ? ': ' + s.reason : ''})`;
  $('conn-detail').textContent = detail;
  document.title = `netdumplings hub · ${s.state}`;
});
eater.on('drops', (ev) => {
  state.drops.notices++;
  state.drops.dropped += ev.dropped;
});
eater.on('gap', (ev) => {
  state.gaps.events++;
  state.gaps.missing += ev.missing;
});

for (const id of ['dns-filter', 'dns-fold']) $(id).addEventListener('input', () => mark('dns'));
$('packets-kitchen').addEventListener('change', () => mark('packets'));
$('raw-chef').addEventListener('change', () => mark('raw'));
window.addEventListener('resize', () => mark('packets'));
mark('dns', 'arp', 'packets', 'rawChefs');
