-- One deadline per call, and never two creates from one call, against real nginx on
-- 127.0.0.1: a server that counts what it receives, answers the first request of each
-- connection and drops, unanswered, a later request whose tag starts with "drop" (as a
-- server that closes a kept connection after reading a request does), and stalls on a tag
-- that starts with "stall". The client's direct path, libcurl's engine and the nginx
-- transport alike.
local aliyun = require "aliyun"
local core = require "aliyun.core"
local nginx = require "support.nginx"

local SERVER = [[
  lua_shared_dict seen 1m;
  server {
    listen 127.0.0.1:${PORT};
    keepalive_timeout 60s;
    location /count { content_by_lua_block { ngx.print(ngx.shared.seen:get(ngx.var.arg_key) or 0) } }
    location / {
      content_by_lua_block {
        ngx.req.read_body()
        local args = ngx.req.get_uri_args()
        for k, v in pairs(ngx.req.get_post_args()) do args[k] = v end
        local tag = args.InstanceId or args.RegionId or args.tag or "-"
        local key = (args.Action or ngx.var.uri) .. ":" .. tag
        ngx.shared.seen:incr(key, 1, 0)
        if tag:find("^drop") and ngx.var.connection_requests ~= "1" then return ngx.exit(444) end
        if tag:find("^stall") then ngx.sleep(5) end
        ngx.header["Content-Type"] = "application/json"
        ngx.print('{"RequestId":"r-', ngx.var.connection, '","Seen":', ngx.shared.seen:get(key),
          ',"Token":"', args.ClientToken or "", '"}')
      }
    }
  }
]]

describe("one deadline, never two creates #integration", function()
  local server, gateway

  setup(function()
    server = nginx.start { http = SERVER }
    -- the client inside nginx (the cosocket transport)
    gateway = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          location /call {
            content_by_lua_block {
              local c = require("aliyun").ecs { endpoint = "]] .. server.url .. [[", access_key_id = "a",
                access_key_secret = "b", max_retries = 5, timeout = 0.4, retry = { base_delay = 0.01 } }
              assert(c:DescribeZones { RegionId = "warm-" .. ngx.var.arg_tag })
              local r, err
              if ngx.var.arg_what == "start" then
                r, err = c:StartInstance { InstanceId = ngx.var.arg_tag }
              else
                r, err = c:DescribeZones { RegionId = ngx.var.arg_tag }
              end
              ngx.print(r and "ok" or (err.kind .. " " .. err.message))
            }
          }
        }
      ]],
    }
  end)
  teardown(function()
    if gateway then gateway.stop() end
    if server then server.stop() end
  end)

  local function count(key)
    local s = core.session()
    local n = tonumber(assert(s:request { url = server.url .. "/count?key=" .. key }).body)
    s:close()
    return n
  end

  local function ecs(opts)
    local o = { endpoint = server.url, access_key_id = "testid", access_key_secret = "testsecret",
      retry = { base_delay = 0.01 } }
    for k, v in pairs(opts or {}) do o[k] = v end
    return aliyun.ecs(o)
  end

  describe("a request the server may have received on a kept connection", function()
    it("is not sent again when it is not safe to repeat, whatever max_retries says", function()
      local c = ecs { max_retries = 5 }
      assert(c:DescribeZones { RegionId = "warm-1" }) -- opens the connection the next call reuses
      local r, err = c:StartInstance { InstanceId = "drop-start-1" }
      assert.is_nil(r)
      assert.are.equal("network", err.kind)
      assert.matches("closed the kept connection without answering", err.message)
      assert.are.equal(1, count("StartInstance:drop-start-1"))
    end)

    it("is sent again when it only reads, unless max_retries is 0", function()
      local c = ecs { max_retries = 0 }
      assert(c:DescribeZones { RegionId = "warm-2" })
      local _, err = c:DescribeInstances { RegionId = "drop-zones-1" }
      assert.are.equal("network", err.kind)
      assert.are.equal(1, count("DescribeInstances:drop-zones-1"))
      c = ecs { max_retries = 2 }
      assert(c:DescribeZones { RegionId = "warm-3" })
      local r = assert(c:DescribeInstances { RegionId = "drop-zones-2" })
      assert.are.equal(2, r.Seen) -- the second went out on a new connection, which answers
      assert.are.equal(2, count("DescribeInstances:drop-zones-2"))
    end)

    it("is sent again when it carries its ClientToken, with the same token", function()
      local c = ecs { max_retries = 2 }
      assert(c:DescribeZones { RegionId = "warm-4" })
      local r = assert(c:CreateDisk { RegionId = "drop-disk-1", ZoneId = "z", Size = 20 })
      assert.are.equal(2, count("CreateDisk:drop-disk-1"))
      assert.matches("^%x+%-", r.Token)
    end)

    it("is sent again in a batch only when it is idempotent", function()
      for _, case in ipairs { { idempotent = false, want = 1 }, { idempotent = true, want = 2 } } do
        local s = core.session()
        local tag = "drop-batch-" .. tostring(case.idempotent)
        -- two connections kept, then two requests on them that the server drops
        s:batch({ { url = server.url .. "/b?tag=warm1" }, { url = server.url .. "/b?tag=warm2" } }, 2)
        local results = s:batch({
          { method = "POST", url = server.url .. "/b?tag=" .. tag .. "a", body = "x", idempotent = case.idempotent },
          { method = "POST", url = server.url .. "/b?tag=" .. tag .. "b", body = "x", idempotent = case.idempotent },
        }, 2)
        for _, k in ipairs { "a", "b" } do
          assert.are.equal(case.want, count("/b:" .. tag .. k), tag .. k)
        end
        if case.want == 1 then
          assert.are.equal("network", results[1].kind)
          assert.matches("closed the kept connection without answering", results[1].error)
        else
          assert.are.equal(200, results[1].status)
        end
        s:close()
      end
    end)

    it("is not left to libcurl's engine to send again when it must not be", function()
      -- libcurl sends a request again by itself when a reused connection dies unanswered:
      -- one that must not be repeated goes out on a fresh connection instead
      for _, case in ipairs { { idempotent = false, want = 1 }, { idempotent = true, want = 2 } } do
        local s = core.session { curl_http = true }
        local tag = "drop-curl-" .. tostring(case.idempotent)
        assert(s:request { url = server.url .. "/curl?tag=warm" })
        local r = assert(s:request { method = "POST", url = server.url .. "/curl?tag=" .. tag, body = "x=1",
          idempotent = case.idempotent })
        assert.matches('"Seen":' .. case.want, r.body)
        assert.are.equal(case.want, count("/curl:" .. tag), tag)
        s:close()
      end
    end)
  end)

  describe("inside nginx", function()
    local function via_gateway(what, tag)
      local s = core.session { timeout = 20 }
      local r = assert(s:request { url = gateway.url .. "/call?what=" .. what .. "&tag=" .. tag })
      s:close()
      return r.body
    end

    it("sends a create once on a kept connection the server drops", function()
      assert.matches("^network ", via_gateway("start", "drop-ngx-1"))
      assert.are.equal(1, count("StartInstance:drop-ngx-1"))
    end)

    it("sends a read again on a new connection", function()
      assert.are.equal("ok", via_gateway("zones", "drop-ngx-2"))
      assert.are.equal(2, count("DescribeZones:drop-ngx-2"))
    end)

    it("bounds a call by one deadline", function()
      assert.matches("^timeout .*deadline of 1.2 s", via_gateway("zones", "stall-ngx"))
    end)
  end)

  it("replaces a kept connection the server closed while idle, sending the request once", function()
    local quick = nginx.start { http = SERVER:gsub("keepalive_timeout 60s", "keepalive_timeout 300ms") }
    local c = aliyun.ecs { endpoint = quick.url, access_key_id = "a", access_key_secret = "b", max_retries = 0 }
    local first = assert(c:DescribeZones { RegionId = "idle-1" }).RequestId
    core.sleep(0.8) -- nginx has closed the idle connection by now
    local r = assert(c:StartInstance { InstanceId = "idle-start" })
    assert.are_not.equal(first, r.RequestId)
    assert.are.equal(1, r.Seen)
    quick.stop()
  end)

  it("bounds a call by one deadline, retries and waits included", function()
    local c = ecs { timeout = 0.4, max_retries = 10 }
    local t0 = core.monotonic()
    local r, err = c:DescribeZones { RegionId = "stall-1" }
    local took = core.monotonic() - t0
    assert.is_nil(r)
    assert.are.equal("timeout", err.kind)
    assert.matches("deadline of 1.2 s", err.message)
    -- three times the timeout by default: with ten retries allowed, no more than fits in it
    assert.is_true(count("DescribeZones:stall-1") <= 3)
    assert.is_true(took < 1.2 + 1, "took " .. took .. " s")
  end)

  it("takes a deadline shorter than the timeout as the first attempt's timeout", function()
    local _, err = ecs { timeout = 5, deadline = 0.3 }:DescribeZones { RegionId = "stall-2" }
    assert.are.equal("timeout", err.kind)
    assert.matches("timed out after 300 milli", err.message)
  end)

  it("refuses an unbounded retry count", function()
    for _, n in ipairs { math.huge, 11 } do
      local ok, err = pcall(function() return ecs { max_retries = n }:DescribeRegions {} end)
      assert.is_false(ok)
      assert.matches("max_retries must be a whole number from 0 to 10", tostring(err))
    end
    assert.has_error(function() require("aliyun.retry").new { max_retries = 11 } end,
      "aliyun: max_retries must be at most 10")
  end)
end)
