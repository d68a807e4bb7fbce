'use strict';
// V1 signing rate of @alicloud/pop-core (installed by `make bench` into bench/node/node_modules).
// Usage: node sign.js '<json>' where json = {method, params, secret, max_iter, seconds}
// Prints one JSON line: {steps_per_s, steps_signature, request_per_s, request_url}.
//
// pop-core signs inside RPCClient.request() and exports no signing function, so two figures:
//  steps:   its own (module-private) normalize / canonicalize / encode functions plus kitx.sha1,
//           i.e. exactly the signing work of request(), without the HTTP part. The module file
//           is evaluated here unchanged, with one line appended that hands those functions out.
//  request: RPCClient.request() itself with httpx answering from memory (no socket), i.e.
//           building and signing a whole request the way an application would.
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const cfg = JSON.parse(process.argv[2]);
const rpcPath = require.resolve('@alicloud/pop-core/lib/rpc.js', { paths: [__dirname] });
const popRequire = createRequire(rpcPath);
const kitx = popRequire('kitx');
const httpx = popRequire('httpx');

function loadInternals() {
  const src = fs.readFileSync(rpcPath, 'utf8') +
    '\n;module.exports.__bench = { normalize: normalize, canonicalize: canonicalize, encode: encode };\n';
  const mod = { exports: {} };
  const fn = new Function('require', 'module', 'exports', '__filename', '__dirname', src);
  fn(popRequire, mod, mod.exports, rpcPath, path.dirname(rpcPath));
  return mod.exports.__bench;
}

function now() { return Number(process.hrtime.bigint()) / 1e9; }

// Runs fn in chunks until max_iter calls or `seconds` have passed; returns calls per second.
function rate(fn, maxIter, seconds) {
  for (let i = 0; i < Math.min(2000, maxIter); i++) fn(); // warm-up (JIT)
  let n = 0;
  const t0 = now();
  let t = t0;
  while (n < maxIter && t - t0 < seconds) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    t = now();
  }
  return n / (t - t0);
}

async function rateAsync(fn, maxIter, seconds) {
  for (let i = 0; i < Math.min(2000, maxIter); i++) await fn();
  let n = 0;
  const t0 = now();
  let t = t0;
  while (n < maxIter && t - t0 < seconds) {
    for (let i = 0; i < 1000; i++) await fn();
    n += 1000;
    t = now();
  }
  return n / (t - t0);
}

async function main() {
  const it = loadInternals();
  const params = cfg.params;
  const key = cfg.secret + '&';
  let signature;
  const steps = () => {
    const canonical = it.canonicalize(it.normalize(params));
    const stringToSign = cfg.method + '&' + it.encode('/') + '&' + it.encode(canonical);
    signature = kitx.sha1(stringToSign, key, 'base64');
    return signature;
  };
  const stepsRate = rate(steps, cfg.max_iter, cfg.seconds);

  // request(): httpx answers from memory
  let lastUrl;
  httpx.request = async (url) => {
    lastUrl = url;
    return { req: { getHeaders: () => ({}) }, statusCode: 200, headers: {} };
  };
  httpx.read = async () => Buffer.from('{"RequestId":"x"}');
  const RPCClient = popRequire('./rpc.js');
  const client = new RPCClient({
    endpoint: 'http://127.0.0.1:1', apiVersion: params.Version,
    accessKeyId: params.AccessKeyId, accessKeySecret: cfg.secret,
  });
  const user = {};
  for (const k of Object.keys(params)) {
    if (!['Action', 'Version', 'Format', 'AccessKeyId', 'SignatureMethod', 'SignatureVersion',
      'SignatureNonce', 'Timestamp'].includes(k)) user[k] = params[k];
  }
  const requestRate = await rateAsync(() => client.request(params.Action, user, { method: cfg.method }),
    cfg.max_iter, cfg.seconds);
  console.log(JSON.stringify({
    steps_per_s: stepsRate, steps_signature: steps(),
    request_per_s: requestRate, request_url: lastUrl,
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
