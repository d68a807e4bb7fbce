-- Temporary credentials shared by every nginx worker through a lua_shared_dict: many
-- requests spread over four workers, all wanting credentials at once, make one fetch.
local core = require "aliyun.core"
local json = require "aliyun.json"
local nginx = require "support.nginx"

describe("credentials shared across nginx workers #integration", function()
  local creds_server, gateway, s

  setup(function()
    creds_server = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          location / { content_by_lua_block { require("integration.server.credentials")() } }
        }
      ]],
    }
    gateway = nginx.start {
      workers = 4,
      http = [[
        lua_shared_dict aliyun_creds 1m;
        server {
          listen 127.0.0.1:${PORT};
          location /creds {
            content_by_lua_block {
              -- one provider per worker, as a gateway would keep it
              local p = package.loaded.shared_test_provider
              if not p then
                p = require("aliyun.credentials.uri").new {
                  uri = "]] .. creds_server.url .. [[/credentials-uri", shared_dict = "aliyun_creds" }
                package.loaded.shared_test_provider = p
              end
              ngx.sleep(0.05) -- let requests pile up in every worker
              local c, why = p.get()
              -- ?expired=ID: the service refused ID's token (the client calls invalidate)
              if c and c.access_key_id == ngx.var.arg_expired then
                p.invalidate()
                c, why = p.get()
              end
              ngx.say(c and c.access_key_id or ("error " .. tostring(why)))
            }
          }
        }
      ]],
    }
    s = core.session { timeout = 10 }
  end)

  teardown(function()
    if s then s:close() end
    if gateway then gateway.stop() end
    if creds_server then creds_server.stop() end
  end)

  it("fetches once for all workers and hands every request the same key", function()
    local reqs = {}
    for i = 1, 64 do reqs[i] = { url = gateway.url .. "/creds" } end
    local results = s:batch(reqs, 64)
    local ids = {}
    for _, r in ipairs(results) do
      assert.equal(200, r.status, r.body)
      ids[r.body] = true
    end
    local n = 0
    for id in pairs(ids) do
      n = n + 1
      assert.matches("^STS%.uri", id)
    end
    assert.equal(1, n)
    local counts = json.decode(assert(s:request { url = creds_server.url .. "/control" }).body)
    assert.equal(1, counts.uri)
    -- the service refuses that token in every worker: one new fetch for them all, and the
    -- workers that learn it later take the new shared copy instead of dropping it
    local old = next(ids):gsub("%s+$", "")
    for i = 1, 64 do reqs[i] = { url = gateway.url .. "/creds?expired=" .. old } end
    local after = {}
    for _, r in ipairs(s:batch(reqs, 64)) do
      assert.equal(200, r.status, r.body)
      after[(r.body:gsub("%s+$", ""))] = true
    end
    local newest = next(after)
    assert.is_nil(next(after, newest), "one key for all")
    assert.are_not.equal(old, newest)
    assert.matches("^STS%.uri", newest)
    counts = json.decode(assert(s:request { url = creds_server.url .. "/control" }).body)
    assert.equal(2, counts.uri)
  end)
end)
