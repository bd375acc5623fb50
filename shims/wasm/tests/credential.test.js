// The reporter sends the controller credential from its configuration
// (controller_token) as "authorization: Bearer <token>", and sends no
// authorization header when none is configured.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, S } = require('./harness.js');

async function posts(reporter) {
  const env = await setup({ workers: 1, reporter });
  try {
    await env.host.run(3 * S);
    return env.ctl.reports;
  } finally {
    await env.close();
  }
}

test('controller_token goes out as a bearer credential on every report', async () => {
  const got = await posts({ controller_token: 'mesh-token-0123456789' });
  assert.ok(got.length >= 2, `reports: ${got.length}`);
  for (const p of got) assert.equal(p.headers.authorization, 'Bearer mesh-token-0123456789');
});

test('no controller_token: no authorization header', async () => {
  const got = await posts({});
  assert.ok(got.length >= 2);
  for (const p of got) assert.equal(p.headers.authorization, undefined);
});
