-- An nginx content handler that counts every request it gets, for the specs that prove a
-- refused call sends nothing. Needs `lua_shared_dict counting 1m;`.
--   GET  /_count              the number of API requests since the last reset
--   POST /_reset?throttle=N   count from 0; the next N requests get Throttling as XML
-- Every other request is counted and answered with its parameters as JSON:
-- {"RequestId", "Method", "Params": {...}} (the common parameters left out).
local cjson = require "cjson"

local COMMON = {
  Action = true, Version = true, Format = true, AccessKeyId = true, Signature = true,
  SignatureMethod = true, SignatureVersion = true, SignatureNonce = true, Timestamp = true,
  SecurityToken = true,
}

local XML_THROTTLING = [=[<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <RequestId>R-THROTTLED</RequestId>
  <HostId>127.0.0.1</HostId>
  <Code>Throttling</Code>
  <Message>Request was denied due to request throttling.</Message>
  <Recommend><![CDATA[https://api.aliyun.com/troubleshoot?q=Throttling]]></Recommend>
</Error>
]=]

return function()
  local dict = ngx.shared.counting
  local uri = ngx.var.uri
  if uri == "/_count" then
    ngx.print(tostring(dict:get("n") or 0))
    return
  elseif uri == "/_reset" then
    dict:set("n", 0)
    dict:set("throttle", tonumber(ngx.var.arg_throttle) or 0)
    ngx.print("ok")
    return
  end
  dict:incr("n", 1, 0)
  local throttle = dict:get("throttle") or 0
  if throttle > 0 then
    dict:set("throttle", throttle - 1)
    ngx.status = 400
    ngx.header["Content-Type"] = "text/xml;charset=utf-8"
    ngx.print(XML_THROTTLING)
    return
  end
  ngx.req.read_body()
  local params = {}
  for k, v in pairs(ngx.req.get_uri_args(1000)) do
    if not COMMON[k] then params[k] = v end
  end
  for k, v in pairs(ngx.req.get_post_args(1000) or {}) do
    if not COMMON[k] then params[k] = v end
  end
  ngx.header["Content-Type"] = "application/json;charset=utf-8"
  ngx.print(cjson.encode { RequestId = "R-" .. dict:get("n"), Method = ngx.req.get_method(), Params = params })
end
