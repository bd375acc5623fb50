// Mutual TLS on the data port (libmicrohttpd's GnuTLS): a client certificate
// signed by --tls-client-ca is a credential; one from another CA, or none,
// is not (401) unless a valid bearer token comes with the request; plain HTTP
// is not spoken. Certificates are made here with openssl.
// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {
  check, encReport, finish, flatLatency, getJSON, parseArgs, request, startController,
} from './lib.mjs';

const args = parseArgs();
const d = (f) => path.join(args.workdir, f);
const ossl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] });
function ca(name) {
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-keyout', d(`${name}.key`), '-out', d(`${name}.crt`));
}
function leaf(name, caName, ext) {
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', d(`${name}.key`),
    '-out', d(`${name}.csr`));
  fs.writeFileSync(d(`${name}.ext`), ext);
  ossl('x509', '-req', '-in', d(`${name}.csr`), '-CA', d(`${caName}.crt`), '-CAkey', d(`${caName}.key`),
    '-CAcreateserial', '-days', '2', '-extfile', d(`${name}.ext`), '-out', d(`${name}.crt`));
}
ca('meshca');
ca('rogueca');
leaf('server', 'meshca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
leaf('sidecar', 'meshca', 'extendedKeyUsage=clientAuth\n');
leaf('rogue', 'rogueca', 'extendedKeyUsage=clientAuth\n');
const TOKEN = 'tls-token-0123456789abcdef';
fs.writeFileSync(d('tokens'), `${TOKEN}\n`);

const ctl = await startController(args.controller, args.workdir, 'tls', [
  '--tls-cert', d('server.crt'), '--tls-key', d('server.key'), '--tls-client-ca', d('meshca.crt'),
  '--auth-token-file', d('tokens')]);

const rd = (f) => fs.readFileSync(d(f));
function post(svc, client, headers = {}) {
  const body = encReport({ service: svc, region: 'r0', pod: 'p', interval_ns: 1e9,
    inbound: [{ method: 'GET', path: '/x', requests: 5, latency: flatLatency(5, 5) }] });
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port: ctl.port, method: 'POST', path: '/v1/report',
      ca: rd('meshca.crt'), servername: undefined, agent: false,
      ...(client ? { cert: rd(`${client}.crt`), key: rd(`${client}.key`) } : {}),
      headers: { 'content-length': body.length, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, www: res.headers['www-authenticate'] }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
    req.end(body);
  });
}

const a = await post('with-cert', 'sidecar');
check(a.status === 200, `client certificate from the mesh CA: 200 (${a.status} ${a.error || ''})`);
const b = await post('no-cert', null);
check(b.status === 401 && /Bearer/.test(b.www || ''), `no certificate, no token: 401 (${b.status} ${b.error || ''})`);
const c = await post('rogue-cert', 'rogue');
check(c.status === 401 || c.status === 0, `certificate from another CA: refused (${c.status} ${c.error || ''})`);
const e = await post('token-only', null, { authorization: `Bearer ${TOKEN}` });
check(e.status === 200, `no certificate but a valid token: 200 (${e.status})`);
const plain = await request(ctl.port, { path: '/healthz' }).catch((err) => ({ status: 0, err }));
check(plain.status !== 200, 'plain HTTP is not served on a TLS port');
const st = await getJSON(ctl.adminPort, '/v1/state');
const names = st.services.map((s) => s.name).sort();
check(JSON.stringify(names) === JSON.stringify(['token-only', 'with-cert']), `merged only the authenticated (${names})`);
await ctl.stop();
finish([ctl.proc]);
