'use strict';
// Sequential calls per second with @alicloud/pop-core over its keep-alive agent, and the time
// of its start-up plus first call.
// Usage: node calls.js '<json>' where json = {endpoint, action, params, max_iter, seconds}
// Prints one JSON line: {calls_per_s, calls, first_call_ms}.
const t0 = process.hrtime.bigint();
const path = require('path');
const { createRequire } = require('module');

const cfg = JSON.parse(process.argv[2]);
const popRequire = createRequire(path.join(__dirname, 'package.json'));
const RPCClient = popRequire('@alicloud/pop-core');

function now() { return Number(process.hrtime.bigint()) / 1e9; }

async function main() {
  const client = new RPCClient({
    endpoint: cfg.endpoint, apiVersion: '2014-05-26',
    accessKeyId: 'testid', accessKeySecret: 'testsecret',
  });
  const opts = { method: 'GET', timeout: 10000 };
  const first = await client.request(cfg.action, cfg.params, opts);
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!first.RequestId) throw new Error('unexpected answer ' + JSON.stringify(first));
  for (let i = 0; i < 200; i++) await client.request(cfg.action, cfg.params, opts); // warm-up
  let n = 0;
  const start = now();
  let t = start;
  while (n < cfg.max_iter && t - start < cfg.seconds) {
    for (let i = 0; i < 50; i++) await client.request(cfg.action, cfg.params, opts);
    n += 50;
    t = now();
  }
  console.log(JSON.stringify({ calls_per_s: n / (t - start), calls: n, first_call_ms: firstMs }));
  client.keepAliveAgent.destroy();
}

main().catch((e) => { console.error(e); process.exit(1); });
