// `nginx -t` with the module loaded into the stock binary: a good
// configuration passes (so the module signature matches), and each bad
// directive is rejected with a message naming the directive and the value.
// SPDX-License-Identifier: Apache-2.0
import path from 'node:path';
import { check, finish } from '../../controller/tests/lib.mjs';
import { nginxTest, parseArgs, writeConf } from './lib.mjs';

const args = parseArgs();
const base = { zone: 'slate_zone slate 1m;', service: 'slate_service fe;',
  region: 'slate_region west;', controller: 'slate_controller 127.0.0.1:9;' };
function conf(name, over = {}, extra = '', loc = 'slate_measure on;') {
  const d = { ...base, ...over };
  const body = `${Object.values(d).join('\n')}\n${extra}\nserver { listen 127.0.0.1:9; location / { ${loc} return 200; } }`;
  const dir = path.join(args.workdir, name);
  return nginxTest(args.nginx, dir, writeConf(dir, args.module, body));
}

const good = conf('good', {}, 'slate_report_period 500ms; slate_rules_ttl 10s; slate_trace_sampling 0.5; slate_max_endpoints 16; slate_protocol slate-legacy;',
  'slate_route be; proxy_set_header x-slate-routeto $slate_region;');
check(good.ok, `a good configuration loads the module into the stock nginx: ${good.out.trim()}`);

const bad = [
  ['zone size', { zone: 'slate_zone slate 1k;' }, '', '"slate_zone": invalid value "1k"'],
  ['zone too small for limits', {}, 'slate_max_endpoints 5000;', 'is too small for 5000 endpoints'],
  ['service name', { service: 'slate_service "a b";' }, '', '"slate_service": invalid value "a b"'],
  ['region name', { region: 'slate_region "x,y";' }, '', '"slate_region": invalid value "x,y"'],
  ['controller address', { controller: 'slate_controller nohost:notaport;' }, '', '"slate_controller": invalid value "nohost:notaport"'],
  ['period', {}, 'slate_report_period 1y1;', '"slate_report_period": invalid value "1y1"'],
  ['period range', {}, 'slate_report_period 1ms;', '"slate_report_period": invalid value "1ms"'],
  ['timeout not below period', {}, 'slate_report_period 1s; slate_controller_timeout 2s;', '"slate_controller_timeout": invalid value 2000ms'],
  ['sampling', {}, 'slate_trace_sampling 1.5;', '"slate_trace_sampling": invalid value "1.5"'],
  ['ttl', {}, 'slate_rules_ttl -3;', '"slate_rules_ttl": invalid value "-3"'],
  ['max endpoints', {}, 'slate_max_endpoints 0;', '"slate_max_endpoints": invalid value "0"'],
  ['max rules', {}, 'slate_max_rules lots;', '"slate_max_rules": invalid value "lots"'],
  ['token file', {}, 'slate_controller_token_file /nonexistent/token;', '"slate_controller_token_file": invalid value "/nonexistent/token"'],
  ['no region', { region: '' }, '', '"slate_service" and "slate_region" are required'],
  ['protocol', {}, 'slate_protocol json;', '"slate_protocol": invalid value "json"'],
];
for (const [name, over, extra, want] of bad) {
  const r = conf(name.replace(/ /g, '_'), over, extra);
  check(!r.ok && r.out.includes(want), `${name} is rejected naming the directive and value: ${r.out.split('\n')[0]}`);
}
const noZone = (() => {
  const dir = path.join(args.workdir, 'nozone');
  return nginxTest(args.nginx, dir, writeConf(dir, args.module,
    'server { listen 127.0.0.1:9; location / { slate_measure on; return 200; } }'));
})();
check(!noZone.ok && noZone.out.includes('need "slate_zone"'), `slate_measure without a zone is rejected: ${noZone.out.split('\n')[0]}`);
finish();
