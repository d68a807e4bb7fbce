-- Every transport against a hostile server on 127.0.0.1 (spec/integration/server/hostile.lua
-- in real nginx): the direct path (single requests and batches), libcurl's engine and the
-- nginx cosocket transport (in a second real nginx) meet the same limits and give error objects, never a crash, a hang or
-- a raised error; the gateway's worker survives them all.
local core = require "aliyun.core"
local nginx = require "support.nginx"

local CASES = {
  long_line = { "network", "header line longer than 64 KiB" },
  many_headers = { "network", "more than 500 header lines" },
  fat_headers = { "network", "headers larger than 300 KiB" },
  interim_flood = { "network", "headers larger than 300 KiB" },
  slow_body = { "timeout" },
  bad_chunk = { "network", "chunk" },
  negative_chunk = { "network", "chunk" },
  huge_chunk = { "network", "chunk" },
  long_chunk_line = { "network", "chunk" },
  status_2000 = { "network", "malformed HTTP status line" },
  status_600 = { "network", "HTTP status code out of range" },
  status_099 = { "network", "malformed HTTP status code" },
  huge_body = { "network", "larger than the limit of 1000000 bytes" },
}

-- libcurl words some failures of its own parser its own way; the kind is the same
local CURL_OWN_WORDS = {
  bad_chunk = true, negative_chunk = true, huge_chunk = true, long_chunk_line = true, long_line = true,
  fat_headers = true, interim_flood = true, status_2000 = true, status_099 = true,
}

local TIMEOUT = 1 -- seconds for a whole request; slow_body needs 6.9 s

describe("transports against a hostile server #integration", function()
  local hostile, gateway

  setup(function()
    hostile = nginx.start {
      http = [[
        lua_shared_dict hostile 1m;
        server {
          listen 127.0.0.1:${PORT};
          location /raw { content_by_lua_block { require("integration.server.hostile")() } }
        }
      ]],
    }
    gateway = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          location /fetch {
            content_by_lua_block {
              local t = require("aliyun.transport.ngx").new { timeout = ]] .. TIMEOUT .. [[, max_body = 1000000 }
              local r, err = t.send { url = "]] .. hostile.url .. [[/raw?case=" .. ngx.var.arg_case }
              if r then ngx.say("ok ", r.status, " ", r.body) else ngx.say("error ", err.kind, " ", err.message) end
            }
          }
          location /pid { content_by_lua_block { ngx.print(ngx.worker.pid()) } }
        }
      ]],
    }
  end)

  teardown(function()
    if gateway then gateway.stop() end
    if hostile then hostile.stop() end
  end)

  local function fetch(session, case)
    local r, msg, kind = session:request { url = hostile.url .. "/raw?case=" .. case }
    if r then return "ok", r.status .. " " .. r.body end
    return kind, msg
  end

  local function via_gateway(case)
    local s = core.session { timeout = 30 }
    local r = assert(s:request { url = gateway.url .. "/fetch?case=" .. case })
    s:close()
    assert.are.equal(200, r.status, r.body)
    local outcome, rest = r.body:match("^(%S+) (.-)\n$")
    if outcome == "error" then return rest:match("^(%S+) (.*)$") end
    return outcome, rest
  end

  local engines = {
    direct = function(case) return fetch(core.session { timeout = TIMEOUT, max_body = 1000000 }, case) end,
    libcurl = function(case)
      return fetch(core.session { timeout = TIMEOUT, max_body = 1000000, curl_http = true }, case)
    end,
    nginx = via_gateway,
    ["direct batch"] = function(case)
      local r = core.session({ timeout = TIMEOUT, max_body = 1000000 }):batch({
        { url = hostile.url .. "/raw?case=" .. case } }, 1)[1]
      if r.error then return r.kind, r.error end
      return "ok", r.status .. " " .. r.body
    end,
  }

  for name, engine in pairs(engines) do
    describe("(" .. name .. ")", function()
      for case, want in pairs(CASES) do
        it("turns " .. case .. " into a " .. want[1] .. " error", function()
          local kind, msg = engine(case)
          assert.are.equal(want[1], kind, case .. ": " .. tostring(msg))
          if want[2] and not (name == "libcurl" and CURL_OWN_WORDS[case]) then
            assert.truthy(msg:find(want[2], 1, true), case .. ": " .. tostring(msg))
          end
        end)
      end

      it("skips interim answers", function()
        local outcome, rest = engine("continue")
        assert.are.same({ "ok", "200 ok" }, { outcome, rest })
      end)
    end)
  end

  it("leaves the gateway's worker running, with nothing worse than errors in its log", function()
    local s = core.session()
    local pid = assert(s:request { url = gateway.url .. "/pid" }).body
    for case in pairs(CASES) do via_gateway(case) end
    assert.are.equal(pid, assert(s:request { url = gateway.url .. "/pid" }).body)
    local log = gateway.log()
    assert.falsy(log:find("exited on signal", 1, true), log)
    assert.falsy(log:find("[alert]", 1, true), log)
    assert.falsy(log:find("atpanic", 1, true), log)
  end)
end)
