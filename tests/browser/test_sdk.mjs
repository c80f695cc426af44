// SPDX-License-Identifier: MIT
// The browser eater SDK (eater-sdk/browser/netdumplings.js), loaded from a
// real nd-hub's /sdk/ in chromium: batch lines split, batch and
// one-per-message eaters getting the same dumplings, gaps in metadata.seq,
// kitchen restarts, subscriptions while connected, drop notices from a hub
// whose eater queue overflows, the state events of a reconnect after a
// SIGKILLed hub, tokens, and the fallback when a hub takes no subprotocol.

import {ctl, check, log, main, waitIn, watchPage, TIMEOUT} from './lib.mjs';

function dumpling(kitchen, seq, chef = 'TestChef', extra = {}) {
  return {metadata: {chef, kitchen, creation_time: 1795322030.15, driver: 'packet', seq},
    payload: Object.assign({n: seq}, extra)};
}

/** A page on the hub's origin with the SDK imported as window.nd. */
async function sdkPage(browser, hub, errors) {
  const page = await browser.newPage();
  watchPage(page, errors);
  // Any document of the hub's origin will do: the SDK file itself.
  await page.goto(`http://127.0.0.1:${hub.out_port}/sdk/netdumplings.js`, {timeout: TIMEOUT});
  await page.evaluate(async () => {
    window.nd = await import('/sdk/netdumplings.js');
    window.T = {};
    // An eater that records everything it reports.
    window.record = (name, url, opts) => {
      const r = {states: [], dumplings: [], gaps: [], drops: [], restarts: [], errors: [], statusSeen: 0};
      const e = window.nd.connect(url, Object.assign({name}, opts || {}));
      e.on('state', (s) => r.states.push(s));
      e.on('gap', (g) => r.gaps.push(g));
      e.on('drops', (d) => r.drops.push(d));
      e.on('restart', (x) => r.restarts.push(x));
      e.on('error', (x) => r.errors.push(x));
      e.onDumpling((d) => {
        if (d.metadata.chef === 'SystemStatusChef') {
          r.statusSeen++;
          r.lastStatus = d.payload;
        } else if (r.dumplings.length < 5000) {
          r.dumplings.push(d);
        }
      });
      window.T[name] = {e, r};
      return true;
    };
  });
  return page;
}

main(async (browser) => {
  const errors = [];
  const hub = await ctl('hub_start', {key: 'hub', args: ['-f', '1']});
  const page = await sdkPage(browser, hub, errors);
  const url = `ws://127.0.0.1:${hub.out_port}/`;

  // ---- pure functions
  const unit = await page.evaluate(() => {
    const {splitBatch, subscriptionError, hubUrl} = window.nd;
    return {
      two: splitBatch('{"a":1}\n{"b":2}\n'),
      tail: splitBatch('{"a":1}\n{"b"'),
      empty: splitBatch(''),
      blank: splitBatch('\n\n{"a":1}\n'),
      subOk: subscriptionError({chefs: ['A'], drivers: []}),
      subBadKey: subscriptionError({chef: ['A']}),
      subBadList: subscriptionError({chefs: 'A'}),
      url: hubUrl({protocol: 'https:', host: 'h:1'}),
    };
  });
  check(JSON.stringify(unit.two) === JSON.stringify({lines: ['{"a":1}', '{"b":2}'], rest: ''}),
    'splitBatch splits JSON Lines', unit.two);
  check(unit.tail.lines.length === 1 && unit.tail.rest === '{"b"', 'splitBatch keeps an unterminated tail apart', unit.tail);
  check(unit.empty.lines.length === 0 && unit.blank.lines.length === 1, 'splitBatch skips empty lines', unit);
  check(unit.subOk === null && /chef/.test(unit.subBadKey) && /array/.test(unit.subBadList),
    'subscriptionError judges subscriptions', unit);
  check(unit.url === 'wss://h:1/', 'hubUrl of an https page is wss://', unit.url);

  // ---- batch and one-per-message eaters, gaps, restarts
  await page.evaluate((u) => {
    window.record('batcher', u);
    window.record('single', u, {batch: false});
  }, url);
  await waitIn(page, 'both eaters are open and their hellos accepted (a status dumpling came)',
    () => ['batcher', 'single'].every((n) => window.T[n].r.statusSeen > 0));
  const modes = await page.evaluate(() => ({b: window.T.batcher.e.stats().batch, s: window.T.single.e.stats().batch,
    open: window.T.batcher.r.states.filter((s) => s.state === 'open').map((s) => s.batch)}));
  check(modes.b === true && modes.s === false && modes.open[0] === true,
    'the hub takes batch mode from the eater that offers it, only', modes);

  // seq 1..300 without 101..110 and 250, in batches of 40, then the kitchen
  // restarts (seq from 1 again).
  const lines = [];
  for (let i = 1; i <= 300; i++) if (!(i >= 101 && i <= 110) && i !== 250) lines.push(dumpling('gappy', i));
  await ctl('kitchen', {hello: {kitchen_name: 'gappy'}, lines, batch: true, per_message: 40});
  await ctl('kitchen', {hello: {kitchen_name: 'gappy'}, lines: [1, 2, 3].map((i) => dumpling('gappy', i)), batch: false});
  const want = lines.length + 3;
  await waitIn(page, `both eaters get all ${want} dumplings`,
    (n) => ['batcher', 'single'].every((k) => window.T[k].r.dumplings.length === n), want);
  const res = await page.evaluate(() => {
    const out = {};
    for (const k of ['batcher', 'single']) {
      const {e, r} = window.T[k];
      out[k] = {stats: e.stats(), gaps: r.gaps, restarts: r.restarts, errors: r.errors.length,
        seqs: r.dumplings.map((d) => d.metadata.seq)};
    }
    return out;
  });
  for (const k of ['batcher', 'single']) {
    const r = res[k];
    check(JSON.stringify(r.gaps) === JSON.stringify([
      {kitchen: 'gappy', expected: 101, got: 111, missing: 10},
      {kitchen: 'gappy', expected: 250, got: 251, missing: 1}]), `${k}: the two gaps are reported`, r.gaps);
    check(r.stats.gaps === 2 && r.stats.missing === 11, `${k}: stats count 2 gaps, 11 missing`, r.stats);
    check(r.restarts.length === 1 && r.restarts[0].seq === 1 && r.stats.restarts === 1,
      `${k}: the kitchen restart is reported, not taken for a gap`, r.restarts);
    check(r.errors === 0 && r.stats.parseErrors === 0, `${k}: no parse errors`, r.stats);
    check(r.seqs.slice(-4).join() === '300,1,2,3', `${k}: dumplings arrive in order`, r.seqs.slice(-4));
    check(r.stats.lastSeq.gappy === 3, `${k}: stats keep the last seq per kitchen`, r.stats.lastSeq);
  }
  check(res.batcher.stats.messages < res.batcher.stats.dumplings,
    'batch mode: fewer messages than dumplings (lines were split)', res.batcher.stats);
  check(res.single.stats.messages === res.single.stats.dumplings,
    'one per message: as many messages as dumplings', res.single.stats);

  // ---- a subscription changed while connected
  const sent = await page.evaluate(() => {
    window.T.batcher.r.dumplings.length = 0;
    return window.T.batcher.e.subscribe({chefs: ['WantedChef', 'SystemStatusChef']});
  });
  check(sent === true, 'subscribe() sends at once while open');
  await waitIn(page, 'the hub shows the new subscription in its status',
    () => {
      const s = window.T.batcher.r.lastStatus;
      return s && s.dumpling_eaters.some((e) => e.info_from_eater.eater_name === 'batcher' &&
        JSON.stringify(e.info_from_hub.subscribe) === '{"chefs":["WantedChef","SystemStatusChef"]}');
    });
  const mixed = [];
  for (let i = 1; i <= 20; i++) mixed.push(dumpling('subk', i, i % 2 ? 'WantedChef' : 'OtherChef'));
  await ctl('kitchen', {hello: {kitchen_name: 'subk'}, lines: mixed, batch: true, per_message: 7});
  await waitIn(page, 'the single eater gets all 20 dumplings',
    () => window.T.single.r.dumplings.filter((d) => d.metadata.kitchen === 'subk').length === 20);
  await page.waitForTimeout(500);
  const sub = await page.evaluate(() => ({
    chefs: [...new Set(window.T.batcher.r.dumplings.map((d) => d.metadata.chef))],
    n: window.T.batcher.r.dumplings.length,
    gaps: window.T.batcher.e.stats().gaps,
  }));
  check(sub.n === 10 && sub.chefs.join() === 'WantedChef',
    'the subscribed eater gets only the chef it asked for', sub);
  check(sub.gaps === 2, 'numbers skipped by a chef subscription are not taken for gaps', sub);

  // ---- reconnect: the hub is killed and comes back on the same ports
  await page.evaluate((u) => {
    window.T.batcher.e.close();
    window.T.single.e.close();
    window.record('phoenix', u, {reconnectMin: 0.1, reconnectMax: 0.8});
  }, url);
  await waitIn(page, 'the reconnecting eater is open', () => window.T.phoenix.r.statusSeen > 0);
  await ctl('hub_kill', {key: 'hub', sig: 'KILL'});
  await waitIn(page, 'it reports reconnecting with close code 1006',
    () => window.T.phoenix.r.states.some((s) => s.state === 'reconnecting' && s.code === 1006));
  await ctl('sleep', {seconds: 3});
  const hub2 = await ctl('hub_start', {key: 'hub', args: ['-f', '1'], in_port: hub.in_port, out_port: hub.out_port});
  check(hub2.out_port === hub.out_port, 'the hub is back on the same ports');
  await waitIn(page, 'it is open again and hears the new hub', () => {
    const r = window.T.phoenix.r;
    return r.states[r.states.length - 1].state === 'open' && r.lastStatus && r.lastStatus.server_uptime < 30;
  });
  const rs = await page.evaluate(() => ({states: window.T.phoenix.r.states, stats: window.T.phoenix.e.stats()}));
  const seq = rs.states.map((s) => s.state);
  log('states:', seq.join(' '));
  check(seq[0] === 'connecting' && seq[1] === 'open', 'states start connecting, open', seq.slice(0, 2));
  const retries = rs.states.filter((s) => s.state === 'reconnecting');
  check(retries.length >= 3, 'several attempts while the hub was away', retries.length);
  check(retries.every((s) => s.delay > 0 && s.delay <= 0.8 && s.final === false),
    'every wait is within the configured maximum', retries.map((s) => s.delay));
  check(retries.slice(1).every((s) => s.code === 1006), 'failed attempts report 1006', retries.map((s) => s.code));
  const ok = seq.slice(2).every((s, i) => (s === 'reconnecting' ? seq[2 + i + 1] === 'connecting' ||
    i + 3 === seq.length : true));
  check(ok && seq[seq.length - 1] === 'open', 'reconnecting is followed by connecting, ending open', seq);
  check(rs.stats.connects === 2 && rs.stats.reconnects === retries.length, 'stats count connects and reconnects', rs.stats);

  // ---- tokens: a wrong token closes for good with 4104, the right one works
  const thub = await ctl('hub_start', {key: 'tokens', args: ['-f', '1'],
    files: {'--eater-token-file': '# eaters\nsecret-1\n'}});
  const turl = `ws://127.0.0.1:${thub.out_port}/`;
  const tpage = await sdkPage(browser, thub, errors);
  await tpage.evaluate((u) => {
    window.record('badtoken', u, {token: 'wrong', reconnectMin: 0.1});
    window.record('goodtoken', u, {token: 'secret-1'});
  }, turl);
  await waitIn(tpage, 'a wrong token: closed, final, code 4104',
    () => window.T.badtoken.r.states.some((s) => s.state === 'closed' && s.code === 4104 && s.final));
  await waitIn(tpage, 'the right token: status dumplings come', () => window.T.goodtoken.r.statusSeen > 0);
  await tpage.waitForTimeout(800);
  const bad = await tpage.evaluate(() => window.T.badtoken.e.stats());
  check(bad.reconnects === 0 && bad.state === 'closed', 'no reconnect after 4104', bad);
  await tpage.evaluate(() => window.T.badtoken.e.close());

  // ---- drop notices: an eater that stops reading overflows its queue
  const dhub = await ctl('hub_start', {key: 'drops', args: ['-f', '1', '--eater-queue', '20']});
  const dpage = await sdkPage(browser, dhub, errors);
  await dpage.evaluate((u) => window.record('slow', u), `ws://127.0.0.1:${dhub.out_port}/`);
  await waitIn(dpage, 'the slow eater is open', () => window.T.slow.r.statusSeen > 0);
  // Block the page's thread while a kitchen floods the hub: chromium stops
  // reading the socket, the hub's queue for this eater fills and drops.
  const blocked = dpage.evaluate(() => {
    const end = Date.now() + 8000;
    while (Date.now() < end) { /* busy */ }
    return true;
  });
  await ctl('flood', {hub: 'drops', count: 12000, size: 3000, per_message: 20});
  await blocked;
  await waitIn(dpage, 'drop notices arrive (SystemDropsChef)', () => window.T.slow.r.drops.length > 0);
  await waitIn(dpage, 'the flood\'s last dumpling arrives', () =>
    window.T.slow.r.dumplings.some((d) => d.metadata.seq === 12000));
  const dr = await dpage.evaluate(() => ({drops: window.T.slow.r.drops, stats: window.T.slow.e.stats()}));
  const sum = dr.drops.reduce((a, d) => a + d.dropped, 0);
  check(sum > 0 && dr.stats.dropped === sum && dr.stats.dropNotices === dr.drops.length,
    'stats add up the drop notices', {sum, stats: dr.stats});
  check(dr.drops[dr.drops.length - 1].totalDropped === sum && dr.drops.every((d) => d.policy === 'drop-oldest'),
    'the last notice\'s total is the sum of the counts', dr.drops.slice(-3));
  check(dr.stats.missing > 0 && dr.stats.missing <= sum,
    'the dropped dumplings show as gaps too (never more than dropped)', {missing: dr.stats.missing, sum});

  // ---- a hub that takes no subprotocol: one dumpling per message
  const fake = await ctl('fake_hub_start', {key: 'fake', lines: [dumpling('old', 1), dumpling('old', 2)]});
  await page.evaluate((u) => window.record('fallback', u, {token: 't', subscribe: {chefs: ['TestChef']}}),
    `ws://127.0.0.1:${fake.port}/`);
  await waitIn(page, 'falling back, the eater reads one dumpling per message',
    () => window.T.fallback.r.dumplings.length === 2 && window.T.fallback.e.stats().batch === false);
  const rep = await ctl('fake_hub_report', {key: 'fake'});
  check(rep.offered[0] === 'netdumplings.batch.v1' && rep.offered[rep.offered.length - 1] === null,
    'the SDK offers batch mode first, then falls back to no offer', rep.offered);
  check(JSON.stringify(rep.hello) === '{"eater_name":"fallback","token":"t","subscribe":{"chefs":["TestChef"]}}',
    'the hello carries name, token and subscription', rep.hello);
  const fb = await page.evaluate(() => window.T.fallback.r.states.map((s) => s.state + (s.code ? ' ' + s.code : '')));
  log('fallback states:', fb.join(', '));

  const san = await ctl('check_sanitizers');
  check(san.reports.length === 0, 'no sanitizer report from the killed hub', san.reports);
  // Failed connections are logged by chromium itself; /favicon.ico is asked
  // for the SDK file opened as a page.
  const real = errors.filter((e) => !/WebSocket connection to .* failed|favicon\.ico/.test(e));
  check(real.length === 0, 'no script errors in the pages', real.slice(0, 5));
});
