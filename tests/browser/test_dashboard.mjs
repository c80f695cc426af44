// SPDX-License-Identifier: MIT
// The dashboard in Debian's chromium against a real nd-hub fed by a real
// nd-sniff replaying tests/captures/demo.pcap: DNS names, the ARP table,
// packet counts and the kitchen in the status table show up; a hub killed
// with SIGKILL and started again on the same ports is reconnected to and
// the page shows the second replay's data. Network data is shown as text,
// and the page's lists stay within their caps.

import path from 'node:path';
import {ctl, check, log, main, waitIn, watchPage, TIMEOUT} from './lib.mjs';

const DEMO = 'tests/captures/demo.pcap';

main(async (browser) => {
  // What the capture holds, from the kitchen itself.
  const {dumplings} = await ctl('expect', {file: DEMO, name: 'demo_kitchen'});
  const dnsCount = {};
  const arp = {};
  let lastCounts = {};
  const urls = new Set();
  for (const d of dumplings) {
    const m = d.metadata, p = d.payload;
    if (m.chef === 'DNSLookupChef' && m.driver === 'packet') {
      dnsCount[p.lookup.hostname] = (dnsCount[p.lookup.hostname] || 0) + 1;
    }
    if (m.chef === 'ARPChef' && p.src_ip !== '0.0.0.0') arp[p.src_ip] = p.src_hw;
    if (m.chef === 'PacketCountChef') lastCounts = p.packet_counts;
    if (m.chef === 'HTTPRequestChef' && p.kind === 'request' && p.url) urls.add(p.url);
  }
  const names = Object.keys(dnsCount);
  log('capture: DNS names', names.join(' '), '; ARP', JSON.stringify(arp), '; URLs', [...urls].join(' '));
  check(names.length >= 3 && Object.keys(arp).length >= 2 && urls.size >= 1,
    'the capture has DNS lookups, ARP and HTTP', {names, arp});

  const hub = await ctl('hub_start', {key: 'hub', args: ['-f', '1']});
  const base = `http://127.0.0.1:${hub.out_port}/`;
  const page = await browser.newPage({viewport: {width: 1440, height: 1300}});
  const errors = [];
  watchPage(page, errors);
  await page.goto(base, {timeout: TIMEOUT});
  await waitIn(page, 'the page connects (state open)',
    () => document.querySelector('#conn-state').dataset.state === 'open');

  // A live replay: the kitchen stays connected for the capture's 20 seconds.
  await ctl('replay_start', {key: 'first', file: DEMO, name: 'demo_kitchen', args: ['--realtime']});
  await waitIn(page, 'the kitchen shows in the kitchens table',
    () => [...document.querySelectorAll('#kitchens-table tbody tr[data-live="yes"] td.name')]
      .some((t) => t.textContent === 'demo_kitchen'));
  const first = await ctl('replay_wait', {key: 'first'});
  check(first.rc === 0, 'the first replay exits 0', first.stderr);

  await waitIn(page, 'every DNS name of the capture is listed with its count',
    (want) => {
      const rows = Object.fromEntries([...document.querySelectorAll('#dns-table tbody tr')]
        .map((tr) => [tr.cells[0].firstChild.textContent, Number(tr.cells[1].textContent.replace(/,/g, ''))]));
      return Object.entries(want).every(([n, c]) => rows[n] === c) && rows;
    }, dnsCount);
  await waitIn(page, 'the ARP table maps every IP address to its latest MAC',
    (want) => {
      const rows = Object.fromEntries([...document.querySelectorAll('#arp-table tbody tr')]
        .map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]));
      return Object.entries(want).every(([ip, mac]) => rows[ip] === mac);
    }, arp);
  await waitIn(page, 'packet counts are shown, > 0, as the kitchen last counted them',
    (want) => {
      const li = [...document.querySelectorAll('#packets-legend li')];
      const got = Object.fromEntries(li.map((l) => [l.dataset.layer,
        Number(l.querySelector('.count').textContent.replace(/,/g, ''))]));
      return li.length > 0 && Object.values(got).every((v) => v > 0) &&
        Object.entries(want).every(([k, v]) => got[k] === v);
    }, lastCounts);
  await waitIn(page, 'HTTP requests show with their URLs',
    (want) => !document.querySelector('#http').hidden &&
      want.every((u) => [...document.querySelectorAll('#http-table td.url')].some((t) => t.textContent === u)),
    [...urls]);
  await waitIn(page, 'flows show when FlowChef reports one',
    () => !document.querySelector('#flows').hidden && document.querySelectorAll('#flows-table tbody tr').length > 0);
  await waitIn(page, 'other chefs (NetwatchChef) have a raw JSON view',
    () => [...document.querySelectorAll('#raw-chef option')].some((o) => o.value === 'NetwatchChef'));
  await waitIn(page, 'the finished kitchen stays listed as gone',
    () => [...document.querySelectorAll('#kitchens-table tbody tr[data-live="no"] td.name')]
      .some((t) => t.firstChild.textContent === 'demo_kitchen'));
  await waitIn(page, 'the eaters table lists the dashboard itself, in batch mode, with its address',
    () => [...document.querySelectorAll('#eaters-table tbody tr')]
      .some((tr) => tr.cells[0].textContent === 'dashboard' && tr.cells[7].textContent === 'yes' &&
        /^127\.0\.0\.1:\d+$/.test(tr.cells[1].textContent)));

  // TLS: the server names of a second capture.
  const tls = await ctl('replay', {file: 'tests/captures/tls-lo.pcap', name: 'tls_kitchen'});
  check(tls.rc === 0, 'the TLS replay exits 0', tls.stderr);
  await waitIn(page, 'TLS ClientHellos show with their server name and JA3',
    () => !document.querySelector('#tls').hidden &&
      [...document.querySelectorAll('#tls-table tbody tr')].filter((tr) =>
        tr.cells[3].textContent === 'www.example.test' && /^[0-9a-f]{32}$/.test(tr.cells[6].textContent)).length === 2);

  // Folding and filtering.
  await page.selectOption('#dns-fold', '2');
  const total = Object.values(dnsCount).reduce((a, b) => a + b, 0);
  await waitIn(page, 'folded to 2 labels, example.test counts every lookup',
    (n) => {
      const tr = [...document.querySelectorAll('#dns-table tbody tr')];
      return tr.length === 1 && tr[0].cells[0].firstChild.textContent === 'example.test' &&
        Number(tr[0].cells[1].textContent) === n;
    }, total);
  await page.selectOption('#dns-fold', '0');
  await page.fill('#dns-filter', 'cdn');
  await waitIn(page, 'the host filter keeps matching names only',
    () => {
      const tr = [...document.querySelectorAll('#dns-table tbody tr')];
      return tr.length === 1 && tr[0].cells[0].firstChild.textContent === 'cdn.example.test';
    });
  await page.fill('#dns-filter', '');
  await page.selectOption('#raw-chef', 'NetwatchChef');
  await waitIn(page, 'the raw view shows NetwatchChef dumplings as JSON',
    () => document.querySelector('#raw-view').textContent.includes('"chef": "NetwatchChef"'));

  const shot = path.join(process.env.NDL_BROWSER_OUT, 'dashboard.png');
  await page.waitForTimeout(600);
  await page.screenshot({path: shot, fullPage: true});
  console.log(`# screenshot: ${shot}`);

  // The hub dies without a word and comes back on the same ports.
  await ctl('hub_kill', {key: 'hub', sig: 'KILL'});
  await waitIn(page, 'the page sees the connection break (reconnecting, 1006)',
    () => document.querySelector('#conn-state').dataset.state !== 'open' &&
      document.querySelector('#conn-detail').textContent.includes('1006'));
  await ctl('hub_start', {key: 'hub', args: ['-f', '1'], in_port: hub.in_port, out_port: hub.out_port});
  await waitIn(page, 'the page reconnects to the new hub (state open again)',
    () => document.querySelector('#conn-state').dataset.state === 'open');
  await waitIn(page, 'the hub status starts again (uptime of the new hub)',
    () => window.ndlDashboard.state.status && window.ndlDashboard.state.status.server_uptime < 30 &&
      window.ndlDashboard.eater.stats().connects === 2);
  const second = await ctl('replay', {file: DEMO, name: 'demo_kitchen_2'});
  check(second.rc === 0, 'the second replay exits 0', second.stderr);
  const doubled = Object.fromEntries(Object.entries(dnsCount).map(([n, c]) => [n, 2 * c]));
  await waitIn(page, 'the second replay adds to the DNS counts',
    (want) => {
      const rows = Object.fromEntries([...document.querySelectorAll('#dns-table tbody tr')]
        .map((tr) => [tr.cells[0].firstChild.textContent, Number(tr.cells[1].textContent.replace(/,/g, ''))]));
      return Object.entries(want).every(([n, c]) => rows[n] === c);
    }, doubled);
  await waitIn(page, 'the second kitchen has its own packet-count series',
    () => [...document.querySelectorAll('#packets-kitchen option')].some((o) => o.value === 'demo_kitchen_2'));

  // Data from the network is text, never markup.
  const evil = '<img src=x onerror="window.__pwned=1">evil.test';
  await ctl('kitchen', {hello: {kitchen_name: '<b>k</b>'}, lines: [
    {metadata: {chef: 'DNSLookupChef', kitchen: '<b>k</b>', creation_time: 1, driver: 'packet', seq: 1},
      payload: {lookup: {hostname: evil, when: 1, qtype: '<i>A</i>', is_response: false, rcode: null}}},
    {metadata: {chef: '<script>window.__pwned=2</script>', kitchen: '<b>k</b>', creation_time: 1,
      driver: 'packet', seq: 2}, payload: {x: '</pre><img src=x onerror="window.__pwned=3">'}},
  ]});
  await waitIn(page, 'a host name holding markup is shown as text',
    (e) => [...document.querySelectorAll('#dns-table td.name')].some((t) => t.firstChild.textContent === e), evil);
  await page.selectOption('#raw-chef', '<script>window.__pwned=2</script>');
  await page.waitForTimeout(500);
  const pwned = await page.evaluate(() => ({
    flag: window.__pwned === undefined ? null : window.__pwned,
    imgs: document.querySelectorAll('main img, main b, main i, main script').length,
  }));
  check(pwned.flag === null && pwned.imgs === 0, 'no markup from the network became elements', pwned);

  // Bounded memory: 3000 new names leave at most the cap in the page.
  const flood = [];
  for (let i = 0; i < 3000; i++) {
    flood.push({metadata: {chef: 'DNSLookupChef', kitchen: 'names', creation_time: 2, driver: 'packet', seq: i + 1},
      payload: {lookup: {hostname: `n${i}.flood.test`, when: 2, qtype: 'A', is_response: false, rcode: null}}});
  }
  await ctl('kitchen', {hello: {kitchen_name: 'names'}, lines: flood, batch: true, per_message: 100});
  await waitIn(page, 'the last flooded name arrives',
    () => window.ndlDashboard.state.dns.has('n2999.flood.test'));
  const sizes = await page.evaluate(() => ({
    names: window.ndlDashboard.state.dns.size,
    recent: window.ndlDashboard.state.dnsRecent.length,
    rows: document.querySelectorAll('#dns-table tbody tr').length,
  }));
  check(sizes.names <= 2000 && sizes.recent <= 100 && sizes.rows <= 300,
    'the DNS lists stay within their caps', sizes);
  check(errors.length === 0, 'no script errors in the page', errors.slice(0, 5));
});
