-- Nothing the library prints or formats shows an AccessKeySecret, an STS SecurityToken or a
-- request's Signature: tostring and pretty-printing (text, JSON, columns) of clients, their
-- options and credentials, dry runs, requests and errors; debug lines; the one-shot
-- command's and the REPL's dry runs. Every printed form is gathered and grepped for the
-- secret, the token (raw, percent-encoded once and twice) and every signature the requests
-- carried. A dry run still returns the real request, and the explicit ways to see it live
-- (--dryrun-live, live(x), pretty's live option) do show it.
local aliyun = require "aliyun"
local cli = require "aliyun.cli"
local core = require "aliyun.core"
local emulator = require "aliyun.emulator"
local errors = require "aliyun.errors"
local pretty = require "aliyun.pretty"
local repl = require "aliyun.repl"

local ID, SECRET, TOKEN = "STS.NSecretsSpecKey", "secrets-Spec-Secret-Value", "CAIS/secrets+Spec=Token"

local function url_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Everything printed, and every signature that went out or was returned.
local printed, signatures = {}, {}

local function out(label, text)
  printed[#printed + 1] = { label, tostring(text) }
end

local function note_signature(request)
  local sig = request.url:match("[?&]Signature=([^&]+)")
  if sig then
    signatures[sig] = true
    signatures[url_decode(sig)] = true
  end
  for k, v in pairs(request.headers or {}) do
    if k:lower() == "authorization" then signatures[assert(v:match("Signature=(%x+)"))] = true end
  end
end

-- A request in every form pretty-printing has.
local function all_forms(label, v)
  out(label .. " tostring", tostring(v))
  out(label .. " pretty.format", pretty.format(v))
  out(label .. " pretty.format color", pretty.format(v, { color = true }))
  local j, why = pretty.json(v) -- options holding functions are not JSON: the message is printed then
  out(label .. " pretty.json", j or why)
  if type(v) == "table" then out(label .. " pretty.columns", pretty.columns(v)) end
end

local emu, transport, spy
local function reset_world()
  emu = emulator.new { keys = { [ID] = { secret = SECRET, security_token = TOKEN } } }
  transport = emulator.transport(emu)
  spy = { sent = {} }
  function spy.send(request)
    note_signature(request)
    spy.sent[#spy.sent + 1] = request
    return transport.send(request)
  end
end

local function client(product, extra)
  local o = { endpoint = "http://127.0.0.1", access_key_id = ID, access_key_secret = SECRET,
    security_token = TOKEN, transport = spy }
  for k, v in pairs(extra or {}) do o[k] = v end
  return aliyun.client(product, o)
end

local NEEDLES

local function needles()
  local n = { SECRET, TOKEN, core.percent_encode(TOKEN), core.percent_encode(core.percent_encode(TOKEN)) }
  for sig in pairs(signatures) do n[#n + 1] = sig end
  return n
end

describe("secrets in printed forms", function()
  setup(function()
    reset_world()
    printed, signatures = {}, {}
  end)

  it("a dry run returns the real request, which prints masked", function()
    local forms = {
      { "ecs", "DescribeDisks", { RegionId = "cn-hangzhou" }, {} },
      { "ecs", "DescribeRegions", {}, { method = "GET" } },
      { "ecs", "DescribeDisks", { RegionId = "cn-hangzhou" }, { signature_version = "v3" } },
      { "ens", "ReinitInstance", { InstanceId = "i-1", ImageId = "m-1", Password = "Pa55-secrets-spec" }, {} },
      { "ens", "ReinitInstance", { InstanceId = "i-1", ImageId = "m-1", Password = "Pa55-secrets-spec" },
        { signature_version = "v3" } },
    }
    for _, f in ipairs(forms) do
      local product, action, params, o = f[1], f[2], f[3], f[4]
      o.dry_run = true
      local c = client(product)
      local r = assert(c:call(action, params, o))
      note_signature(r)
      -- the fields are the real request: the service takes it as it is
      local answer = transport.send(r)
      if product == "ecs" then assert.are.equal(200, answer.status, answer.body) end
      local all = r.url .. " " .. (r.body or "") .. " " .. tostring(r.headers["x-acs-security-token"])
      assert.truthy(all:find(core.percent_encode(TOKEN), 1, true) or all:find(TOKEN, 1, true), all)
      all_forms(action .. " dry run", r)
      -- the masked form still says what would be sent
      local shown = pretty.format(r)
      assert.truthy(shown:find(action, 1, true))
      assert.truthy(shown:find("****", 1, true))
    end
    -- a batch of dry runs
    for i, r in ipairs(client("ecs"):batch({ { "DescribeRegions", {} }, { "DescribeZones", { RegionId = "cn-hangzhou" } } },
      { dry_run = true })) do
      note_signature(r)
      all_forms("batch dry run " .. i, r)
    end
  end)

  it("clients, their options and credentials print without the secret or the token", function()
    local c = client("ecs")
    all_forms("fresh client", c)
    assert(c:DescribeRegions {})
    all_forms("used client", c)
    all_forms("client options", c.opts)
    local creds = assert(c:_credentials_provider().get())
    all_forms("credentials", creds)
    all_forms("call credentials", { credentials = { access_key_id = ID, access_key_secret = SECRET,
      security_token = TOKEN } })
    -- a request as a transport sees it
    for i, r in ipairs(spy.sent) do all_forms("sent request " .. i, r) end
  end)

  it("errors print without them, even when a message carries a signed URL", function()
    local errs = {}
    local function keep(_, err) errs[#errs + 1] = assert(err) end
    -- the wrong secret; the wrong token; a request changed on the way (both strings to sign)
    keep(client("ecs", { access_key_secret = "x" .. SECRET }):DescribeRegions {})
    keep(client("ecs", { security_token = TOKEN .. "x" }):DescribeRegions {})
    keep(client("ecs", { transport = function(req)
      note_signature(req)
      req.url = req.url:gsub("RegionId=cn%-hangzhou", "RegionId=cn-beijing")
      return transport.send(req)
    end }):DescribeDisks { RegionId = "cn-hangzhou" })
    assert.matches("server string to sign", errs[3].message)
    -- a transport whose failure quotes the request
    keep(client("ecs", { max_retries = 0, transport = function(req)
      note_signature(req)
      return nil, errors.new { kind = "network", message = "cannot send " .. req.url .. " with "
        .. tostring(req.headers.authorization) }
    end }):DescribeRegions {})
    keep(client("ecs", { max_retries = 0, signature_version = "v3", transport = function(req)
      note_signature(req)
      return nil, "refused: authorization " .. req.headers.authorization .. " x-acs-security-token:"
        .. req.headers["x-acs-security-token"]
    end }):DescribeRegions {})
    for i, e in ipairs(errs) do all_forms("error " .. i, e) end
  end)

  it("debug lines show none of them", function()
    local c = client("ecs", { debug = function(line) out("debug", line) end })
    assert(c:DescribeRegions {})
    assert(c:DescribeRegions({}, { signature_version = "v3" }))
  end)

  it("the one-shot command's dry run prints the request masked; --dryrun-live prints it live", function()
    -- debug: the trace lines --debug writes go to stderr too
    local function run(argv, debug)
      local stdout, stderr = {}, {}
      local o = { access_key_id = ID, access_key_secret = SECRET, security_token = TOKEN, transport = spy }
      if debug then o.debug = function(line) stderr[#stderr + 1] = line .. "\n" end end
      local code = cli.main(argv, {
        stdout = function(s) stdout[#stdout + 1] = s end,
        stderr = function(s) stderr[#stderr + 1] = s end,
        client_opts = o,
      })
      return code, table.concat(stdout), table.concat(stderr)
    end
    local base = { "--endpoint", "http://127.0.0.1", "ecs", "DescribeRegions" }
    local function with(...)
      local argv = {}
      for _, a in ipairs(base) do argv[#argv + 1] = a end
      for _, a in ipairs { ... } do argv[#argv + 1] = a end
      return argv
    end
    for _, extra in ipairs { { "--dryrun" }, { "--dryrun", "--output", "table" }, { "--debug" } } do
      local code, so, se = run(with(table.unpack(extra)), extra[1] == "--debug")
      assert.are.equal(0, code, se)
      out("cli " .. table.concat(extra, " ") .. " stdout", so)
      out("cli " .. table.concat(extra, " ") .. " stderr", se)
    end
    local code, so = run(with("--dryrun"))
    assert.are.equal(0, code)
    local masked = assert(require("aliyun.json").decode(so))
    assert.matches("Signature=%*%*%*%*", masked.url)
    assert.matches("SecurityToken=%*%*%*%*", masked.url)
    -- the live request, for those who send it elsewhere: it works
    local code2, live = run(with("--dryrun-live"))
    assert.are.equal(0, code2)
    local r = assert(require("aliyun.json").decode(live))
    assert.truthy(r.url:find("SecurityToken=" .. core.percent_encode(TOKEN), 1, true), r.url)
    assert.matches("&Signature=[^*&]+", r.url) -- (the SignatureNonce pair comes after it)
    assert.are.equal(200, transport.send(r).status)
    -- a failing call's line
    local code3, _, se3 = run { "--endpoint", "http://127.0.0.1", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou",
      "--DiskIds", "[1,2" }
    assert.are.equal(1, code3)
    out("cli failure", se3)
  end)

  it("the REPL shows dry runs masked; live(x) shows the live request", function()
    local written = {}
    local session = repl.new({}, { write = function(s) written[#written + 1] = s end })
    session.env.T, session.env.ID, session.env.S, session.env.TK = spy, ID, SECRET, TOKEN
    for _, line in ipairs {
      "c = aliyun.ecs { endpoint = 'http://127.0.0.1', access_key_id = ID, access_key_secret = S, "
        .. "security_token = TK, transport = T }",
      "c", "c.opts", "= c:DescribeRegions({}, { dry_run = true })", "print(_)", "show(_)",
      "c:DescribeRegions({}, { credentials = { access_key_id = ID, access_key_secret = 'x' .. S, security_token = TK } })",
      "= c:DescribeRegions({}, { dry_run = true, signature_version = 'v3' })",
    } do
      assert.is_nil(session:feed(line))
    end
    local shown = table.concat(written)
    assert.matches("Signature=%*%*%*%*", shown)
    assert.matches("SignatureDoesNotMatch", shown)
    note_signature(session.env._)
    out("repl", shown)
    -- the live request, asked for by name
    written = {}
    session:feed("live(_)")
    local live = table.concat(written)
    assert.truthy(live:find(TOKEN, 1, true), live)
    local sig = session.env._.headers.authorization:match("Signature=(%x+)")
    assert.truthy(live:find(sig, 1, true))
  end)

  it("no printed form holds the secret, the token or a signature", function()
    NEEDLES = needles()
    assert.is_true(#printed > 100, #printed .. " forms")
    local sigs = 0
    for _ in pairs(signatures) do sigs = sigs + 1 end
    assert.is_true(sigs > 20, sigs .. " signatures")
    for _, p in ipairs(printed) do
      for _, needle in ipairs(NEEDLES) do
        assert.is_nil(p[2]:find(needle, 1, true), p[1] .. " shows " .. needle .. ": " .. p[2])
      end
      assert.is_nil(p[2]:find("Pa55-secrets-spec", 1, true), p[1] .. " shows the password: " .. p[2])
    end
  end)
end)
