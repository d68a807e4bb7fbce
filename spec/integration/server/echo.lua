-- An nginx content handler for the pipeline specs: authenticates the request with the
-- emulator's own canonicalisation (lua/aliyun/emulator/auth.lua) and echoes what it got.
-- Test actions: Sleep (waits Seconds), Status (answers HTTP Code with a non-JSON body).
local core = require "aliyun.core"
local cjson = require "cjson"
local auth = require "aliyun.emulator.auth"

local verifier = auth.new {
  keys = {
    testid = { secret = "testsecret" },
    stsid = { secret = "stssecret", security_token = "ststoken" },
  },
  crypto = core,
}

local COMMON = {
  Action = true, Version = true, Format = true, AccessKeyId = true, Signature = true,
  SignatureMethod = true, SignatureVersion = true, SignatureNonce = true, Timestamp = true,
  SecurityToken = true,
}

local function request_id()
  local n = core.nonce():upper()
  return n:sub(1, 8) .. "-" .. n:sub(9, 12) .. "-" .. n:sub(13, 16) .. "-" .. n:sub(17, 20) .. "-" .. n:sub(21, 32)
end

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json;charset=utf-8"
  ngx.print(cjson.encode(t))
end

return function()
  ngx.req.read_body()
  local headers = {}
  for k, v in pairs(ngx.req.get_headers(200)) do
    headers[k:lower()] = type(v) == "table" and table.concat(v, ",") or v
  end
  local path = ngx.var.request_uri:match("^[^?]*")
  local req = {
    method = ngx.req.get_method(), path = path, query_string = ngx.var.args,
    headers = headers, body = ngx.req.get_body_data(),
  }
  local rid = request_id()
  local ctx, err = verifier:verify(req)
  if not ctx then
    return reply(err.status, {
      RequestId = rid, HostId = ngx.var.host, Code = err.code, Message = err.message,
      Recommend = "https://api.aliyun.com/troubleshoot?q=" .. err.code,
    })
  end
  local params = {}
  for k, v in pairs(ctx.params) do if not COMMON[k] then params[k] = v end end
  if ctx.action == "Sleep" then
    ngx.sleep(tonumber(params.Seconds) or 1)
  elseif ctx.action == "Status" then
    ngx.status = tonumber(params.Code) or 500
    ngx.print("<html>upstream trouble</html>")
    return
  end
  reply(200, {
    RequestId = rid, Action = ctx.action, Version = ctx.version, Method = req.method,
    AccessKeyId = ctx.access_key_id,
    SignatureVersion = ctx.signature_version, Params = params,
    InBody = req.body ~= nil and req.body ~= "" and req.body:find("=", 1, true) ~= nil,
    Connection = tonumber(ngx.var.connection), ViaProxy = headers["x-via-proxy"] == "1",
    Count = 42, Ratio = 0.5, Nothing = cjson.null,
  })
end
