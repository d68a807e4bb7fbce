-- The gateway of bench/gateway.lua and bench/gateway_ir.lua: the http{} text of an
-- OpenResty server with three locations on the same static upstream (upstream, a base URL;
-- static_path: the path of its static answer):
--   /sdk    ecs:DescribeRegions through the SDK (checked, signed, sent, parsed, decoded)
--   /floor  a hand-written cosocket exchange sending one SDK request's bytes (no SDK work)
--   /proxy  nginx's own keep-alive proxy_pass
--   /inworker  the SDK's call and the floor's exchange timed inside the worker (os.clock,
--           its own CPU): ?rounds=R&calls=N alternating rounds; answers "sdk floor" lines of
--           microseconds per call, one line a round
-- ${PORT} is the gateway's port, as support.nginx fills it in.
return function(upstream, static_path)
  local port = upstream:match(":(%d+)$")
  return [[
      keepalive_requests 10000000;
      keepalive_timeout 120s;
      upstream static {
        server 127.0.0.1:]] .. port .. [[;
        keepalive 64;
        keepalive_requests 10000000;
      }
      init_by_lua_block {
        CLIENT = require("aliyun").ecs { endpoint = "]] .. upstream .. [[", access_key_id = "testid",
          access_key_secret = "testsecret", region = "cn-hangzhou", method = "GET" }
        FLOOR_POOL = { pool = "floor", pool_size = 64 }
        -- the floor sends the very bytes of one SDK request (signed once, here)
        local line, rest = require("aliyun.core").v1_request("]] .. upstream .. [[", "GET",
          { RegionId = "cn-hangzhou", AcceptLanguage = "en-US", InstanceChargeType = "PostPaid",
            ResourceType = "instance" }, "testsecret", "DescribeRegions", "2014-05-26", "testid")
        FLOOR_REQUEST = line .. rest
        PARAMS = { AcceptLanguage = "en-US", InstanceChargeType = "PostPaid", ResourceType = "instance" }
        -- the floor's exchange: pooled connect, send one SDK request's bytes, one receive, keep-alive
        FLOOR = function()
          local sock = ngx.socket.tcp()
          local ok, err = sock:connect("127.0.0.1", ]] .. port .. [[, FLOOR_POOL)
          if ok then ok, err = sock:send(FLOOR_REQUEST) end
          local data
          if ok then data, err = sock:receiveany(65536) end
          if not data then return nil, err end
          sock:setkeepalive(60000, 64)
          return data
        end
      }
      server {
        listen 127.0.0.1:${PORT};
        location = /sdk {
          content_by_lua_block {
            local r, err = CLIENT:DescribeRegions(PARAMS)
            if not r then
              ngx.status = 502
              ngx.print(tostring(err))
              return
            end
            ngx.print(r.RequestId)
          }
        }
        location = /floor {
          content_by_lua_block {
            local data, err = FLOOR()
            if not data then
              ngx.status = 502
              ngx.print(tostring(err))
              return
            end
            ngx.print(#data)
          }
        }
        location = /inworker {
          content_by_lua_block {
            local rounds = math.min(tonumber(ngx.var.arg_rounds) or 10, 50)
            local calls = math.min(tonumber(ngx.var.arg_calls) or 1000, 10000)
            local function sdk() return CLIENT:DescribeRegions(PARAMS) end
            local function timed(f)
              local t0 = os.clock()
              for _ = 1, calls do
                local r, err = f()
                if not r then error(tostring(err)) end
              end
              return (os.clock() - t0) / calls * 1e6
            end
            timed(sdk) timed(FLOOR) -- warm
            for _ = 1, rounds do
              ngx.say(string.format("%.3f %.3f", timed(sdk), timed(FLOOR)))
            end
          }
        }
        location = /proxy {
          proxy_pass http://static]] .. static_path .. [[;
          proxy_http_version 1.1;
          proxy_set_header Connection "";
        }
      }
    ]]
end
