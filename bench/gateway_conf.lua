-- The gateway of bench/gateway.lua and bench/gateway_ir.lua: the http{} text of an
-- OpenResty server with three locations on the same static upstream (upstream, a base URL;
-- static_path: the path of its static answer):
--   /sdk    ecs:DescribeRegions through the SDK (checked, signed, sent, parsed, decoded)
--   /floor  a hand-written cosocket exchange sending one SDK request's bytes (no SDK work)
--   /proxy  nginx's own keep-alive proxy_pass
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
            local sock = ngx.socket.tcp()
            local ok, err = sock:connect("127.0.0.1", ]] .. port .. [[, FLOOR_POOL)
            if ok then ok, err = sock:send(FLOOR_REQUEST) end
            local data
            if ok then data, err = sock:receiveany(65536) end
            if not data then
              ngx.status = 502
              ngx.print(tostring(err))
              return
            end
            sock:setkeepalive(60000, 64)
            ngx.print(#data)
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
