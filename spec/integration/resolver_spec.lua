-- Name resolution is bounded by connect_timeout, on the direct path and in libcurl's
-- engine: in a private user and network namespace (unshare), /etc/resolv.conf is replaced
-- by one naming a DNS server on 127.0.0.1 that never answers (spec/support/blackhole_dns.lua),
-- with the resolver's own timeout at 5 s and 2 attempts: a lookup that waited for the
-- resolver would take 10 s.
local core = require "aliyun.core"
local nginx = require "support.nginx"
local shell = require "support.shell"

local ROOT = nginx.ROOT

describe("a name that never resolves #integration", function()
  local dir

  setup(function()
    dir = shell.run("mktemp -d /tmp/aliyun-dns.XXXXXX"):gsub("%s+$", "")
    local f = assert(io.open(dir .. "/resolv.conf", "w"))
    f:write("nameserver 127.0.0.1\noptions timeout:5 attempts:2\n")
    f:close()
    f = assert(io.open(dir .. "/child.lua", "w"))
    f:write([[
      local core = require "aliyun.core"
      local aliyun = require "aliyun"
      local engine = arg[1]
      local t0 = core.monotonic()
      local kind, msg
      if engine == "client" then
        local c = aliyun.ecs { endpoint = "http://never.example.test", access_key_id = "a",
          access_key_secret = "b", connect_timeout = 0.5, timeout = 5, warn = function() end }
        local _, err = c:DescribeRegions {}
        kind, msg = err.kind, err.message
      else
        local s = core.session { connect_timeout = 0.5, curl_http = engine == "libcurl" }
        local _
        _, msg, kind = s:request { url = "http://never.example.test/" }
      end
      io.write(kind, "|", msg, "|", string.format("%.2f", core.monotonic() - t0), "\n")
    ]])
    f:close()
  end)

  teardown(function()
    if dir then shell.sh("rm -rf " .. dir) end
  end)

  local function run(engine)
    local cmd = string.format(
      "cd %s && unshare -rmn sh -c 'ip link set lo up && mount --bind %s/resolv.conf /etc/resolv.conf && "
        .. "(luajit spec/support/blackhole_dns.lua 10 >/dev/null 2>&1 &) && sleep 0.3 && "
        .. "%s %s %s/child.lua %s' 2>&1",
      ROOT, dir, shell.ENV, shell.LUA, dir, engine)
    local out = shell.run(cmd)
    local kind, msg, took = out:match("^(%w+)|(.-)|([%d.]+)\n")
    assert(kind, out)
    return kind, msg, tonumber(took)
  end

  for _, engine in ipairs { "direct", "libcurl", "client" } do
    it("gives up at connect_timeout (" .. engine .. ")", function()
      if not shell.namespaces_work() then
        pending("unshare -rmn (user and network namespaces) or luajit is not available here")
        return
      end
      local kind, msg, took = run(engine)
      assert.are.equal("timeout", kind, msg)
      assert.matches("[Rr]esolving", msg)
      assert.is_true(took < 5, "took " .. took .. " s") -- the resolver alone would take 10 s
    end)
  end

  it("still resolves names that do resolve, with the same resolver", function()
    local s = core.session { connect_timeout = 2 }
    local server = nginx.start { http = "server { listen 127.0.0.1:${PORT}; location / { return 200 ok; } }" }
    local r, msg = s:request { url = "http://localhost:" .. server.port .. "/" }
    server.stop()
    assert(r, msg)
    assert.are.equal("ok", r.body)
  end)
end)
