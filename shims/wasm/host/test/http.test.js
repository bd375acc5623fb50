// proxy_http_call against real HTTP servers on loopback.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { Host, Status } = require('../host.js');
const { plugin, lines } = require('./helpers.js');

/** A loopback server; handler(req, body, res). Returns {url, requests, close}. */
async function server(handler) {
  const requests = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method, url: req.url, headers: req.headers, body,
        trailers: req.trailers });
      handler(req, body, res);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${srv.address().port}`;
  return {
    url, requests, srv,
    close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }),
  };
}

async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

function reporter(host, config) {
  return host.addSingleton({ module: plugin('probe'), rootId: 'rep', configuration: config });
}

test('success: request sent as Envoy would, response readable in the callback', async () => {
  const srv = await server((req, body, res) => {
    res.writeHead(200, { 'x-srv': 'yes', 'content-type': 'text/plain' });
    res.end(`ok:${body}`);
  });
  const host = new Host({ clusters: { ctl: srv.url } });
  try {
    const rep = reporter(host, 'tick=1000 tick_http=ctl timeout=500');
    await host.run(1000e6);
    assert.deepEqual(lines(rep, 'http_call'), ['http_call st=0 token=1']);
    assert.equal(srv.requests.length, 1);
    const r = srv.requests[0];
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/tick');
    assert.equal(r.headers.host, 'controller');
    assert.equal(r.headers['x-probe'], '1');
    assert.equal(r.body, 'tick 1');
    const resp = lines(rep, 'http_response');
    assert.equal(resp.length, 1);
    assert.match(resp[0], new RegExp(`^http_response ${rep.root().id} token=1 headers=\\d+ body=9 trailers=0 status=200 st=0/0 code=0 msg= trailer= text=ok:tick 1$`));
    // delivered at the tick's virtual time (cluster latency 0)
    const at = rep.logs.find((l) => l.message.startsWith('http_response')).timeNs;
    assert.equal(at, 1000e6);
    const call = host.http.log[0];
    assert.equal(call.response.headers.get(':status'), '200');
    assert.equal(call.response.headers.pairs[0][0], ':status');
    assert.equal(call.response.headers.get('x-srv'), 'yes');
    assert.equal(host.stats.httpCalls, 1);
  } finally {
    await host.close();
    await srv.close();
  }
});

test('trailers both ways', async () => {
  const srv = await server((req, body, res) => {
    res.writeHead(200, { trailer: 'x-trailer' });
    res.write('t');
    res.addTrailers({ 'x-trailer': `echo-${req.trailers['x-trailer']}` });
    res.end();
  });
  const host = new Host({ clusters: { ctl: srv.url } });
  try {
    const rep = reporter(host, 'tick=10 tick_http=ctl path=/trailers');
    await host.run(10e6);
    assert.equal(srv.requests[0].trailers['x-trailer'], 't1');
    assert.match(lines(rep, 'http_response')[0], / trailers=1 status=200 .* trailer=echo-t1 text=t$/);
  } finally {
    await host.close();
    await srv.close();
  }
});

test('a 500 is delivered as a response with its status and body', async () => {
  const srv = await server((req, body, res) => { res.writeHead(500); res.end('boom'); });
  const host = new Host({ clusters: { ctl: srv.url } });
  try {
    const rep = reporter(host, 'tick=10 tick_http=ctl');
    await host.run(10e6);
    assert.match(lines(rep, 'http_response')[0], / body=4 trailers=0 status=500 st=0\/0 code=0 msg= trailer= text=boom$/);
  } finally {
    await host.close();
    await srv.close();
  }
});

test('cluster latency is virtual: the response arrives exactly latencyMs later', async () => {
  const srv = await server((req, body, res) => res.end('x'));
  const host = new Host({ clusters: { ctl: { url: srv.url, latencyMs: 30 } } });
  try {
    const rep = reporter(host, 'tick=100 tick_http=ctl timeout=50');
    await host.run(300e6);
    const at = rep.logs.filter((l) => l.message.startsWith('http_response')).map((l) => l.timeNs);
    assert.deepEqual(at, [130e6, 230e6, 330e6].filter((t) => t <= 300e6));
  } finally {
    await host.close();
    await srv.close();
  }
});

test('timeout: a slow cluster past the timeout answers 504 (Envoy) at the deadline', async () => {
  const srv = await server(() => { /* never answers */ });
  const host = new Host({ clusters: { ctl: { url: srv.url, latencyMs: 5000 } } });
  try {
    const rep = reporter(host, 'tick=100 tick_http=ctl timeout=40');
    await host.run(150e6); // does not wait for the hanging server: the outcome is known
    const l = rep.logs.filter((x) => x.message.startsWith('http_response'));
    assert.equal(l.length, 1);
    assert.equal(l[0].timeNs, 140e6);
    assert.match(l[0].message, /status=504 .* text=upstream request timeout$/);
  } finally {
    await host.close();
    await srv.close();
  }
});

test('timeout with advance(): no I/O completes, the virtual deadline fires', async () => {
  const srv = await server(() => {});
  const host = new Host({ clusters: { ctl: srv.url }, httpFailureMode: 'reset' });
  try {
    const rep = reporter(host, 'tick=100 tick_http=ctl timeout=25');
    host.advance(125e6);
    const l = rep.logs.filter((x) => x.message.startsWith('http_response'));
    assert.equal(l.length, 1);
    assert.equal(l[0].timeNs, 125e6);
    assert.equal(l[0].message, `http_response ${rep.root().id} token=1 headers=0 body=0 trailers=0 status= st=${Status.BadArgument}/${Status.NotFound} code=${Status.BrokenConnection} msg=reset trailer= text=`);
  } finally {
    await host.close();
    await srv.close();
  }
});

test('connection refused: 503 in envoy mode, zero headers in reset mode', async () => {
  const url = await closedPort();
  for (const mode of ['envoy', 'reset']) {
    const host = new Host({ clusters: { ctl: url }, httpFailureMode: mode });
    const rep = reporter(host, 'tick=10 tick_http=ctl');
    await host.run(10e6);
    const l = lines(rep, 'http_response');
    assert.equal(l.length, 1);
    if (mode === 'envoy') {
      assert.match(l[0], / body=91 trailers=0 status=503 .*code=0 .*text=upstream connect error or disconnect\/reset before headers\. reset reason: connect/);
      assert.equal(host.http.log[0].response.body.toString(),
        'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
    } else {
      assert.match(l[0], / headers=0 body=0 trailers=0 status= .*code=11 msg=reset /);
    }
    await host.close();
  }
});

test('unknown cluster → BadArgument and no callback', async () => {
  const host = new Host({ clusters: {} });
  const rep = reporter(host, 'tick=10 tick_http=nowhere');
  await host.run(20e6);
  assert.deepEqual(lines(rep, 'http_call'), [`http_call st=${Status.BadArgument} token=0`,
    `http_call st=${Status.BadArgument} token=0`]);
  assert.deepEqual(lines(rep, 'http_response'), []);
  await host.close();
});

test('an oversized response fails as a reset', async () => {
  const srv = await server((req, body, res) => res.end('x'.repeat(5000)));
  const host = new Host({ clusters: { ctl: srv.url }, httpMaxResponseBytes: 1000 });
  try {
    const rep = reporter(host, 'tick=10 tick_http=ctl');
    await host.run(10e6);
    assert.match(lines(rep, 'http_response')[0], / headers=0 body=0 .*code=11 msg=reset/);
  } finally {
    await host.close();
    await srv.close();
  }
});

test('a call from a stream context answers on its root context', async () => {
  const srv = await server((req, body, res) => res.end(`got ${body}`));
  const host = new Host({ clusters: { ctl: srv.url } });
  try {
    const vm = host.addVm({ module: plugin('probe'), rootId: 'f' });
    const s = vm.newStream();
    s.requestHeaders({ ':path': '/', 'x-op': 'http:ctl' });
    assert.deepEqual(lines(vm, 'stream_http_call'), ['stream_http_call st=0 token=1']);
    await host.settle();
    assert.match(lines(vm, 'http_response')[0], new RegExp(`^http_response ${vm.root().id} token=1 .*text=got hello$`));
    assert.equal(srv.requests[0].url, '/from-stream');
  } finally {
    await host.close();
    await srv.close();
  }
});

test('many concurrent calls are delivered in call order, deterministically', async () => {
  let n = 0;
  const srv = await server((req, body, res) => {
    // answer in reverse-ish order of arrival
    setTimeout(() => res.end(body), 30 - (n++ % 4) * 8);
  });
  const run = async () => {
    const host = new Host({ clusters: { ctl: srv.url } });
    host.addWorkers(4, { module: plugin('probe'), rootId: 'w', configuration: 'tick=10 tick_http=ctl' });
    await host.run(30e6);
    const order = host.logs.filter((l) => l.message.startsWith('http_response'))
      .map((l) => `${l.timeNs} ${l.vm} ${/token=\d+/.exec(l.message)[0]}`);
    await host.close();
    return order;
  };
  try {
    const a = await run();
    const b = await run();
    assert.equal(a.length, 12);
    assert.deepEqual(a, b);
    assert.deepEqual(a.slice(0, 4), ['10000000 worker-0 token=1', '10000000 worker-1 token=1',
      '10000000 worker-2 token=1', '10000000 worker-3 token=1']);
  } finally {
    await srv.close();
  }
});

test('real clock: ticks and calls run on their own', async () => {
  const srv = await server((req, body, res) => res.end('real'));
  const host = new Host({ clock: 'real', clusters: { ctl: srv.url } });
  try {
    const rep = reporter(host, 'tick=20 tick_http=ctl timeout=2000');
    host.start();
    const deadline = Date.now() + 5000;
    while (lines(rep, 'http_response').length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(lines(rep, 'http_response').length >= 2);
    assert.match(lines(rep, 'http_response')[0], /status=200 .*text=real$/);
  } finally {
    await host.close();
    await srv.close();
  }
});

test('a stream paused on a call resumes from the callback via set_effective_context', async () => {
  const srv = await server((req, body, res) => res.end('ok'));
  const host = new Host({ clusters: { ctl: srv.url } });
  try {
    const vm = host.addVm({ module: plugin('probe'), rootId: 'f' });
    const s = vm.newStream();
    assert.equal(s.requestHeaders({ ':path': '/', 'x-op': 'callpause:ctl' }), 1);
    assert.equal(s.continued.request, 0);
    await host.settle();
    assert.deepEqual(lines(vm, 'resumed'), [`resumed ${s.id} effective=0 unknown=2 continue=0`]);
    assert.equal(s.continued.request, 1);
    assert.equal(s.request.headers.get('x-call-done'), '1');
  } finally {
    await host.close();
    await srv.close();
  }
});

test('chaos httpLatencyNs adds seeded virtual latency to every call', async () => {
  const srv = await server((req, body, res) => res.end('x'));
  const host = new Host({ seed: 4, clusters: { ctl: srv.url }, chaos: { httpLatencyNs: [1e6, 9e6] } });
  try {
    const rep = reporter(host, 'tick=100 tick_http=ctl timeout=50');
    await host.run(1010e6);
    const at = rep.logs.filter((l) => l.message.startsWith('http_response')).map((l) => l.timeNs);
    assert.equal(at.length, 10);
    const lat = at.map((t, i) => t - (i + 1) * 100e6);
    for (const l of lat) assert.ok(l >= 1e6 && l <= 9e6, `latency ${l}`);
    assert.ok(new Set(lat).size > 5);
    assert.deepEqual(host.http.log.map((c) => c.endNs - c.startNs), lat);
  } finally {
    await host.close();
    await srv.close();
  }
});
