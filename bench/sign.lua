-- Signatures per second: the C core's V1 and V3 signing beside @alicloud/pop-core (Node.js)
-- signing the same V1 request. Both sides must produce the same signature, checked first.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"
local core = lib.core
local signer = require "aliyun.signer"

local SECONDS = tonumber(os.getenv("BENCH_SECONDS")) or 2
local MAX = 5000000

local SECRET = "testsecret"
local USER = {
  RegionId = "cn-hangzhou", ZoneId = "cn-hangzhou-b", PageSize = "50", PageNumber = "3",
  InstanceIds = '["i-bp67acfmxazb4p****","i-bp1h6jmbefj2cyqs****"]', Status = "Running",
  VpcId = "vpc-bp67acfmxazb4p****", ["Tag.1.Key"] = "team", ["Tag.1.Value"] = "infra & ops",
  InstanceName = "web server (test) *", PrivateIpAddresses = '["10.0.0.1"]',
}
local COMMON = {
  Action = "DescribeInstances", Version = "2014-05-26", Format = "JSON", AccessKeyId = "testid",
  SignatureMethod = "HMAC-SHA1", SignatureVersion = "1.0",
  SignatureNonce = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", Timestamp = "2024-05-01T12:00:00Z",
}
local PARAMS = {}
for k, v in pairs(USER) do PARAMS[k] = v end
for k, v in pairs(COMMON) do PARAMS[k] = v end

local ROUNDS = 3

local function run()
  local ours_sig = core.v1_sign("GET", PARAMS, SECRET)
  -- Rounds alternate between our V1 signing and pop-core's, each side keeping its best
  -- round, so that both get the same chances of a quiet moment on a shared machine.
  local v1, peer, why = 0, nil, nil
  for _ = 1, ROUNDS do
    local r = lib.rate(function() core.v1_sign("GET", PARAMS, SECRET) end, MAX, SECONDS / ROUNDS, 1000)
    if r > v1 then v1 = r end
    local p, w = lib.node("sign.js", { method = "GET", params = PARAMS, secret = SECRET,
      max_iter = MAX, seconds = SECONDS / ROUNDS })
    if not p then
      peer, why = nil, w
      break
    end
    if not peer or p.steps_per_s > peer.steps_per_s then
      local keep_request = peer and math.max(peer.request_per_s, p.request_per_s) or p.request_per_s
      peer = p
      peer.request_per_s = keep_request
    elseif p.request_per_s > peer.request_per_s then
      peer.request_per_s = p.request_per_s
    end
  end

  local creds = { access_key_id = "testid", access_key_secret = SECRET }
  local v1req = lib.best_rate(3, function()
    signer.v1 { method = "GET", base_url = "http://127.0.0.1:1", host = "127.0.0.1:1",
      action = "DescribeInstances", version = "2014-05-26", query = USER, body = {},
      credentials = creds, user_agent = "bench" }
  end, MAX, SECONDS / 3, 1000)

  local headers = {
    host = "ecs.cn-hangzhou.aliyuncs.com", ["x-acs-action"] = "DescribeInstances",
    ["x-acs-version"] = "2014-05-26", ["x-acs-date"] = COMMON.Timestamp,
    ["x-acs-signature-nonce"] = COMMON.SignatureNonce, ["x-acs-content-sha256"] = core.sha256_hex(""),
    accept = "application/json",
  }
  local v3args = { method = "GET", path = "/", query = USER, headers = headers,
    payload_hash = headers["x-acs-content-sha256"], access_key_id = "testid", access_key_secret = SECRET }
  local v3 = lib.best_rate(3, function() core.v3_sign(v3args) end, MAX, SECONDS / 3, 1000)
  local v3req = lib.best_rate(3, function()
    signer.v3 { method = "GET", base_url = "http://127.0.0.1:1", host = "127.0.0.1:1",
      action = "DescribeInstances", version = "2014-05-26", query = USER, body = {},
      credentials = creds, user_agent = "bench" }
  end, MAX, SECONDS / 3, 1000)

  if peer and peer.steps_signature ~= ours_sig then
    lib.note("signature mismatch: ours " .. ours_sig .. " pop-core " .. tostring(peer.steps_signature))
    peer = nil
    why = "signatures differ"
  end
  if peer then
    local r = v1 / peer.steps_per_s
    lib.row("V1 signature (canonical query + HMAC-SHA1), same params", lib.fmt_rate(v1),
      lib.fmt_rate(peer.steps_per_s) .. " pop-core", lib.fmt_ratio(r), ">= 10x", r >= 10)
    local r2 = v1req / peer.request_per_s
    lib.row("V1 whole signed request (signer.v1 vs RPCClient.request, no I/O)", lib.fmt_rate(v1req),
      lib.fmt_rate(peer.request_per_s) .. " pop-core", lib.fmt_ratio(r2), "(info)", "n/a")
  else
    lib.row("V1 signature (canonical query + HMAC-SHA1), same params", lib.fmt_rate(v1),
      why, "-", ">= 10x", "n/a")
    lib.row("V1 whole signed request (signer.v1)", lib.fmt_rate(v1req), why, "-", "(info)", "n/a")
  end
  lib.row("V3 signature (canonical request + HMAC-SHA256)", lib.fmt_rate(v3),
    "pop-core has no V3", "-", ">= 10x", "n/a")
  lib.row("V3 whole signed request (signer.v3)", lib.fmt_rate(v3req), "pop-core has no V3", "-", "(info)", "n/a")
end

run()
