// SPDX-License-Identifier: MIT
//
// hub.js - the peer the fan-out benchmark measures nd-hub against: a
// minimal broadcast hub written with Node's `ws` package, speaking the
// netdumplings 0.5.1 wire protocol in its one-dumpling-per-message form.
//
//   kitchens connect to --in-port and send text messages; every eater on
//   --out-port gets each one, unchanged;
//   the first message of every connection is its hello and is not
//   forwarded; an eater's later messages are ignored;
//   a dumpling must parse as JSON with a string metadata.chef, as
//   netdumplings and nd-hub require, or it is dropped and counted;
//   an eater whose unsent bytes pass --max-buffered is skipped for that
//   dumpling and the drop counted: the queue stays bounded, as nd-hub's is.
//
// No subprotocol is chosen (handleProtocols answers none), no status
// dumplings, no batch mode. It prints "listening IN OUT" once both ports
// are open, and its counters on SIGTERM/SIGINT before exiting.
'use strict';

const { WebSocketServer } = require('ws');

function usage(out) {
  out.write(
    'Usage: node hub.js [--address A] [--in-port N] [--out-port N]\n' +
    '                   [--max-buffered BYTES] [--no-parse]\n' +
    '  --address A          address to listen on (default 127.0.0.1)\n' +
    '  --in-port N          kitchens\' port (default 11347; 0: any free port)\n' +
    '  --out-port N         eaters\' port (default 11348; 0: any free port)\n' +
    '  --max-buffered BYTES unsent bytes per eater beyond which dumplings are\n' +
    '                       dropped for it (default 2097152)\n' +
    '  --no-parse           forward without checking that dumplings are JSON\n');
}

function parseArgs(argv) {
  const o = { address: '127.0.0.1', inPort: 11347, outPort: 11348,
              maxBuffered: 2 * 1024 * 1024, parse: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) {
        process.stderr.write(`node-hub: ${a} needs a value\n`);
        process.exit(2);
      }
      return argv[++i];
    };
    const num = (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        process.stderr.write(`node-hub: invalid value '${v}' for ${a}\n`);
        process.exit(2);
      }
      return n;
    };
    if (a === '--address') o.address = next();
    else if (a === '--in-port') o.inPort = num(next());
    else if (a === '--out-port') o.outPort = num(next());
    else if (a === '--max-buffered') o.maxBuffered = num(next());
    else if (a === '--no-parse') o.parse = false;
    else if (a === '--help') { usage(process.stdout); process.exit(0); }
    else {
      process.stderr.write(`node-hub: unknown option '${a}'\n`);
      usage(process.stderr);
      process.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const eaters = new Set();
const counts = { in: 0, out: 0, dropped: 0, notDumpling: 0 };

function isDumpling(buf) {
  try {
    const d = JSON.parse(buf);
    return d !== null && typeof d === 'object' && d.metadata !== null &&
      typeof d.metadata === 'object' && typeof d.metadata.chef === 'string';
  } catch (e) {
    return false;
  }
}

function server(port) {
  return new WebSocketServer({
    host: opts.address,
    port,
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: () => false,
  });
}

const kitchens = server(opts.inPort);
const eaterServer = server(opts.outPort);

kitchens.on('connection', (ws) => {
  let greeted = false;
  ws.on('message', (data, isBinary) => {
    if (!greeted) {
      greeted = true;
      return;
    }
    if (isBinary || (opts.parse && !isDumpling(data))) {
      counts.notDumpling++;
      return;
    }
    counts.in++;
    for (const e of eaters) {
      if (e.bufferedAmount > opts.maxBuffered) {
        counts.dropped++;
        continue;
      }
      e.send(data, { binary: false });
      counts.out++;
    }
  });
  ws.on('error', () => {});
});

eaterServer.on('connection', (ws) => {
  ws.once('message', () => eaters.add(ws));
  ws.on('close', () => eaters.delete(ws));
  ws.on('error', () => eaters.delete(ws));
});

let listening = 0;
for (const s of [kitchens, eaterServer]) {
  s.on('error', (err) => {
    process.stderr.write(`node-hub: ${err.message}\n`);
    process.exit(1);
  });
  s.on('listening', () => {
    if (++listening === 2) {
      process.stdout.write(`listening ${kitchens.address().port} ${eaterServer.address().port}\n`);
    }
  });
}

function stop() {
  process.stdout.write(JSON.stringify(counts) + '\n');
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
