#!/usr/bin/env node
'use strict';
// The demo-nginx WAN model: a delaying TCP relay. Each route listens on the
// caller region's loopback address and forwards to a service's nginx in
// another region; every chunk of bytes, in either direction, is held for half
// the regions' round trip before it is written on. Order is kept (Node fires
// timers of equal delay in the order they were set). Connection set-up is not
// delayed: the nginx upstreams keep connections alive, so a call pays one
// round trip, as a call on a warm connection across a WAN does.
//
//   node relay.js '<JSON [{listenHost, listenPort, toHost, toPort, oneWayMs}]>' [run dir]
// Prints "ready" once every route listens.

const net = require('net');

function pipeDelayed(from, to, ms) {
  from.on('data', (chunk) => setTimeout(() => { if (!to.destroyed) to.write(chunk); }, ms));
  from.on('end', () => setTimeout(() => to.end(), ms));
}

function route(r) {
  const srv = net.createServer((c) => {
    c.setNoDelay(true);
    const up = net.connect({ host: r.toHost, port: r.toPort });
    up.setNoDelay(true);
    pipeDelayed(c, up, r.oneWayMs);
    pipeDelayed(up, c, r.oneWayMs);
    const kill = () => { c.destroy(); up.destroy(); };
    c.on('error', kill);
    up.on('error', kill);
    c.on('close', () => setTimeout(() => up.destroy(), r.oneWayMs));
    up.on('close', () => setTimeout(() => c.destroy(), r.oneWayMs));
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(r.listenPort, r.listenHost, resolve);
  });
}

const routes = JSON.parse(process.argv[2] || '[]');
Promise.all(routes.map(route)).then(() => process.stdout.write('ready\n'),
  (e) => { process.stderr.write(`relay: ${e.message}\n`); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
