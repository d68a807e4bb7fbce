-- core.nonce keeps a reserve of random bytes per Lua state. nginx loads the core and may
-- draw nonces in its master (init_by_lua), then forks the workers, which inherit the
-- reserve: each must draw fresh bytes, or two workers would sign with the same nonces.
local core = require "aliyun.core"
local nginx = require "support.nginx"

describe("core.nonce across forked nginx workers #core #integration", function()
  local server

  setup(function()
    server = nginx.start {
      workers = 2,
      http = [[
        init_by_lua_block { require("aliyun.core").nonce() }
        server {
          listen 127.0.0.1:${PORT};
          keepalive_timeout 0;
          location /n {
            content_by_lua_block {
              ngx.print(ngx.worker.pid(), " ", require("aliyun.core").nonce())
            }
          }
        }
      ]],
    }
  end)

  teardown(function()
    if server then server.stop() end
  end)

  it("gives each worker nonces of its own", function()
    local first, all = {}, {}
    local s = core.session()
    -- keepalive_timeout 0: a new connection per request, which either worker may accept
    for _ = 1, 400 do
      local r = assert(s:request { url = server.url .. "/n" })
      local pid, nonce = r.body:match("^(%d+) (%x+)$")
      assert.is_nil(all[nonce], "a nonce came twice")
      all[nonce] = true
      first[pid] = first[pid] or nonce
    end
    local pids = {}
    for pid in pairs(first) do pids[#pids + 1] = pid end
    if #pids < 2 then
      pending("the kernel gave every connection to one worker")
      return
    end
    assert.are_not.equal(first[pids[1]], first[pids[2]])
  end)
end)
