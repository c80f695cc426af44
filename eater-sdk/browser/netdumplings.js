// SPDX-License-Identifier: MIT
/**
 * netdumplings browser eater SDK: receive dumplings from an nd-hub in a web
 * page. A dependency-free ES module speaking the wire protocol of
 * docs/protocol.md: the eater hello (section 3), subscriptions (section 9),
 * batch mode (section 10), drop notices (section 11) and tokens (section 12).
 *
 *   import {connect} from 'http://hub.example:11348/sdk/netdumplings.js';
 *   const eater = connect('ws://hub.example:11348/', {name: 'mypage'});
 *   eater.onDumpling((d) => console.log(d.metadata.chef, d.payload));
 *   eater.on('state', (s) => console.log(s.state, s.code, s.reason));
 *
 * Everything runs on the page's main thread; no method blocks. Memory is
 * bounded: the SDK keeps counters and one sequence number per kitchen (at
 * most `maxKitchens` of them), never the dumplings themselves.
 *
 * @module netdumplings
 */

/** The WebSocket subprotocol of batch mode (protocol.md section 10). */
export const BATCH_PROTOCOL = 'netdumplings.batch.v1';

/** Chef name of the hub's status dumplings (protocol.md section 5). */
export const STATUS_CHEF = 'SystemStatusChef';

/** Chef name of the hub's drop notices (protocol.md section 11). */
export const DROPS_CHEF = 'SystemDropsChef';

/**
 * Close codes after which reconnecting cannot help: the hello or the token
 * is wrong (protocol.md sections 6 and 12). The eater stays closed.
 */
export const FATAL_CLOSE_CODES = Object.freeze([1003, 1007, 1008, 1009, 4104]);

const DEFAULTS = Object.freeze({
  name: 'browsereater',
  token: null,
  subscribe: null,
  batch: true,
  reconnect: true,
  reconnectMin: 0.25,
  reconnectMax: 10,
  detectGaps: 'auto',
  maxKitchens: 1024,
});

/**
 * The URL of the hub that served the current page: `ws://HOST:PORT/` (or
 * `wss://` for an https page).
 *
 * @param {Location} [loc] a location object; defaults to `window.location`
 * @returns {string} the WebSocket URL of that hub's eater port
 */
export function hubUrl(loc) {
  const l = loc || globalThis.location;
  return (l.protocol === 'https:' ? 'wss://' : 'ws://') + l.host + '/';
}

/**
 * Whether a subscription object is well formed (protocol.md section 9): an
 * object with at most the keys `chefs`, `kitchens` and `drivers`, each an
 * array of strings. The hub is the judge; this catches mistakes early.
 *
 * @param {*} sub the candidate subscription
 * @returns {string|null} null when good, else what is wrong
 */
export function subscriptionError(sub) {
  if (sub === null || typeof sub !== 'object' || Array.isArray(sub)) {
    return 'a subscription is an object';
  }
  for (const key of Object.keys(sub)) {
    if (key !== 'chefs' && key !== 'kitchens' && key !== 'drivers') {
      return `unknown subscription key "${key}"`;
    }
    const list = sub[key];
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
      return `subscription "${key}" must be an array of strings`;
    }
  }
  return null;
}

/**
 * Split one batch-mode message (JSON Lines, protocol.md section 10) into its
 * lines. The last line must end with a line feed; what follows the last line
 * feed is returned as `rest` (a malformed tail).
 *
 * @param {string} text the message
 * @returns {{lines: string[], rest: string}} complete lines, without their
 *   line feeds, empty lines left out; and any unterminated tail
 */
export function splitBatch(text) {
  const lines = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    if (nl > start) lines.push(text.slice(start, nl));
    start = nl + 1;
  }
  return {lines, rest: text.slice(start)};
}

/**
 * A dumpling as the SDK hands it over: the parsed JSON document.
 *
 * @typedef {object} Dumpling
 * @property {{chef: string, kitchen: (string|null), creation_time: number,
 *   driver: string, seq: (number|undefined)}} metadata
 * @property {*} payload the chef's data (see docs/chefs/)
 */

/**
 * A state change.
 *
 * @typedef {object} StateEvent
 * @property {('connecting'|'open'|'closed'|'reconnecting')} state
 * @property {number|null} code the close code (on closed / reconnecting;
 *   1006 when the connection broke or could not be made)
 * @property {string} reason the close reason the hub gave, or ''
 * @property {number} attempt the reconnect attempt (0 on the first connect)
 * @property {number|null} delay seconds until the next attempt (reconnecting)
 * @property {boolean} batch whether this connection is in batch mode (open)
 * @property {boolean} final true on closed: no more attempts will be made
 */

/**
 * A gap in one kitchen's sequence numbers (`metadata.seq`, protocol.md
 * section 4): dumplings made by the kitchen that this eater did not get.
 *
 * @typedef {object} GapEvent
 * @property {string} kitchen the kitchen's name
 * @property {number} expected the sequence number that should have come
 * @property {number} got the one that came
 * @property {number} missing how many are missing (got - expected)
 */

/**
 * A drop notice from the hub (protocol.md section 11).
 *
 * @typedef {object} DropsEvent
 * @property {number} dropped dumplings lost at this point of the stream
 * @property {number} totalDropped dumplings this eater lost on this connection
 * @property {string} policy the hub's lag policy
 */

/**
 * Counters of one eater, all since it was created.
 *
 * @typedef {object} EaterStats
 * @property {string} state the current state
 * @property {string} url
 * @property {boolean} batch whether the current connection is in batch mode
 * @property {number} connects connections opened
 * @property {number} reconnects reconnect attempts scheduled
 * @property {number} messages WebSocket messages received
 * @property {number} bytes characters received
 * @property {number} dumplings dumplings handed to listeners
 * @property {number} parseErrors lines or messages that were not a dumpling
 * @property {number} gaps gap events
 * @property {number} missing dumplings missing according to gaps
 * @property {number} restarts kitchens seen starting their numbering again
 * @property {number} dropNotices drop notices received
 * @property {number} dropped dumplings the hub said it dropped for this eater
 * @property {Object<string, number>} lastSeq last sequence number per kitchen
 * @property {number|null} lastCloseCode
 * @property {string} lastCloseReason
 */

/**
 * One eater: a WebSocket connection to a hub that reconnects by itself.
 * Create it with {@link connect}.
 */
export class Eater {
  /**
   * @param {string} url the hub's eater port, `ws://HOST:PORT/` or `wss://...`
   * @param {object} [options] see {@link connect}
   */
  constructor(url, options) {
    this.url = url;
    this.options = Object.assign({}, DEFAULTS, options || {});
    if (this.options.subscribe !== null) {
      const err = subscriptionError(this.options.subscribe);
      if (err) throw new TypeError(err);
    }
    this._subscribe = this.options.subscribe;
    this._listeners = new Map();
    this._ws = null;
    this._timer = null;
    this._attempt = 0;
    this._stopped = false;
    this._noOfferNext = false;
    this._offered = false;
    this._openedAt = 0;
    this._heard = false;
    this._seq = new Map();
    this._stats = {
      state: 'closed', url, batch: false, connects: 0, reconnects: 0,
      messages: 0, bytes: 0, dumplings: 0, parseErrors: 0, gaps: 0,
      missing: 0, restarts: 0, dropNotices: 0, dropped: 0,
      lastCloseCode: null, lastCloseReason: '',
    };
  }

  /**
   * Listen to an event: `'dumpling'` ({@link Dumpling}), `'state'`
   * ({@link StateEvent}), `'gap'` ({@link GapEvent}), `'drops'`
   * ({@link DropsEvent}), `'restart'` ({kitchen, seq}: a kitchen's numbers
   * started again), `'error'` ({message, data}: a line that is not a
   * dumpling). Listeners run in the order added; one that throws does not
   * stop the others (the exception is reported with console.error).
   *
   * @param {string} event the event name
   * @param {function} cb the listener
   * @returns {function} call it to remove the listener
   */
  on(event, cb) {
    if (typeof cb !== 'function') throw new TypeError('listener must be a function');
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(cb);
    return () => this._listeners.get(event).delete(cb);
  }

  /**
   * Listen to every dumpling, the hub's own (status, drop notices) included.
   *
   * @param {function(Dumpling): void} cb
   * @returns {function} call it to remove the listener
   */
  onDumpling(cb) {
    return this.on('dumpling', cb);
  }

  /**
   * Replace the subscription (protocol.md section 9). Sent at once when
   * connected, and in the hello of every later connection.
   *
   * @param {{chefs: string[], kitchens: string[], drivers: string[]}|null} sub
   *   the new subscription; `{}` or null for everything
   * @returns {boolean} true when it was sent now, false when it waits for
   *   the next connection
   * @throws {TypeError} when sub is malformed
   */
  subscribe(sub) {
    const s = sub === null ? {} : sub;
    const err = subscriptionError(s);
    if (err) throw new TypeError(err);
    this._subscribe = s;
    this._seq.clear(); // numbers skipped on purpose are not losses
    if (this._ws && this._ws.readyState === 1) {
      this._ws.send(JSON.stringify({subscribe: s}));
      return true;
    }
    return false;
  }

  /**
   * Counters and state; a fresh copy each call.
   *
   * @returns {EaterStats}
   */
  stats() {
    const s = Object.assign({}, this._stats);
    s.lastSeq = Object.fromEntries(this._seq);
    return s;
  }

  /** @returns {string} the current state */
  get state() {
    return this._stats.state;
  }

  /**
   * Close for good: no more reconnects. Emits a final `closed` state.
   *
   * @param {number} [code] close code, 1000 or 3000-4999 (default 1000)
   * @param {string} [reason] at most 123 bytes
   */
  close(code, reason) {
    this._stopped = true;
    clearTimeout(this._timer);
    this._timer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(code || 1000, reason || '');
      } catch (e) {
        ws.close();
      }
    }
    this._setState({state: 'closed', code: code || 1000, reason: reason || '', final: true});
  }

  /**
   * Connect again after {@link Eater#close}, or for an eater made with
   * `new Eater(...)`. Does nothing while a connection is open or opening.
   */
  start() {
    this._stopped = false;
    if (!this._ws) this._open();
  }

  _emit(event, arg) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const cb of Array.from(set)) {
      try {
        cb(arg);
      } catch (e) {
        console.error(`netdumplings: a "${event}" listener threw`, e);
      }
    }
  }

  _setState(ev) {
    const full = Object.assign({
      code: null, reason: '', attempt: this._attempt, delay: null,
      batch: this._stats.batch, final: false,
    }, ev);
    this._stats.state = full.state;
    this._emit('state', full);
  }

  _open() {
    clearTimeout(this._timer);
    this._timer = null;
    this._setState({state: 'connecting'});
    // Browsers fail a handshake whose answer names no subprotocol when one
    // was offered (a hub without batch mode), and report it as 1006 like a
    // hub that is down: after a batch offer that never opened, the next
    // attempt offers nothing, the one after that batch again.
    const offer = this.options.batch && !this._noOfferNext;
    let ws;
    try {
      ws = offer ? new WebSocket(this.url, [BATCH_PROTOCOL]) : new WebSocket(this.url);
    } catch (e) {
      // A malformed URL: nothing to retry.
      this._stopped = true;
      this._setState({state: 'closed', code: null, reason: String(e.message || e), final: true});
      return;
    }
    this._ws = ws;
    this._offered = offer;
    this._openedAt = 0;
    this._heard = false;
    ws.onopen = () => {
      this._openedAt = Date.now();
      this._stats.batch = ws.protocol === BATCH_PROTOCOL;
      this._stats.connects++;
      const hello = {eater_name: this.options.name};
      if (this.options.token) hello.token = this.options.token;
      if (this._subscribe) hello.subscribe = this._subscribe;
      ws.send(JSON.stringify(hello));
      this._setState({state: 'open', batch: this._stats.batch});
    };
    ws.onmessage = (ev) => {
      this._heard = true;
      this._message(ev.data);
    };
    ws.onclose = (ev) => this._closed(ws, ev.code, ev.reason);
  }

  _closed(ws, code, reason) {
    if (ws !== this._ws) return;
    this._ws = null;
    this._noOfferNext = this._offered && !this._openedAt;
    // The backoff starts again only after a connection that worked: one
    // the hub sent something on, or that stayed open a while. A hub that
    // accepts and at once closes (a refused hello) is not hammered.
    if (this._heard || (this._openedAt && Date.now() - this._openedAt >= 5000)) this._attempt = 0;
    this._stats.lastCloseCode = code;
    this._stats.lastCloseReason = reason || '';
    this._stats.batch = false;
    if (this._stopped || !this.options.reconnect || FATAL_CLOSE_CODES.includes(code)) {
      this._stopped = true;
      this._setState({state: 'closed', code, reason: reason || '', final: true});
      return;
    }
    // Exponential backoff with full jitter over its upper half, so that many
    // pages reconnecting to a restarted hub do not all come at once.
    const o = this.options;
    const ceiling = Math.min(o.reconnectMax, o.reconnectMin * Math.pow(2, this._attempt));
    const delay = ceiling / 2 + Math.random() * ceiling / 2;
    this._attempt++;
    this._stats.reconnects++;
    this._setState({state: 'reconnecting', code, reason: reason || '', delay});
    this._timer = setTimeout(() => this._open(), delay * 1000);
  }

  _message(data) {
    if (typeof data !== 'string') {
      this._stats.parseErrors++;
      this._emit('error', {message: 'binary message', data: null});
      return;
    }
    this._stats.messages++;
    this._stats.bytes += data.length;
    if (!this._stats.batch) {
      this._line(data);
      return;
    }
    const {lines, rest} = splitBatch(data);
    for (const line of lines) this._line(line);
    if (rest.trim() !== '') {
      this._stats.parseErrors++;
      this._emit('error', {message: 'batch message without a final line feed',
        data: rest.slice(0, 200)});
    }
  }

  _line(text) {
    let d;
    try {
      d = JSON.parse(text);
    } catch (e) {
      d = null;
    }
    const m = d && typeof d === 'object' ? d.metadata : null;
    if (!m || typeof m !== 'object' || typeof m.chef !== 'string') {
      this._stats.parseErrors++;
      this._emit('error', {message: 'not a dumpling', data: text.slice(0, 200)});
      return;
    }
    if (m.kitchen === null && m.chef === DROPS_CHEF) {
      const p = d.payload || {};
      const ev = {dropped: Number(p.dropped) || 0, totalDropped: Number(p.total_dropped) || 0,
        policy: String(p.policy || '')};
      this._stats.dropNotices++;
      this._stats.dropped += ev.dropped;
      this._emit('drops', ev);
    } else if (typeof m.kitchen === 'string' && Number.isInteger(m.seq)) {
      this._checkSeq(m.kitchen, m.seq);
    }
    this._stats.dumplings++;
    this._emit('dumpling', d);
  }

  _gapsWanted() {
    const g = this.options.detectGaps;
    if (g !== 'auto') return !!g;
    // A subscription by chef or driver skips numbers on purpose.
    const s = this._subscribe;
    return !s || ((!s.chefs || s.chefs.length === 0) && (!s.drivers || s.drivers.length === 0));
  }

  _checkSeq(kitchen, seq) {
    const last = this._seq.get(kitchen);
    if (last === undefined) {
      if (this._seq.size >= this.options.maxKitchens) {
        // Forget the kitchen heard from least recently (Map keeps insertion order).
        this._seq.delete(this._seq.keys().next().value);
      }
    } else if (seq <= last) {
      // The kitchen restarted (protocol.md section 4: numbers start again at 1).
      this._stats.restarts++;
      this._emit('restart', {kitchen, seq});
    } else if (seq > last + 1 && this._gapsWanted()) {
      const ev = {kitchen, expected: last + 1, got: seq, missing: seq - last - 1};
      this._stats.gaps++;
      this._stats.missing += ev.missing;
      this._emit('gap', ev);
    }
    this._seq.delete(kitchen);
    this._seq.set(kitchen, seq);
  }
}

/**
 * Connect to a hub's eater port and keep connected.
 *
 * @param {string} [url] `ws://HOST:PORT/` or `wss://HOST:PORT/`; default the
 *   hub that served the page ({@link hubUrl})
 * @param {object} [options]
 * @param {string} [options.name='browsereater'] the eater's name in the hub's status
 * @param {string} [options.token] an eater token (protocol.md section 12)
 * @param {object} [options.subscribe] the first subscription (section 9)
 * @param {boolean} [options.batch=true] offer batch mode (section 10); a hub
 *   that does not take it is read one dumpling per message. A browser fails
 *   the handshake with a hub that answers no subprotocol, so after an offer
 *   that did not open the next attempt offers none (and the one after that
 *   offers batch again)
 * @param {boolean} [options.reconnect=true] reconnect after a close, except
 *   after {@link FATAL_CLOSE_CODES}
 * @param {number} [options.reconnectMin=0.25] first wait, seconds; it doubles
 *   per failed attempt, and each wait is drawn between half and all of it
 * @param {number} [options.reconnectMax=10] longest wait, seconds
 * @param {boolean|string} [options.detectGaps='auto'] report gaps in each
 *   kitchen's `metadata.seq`; 'auto' does unless the subscription names
 *   chefs or drivers (which skip numbers on purpose)
 * @param {number} [options.maxKitchens=1024] most kitchens whose numbers are kept
 * @returns {Eater} the eater; it starts connecting in a microtask, so
 *   listeners added right after this call see every event, the first
 *   `connecting` included
 */
export function connect(url, options) {
  const e = new Eater(url || hubUrl(), options);
  queueMicrotask(() => {
    if (!e._stopped && !e._ws) e._open();
  });
  return e;
}
