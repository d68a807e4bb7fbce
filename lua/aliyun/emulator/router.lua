-- One request through the emulator: parse -> control endpoint? -> authenticate -> product
-- from Version -> action -> injected fault -> parameters against the metadata -> ClientToken
-- -> the action's handler -> the documented success or error body.
local api = require "aliyun.api"
local args = require "aliyun.emulator.args"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local auth = require "aliyun.emulator.auth"
local json = require "aliyun.json"
local shape = require "aliyun.emulator.shape"
local state = require "aliyun.emulator.state"
local xml = require "aliyun.emulator.xml"

local router = {}

local PRODUCTS = { ["2014-05-26"] = "ecs", ["2017-11-10"] = "ens" }
local PRODUCT_NAMES = { ecs = "Ecs", ens = "Ens" }
local DEFAULT_HOSTS = { ecs = "ecs.aliyuncs.com", ens = "ens.aliyuncs.com" }

-- Parameters that belong to the protocol, not to the action.
local COMMON = {
  Action = true, Version = true, Format = true, AccessKeyId = true, Signature = true,
  SignatureMethod = true, SignatureVersion = true, SignatureNonce = true, Timestamp = true,
  SecurityToken = true,
}

-- "http://host:port/path?query" -> host, path, and where the query lies in the URL (from, to;
-- an empty range when there is none): no string of the query, nor of path and query, is made.
local find, sub = string.find, string.sub
local function locate(url)
  local host, from, to = "", 1, #url -- path and query lie in url[from..to]
  local _, e = find(url, "^[%w+.-]*://")
  if e then
    local slash = find(url, "[/?#]", e + 1)
    host = sub(url, e + 1, (slash or to + 1) - 1)
    from = slash or to + 1
  end
  local hash = find(url, "#", from, true)
  if hash then to = hash - 1 end
  local q = find(url, "?", from, true)
  local path
  if q and q <= to then
    path, from = sub(url, from, q - 1), q + 1
  else
    path, from = sub(url, from, to), to + 1
  end
  if path == "" then path = "/" end
  return host, path, from, to
end

-- "http://host:port/path?query" -> host, path, query
local function split_url(url)
  url = tostring(url or "")
  local host, path, from, to = locate(url)
  return host, path, sub(url, from, to)
end

-- The headers under lower-case names (the table itself when they are already).
local function lower_headers(h)
  if not h then return {} end
  for k in pairs(h) do
    if type(k) ~= "string" or find(k, "%u") then
      local out = {}
      for k2, v in pairs(h) do out[tostring(k2):lower()] = v end
      return out
    end
  end
  return h
end

local function respond_text(emu, status, text, rid, ctype)
  return { status = status, body = text, headers = {
    ["content-type"] = ctype, ["x-acs-request-id"] = rid, ["date"] = state.http_date(emu:now()),
  } }
end

-- ctx.xml: the answer goes out as XML (a V1 request that did not ask for Format=JSON).
local function respond(emu, status, body, ctx, root)
  if ctx and ctx.xml then
    return respond_text(emu, status, xml.encode(root, body), body.RequestId, "text/xml;charset=utf-8")
  end
  return respond_text(emu, status, assert(json.encode(body)), body.RequestId, "application/json;charset=utf-8")
end

-- The error body of section 4.5: RequestId, HostId, Code, Message, Recommend.
function router.error_response(emu, err, ctx)
  local rid = emu.ids:request_id()
  local product = ctx and ctx.product
  return respond(emu, err.status, {
    RequestId = rid,
    HostId = (ctx and ctx.host ~= "" and ctx.host) or DEFAULT_HOSTS[product or "ecs"],
    Code = err.code,
    Message = err.message,
    Recommend = "https://api.aliyun.com/troubleshoot?q=" .. err.code .. "&product=" .. (PRODUCT_NAMES[product] or "Ecs")
      .. "&requestId=" .. rid,
  }, ctx, "Error")
end

-- Required parameters and wire types, from the metadata entry.
local function check_params(entry, params)
  for _, p in ipairs(entry.params or {}) do
    local name, t = p.name, p.type
    if p.required then
      local present
      if t == "RepeatList" then
        present = params[name .. ".1"] ~= nil
        if not present then
          for k in pairs(params) do
            if k:sub(1, #name + 3) == name .. ".1." then present = true; break end
          end
        end
      elseif t == "Struct" then
        present = params[name] ~= nil
        for k in pairs(params) do
          if k:sub(1, #name + 1) == name .. "." then present = true; break end
        end
      else
        present = params[name] ~= nil and params[name] ~= ""
      end
      if not present then errors.missing(name) end
    end
    local v = params[name]
    if v ~= nil and v ~= "" then
      if (t == "Integer" or t == "Long") and not v:match("^%-?%d+$") then
        errors.invalid(name, nil, nil, "It must be an integer.")
      elseif t == "Boolean" and v:lower() ~= "true" and v:lower() ~= "false" then
        errors.invalid(name, nil, nil, "It must be true or false.")
      elseif (t == "Float" or t == "Double") and not tonumber(v) then
        errors.invalid(name, nil, nil, "It must be a number.")
      end
    end
  end
end

-- What identifies a call for ClientToken purposes: its parameters without the protocol's.
local function fingerprint(params)
  local keys = {}
  for k in pairs(params) do
    if not COMMON[k] and k ~= "ClientToken" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. params[k] end
  return table.concat(parts, "&")
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

-- The service's code for a reused ClientToken with other parameters differs per action.
local MISMATCH_CODES = { ModifyDiskChargeType = "IdempotenceParamNotMatch", ModifyInstanceSpec = "IdempotenceParamNotMatch",
  ModifyPrepayInstanceSpec = "IdempotenceParamNotMatch" }

-- Whether a wire parameter is one the action's handler honours: its name without indexes
-- (DataDisk.2.Size -> DataDisk.Size), or a parent of it (DataDisk), is in the set.
local function honoured(set, base)
  local name = base
  while name do
    if set[name] then return true end
    name = name:match("^(.*)%.[^.]*$")
  end
  return false
end

-- Every parameter of the action that the request carries must be honoured: the service
-- would act on it, so accepting it silently would be a lie.
local function check_honoured(ctx, handler)
  local set = handler.honours
  if not set then return end
  for name, v in pairs(ctx.params) do
    if v ~= "" then
      local base = args.base_name(name)
      local top = base:match("^[^.]+")
      if (handler.meta[base] or handler.meta[top] or handler.meta[name]) and not honoured(set, base)
        and not set[name] then
        errors.raise("UnsupportedParameter.NotEmulated", "The parameter \"" .. name .. "\" of " .. ctx.action
          .. " is not emulated by the lua-aliyun emulator; the call was not carried out (see aliyun-emulator "
          .. "--coverage for what each action honours).")
      end
    end
  end
end

-- In strict mode: a parameter the request carries that the handler never looked at.
local function check_read(ctx, read)
  for name, v in pairs(ctx.params) do
    local base = args.base_name(name)
    if v ~= "" and not read[base] and not read[name] then
      local parent, found = base, false
      while parent do
        if read[parent] then found = true; break end
        parent = parent:match("^(.*)%.[^.]*$")
      end
      if not found then
        errors.raise("InternalError", "emulator (strict): " .. ctx.action .. " accepted the parameter \"" .. name
          .. "\" but never read it", 500)
      end
    end
  end
end

-- Renders an answer (shape.render or shape.encode); a strict-mode violation of the model
-- becomes InternalError.
local function fit(f, ...)
  local ok, out = pcall(f, ...)
  if not ok then
    if type(out) == "table" and out.shape_violation then
      errors.raise("InternalError", "emulator (strict): the answer does not fit the response model: " .. out.message, 500)
    end
    error(out, 0)
  end
  return out
end

-- Strict mode: the text written from the model is json.encode of the rendered table, byte
-- for byte (the two walks of shape.lua must not drift apart).
local function same_text(ctx, text, body)
  if type(text) == "table" then text = table.concat(text) end
  local want = assert(json.encode(body))
  if text == want then return end
  local at = 1
  while text:byte(at) == want:byte(at) do at = at + 1 end
  errors.raise("InternalError", "emulator (strict): the JSON written from the model for " .. ctx.action
    .. " differs from its rendered answer at byte " .. at .. ": " .. text:sub(at, at + 40) .. " instead of "
    .. want:sub(at, at + 40), 500)
end

-- The answer cache (the emulator's answer_cache option, which the nginx handler sets): the
-- JSON text of a Describe that declares `answer_cache`, kept with the world's version
-- (emu.version: every other action, every timer that fires, the control endpoint, a reset or
-- a move of the clock bump it) and served again, under a new RequestId, while the version
-- is the same and the call's parameters are too. Such a Describe reads only the world and
-- its parameters (not the clock) and changes nothing; one that draws from the id generator
-- (a NextToken) is not kept. In strict mode the answer is always made afresh, and a kept
-- one that differs from it is an error (the specs check the rules above that way).
local CACHED_MAX = 32

-- The call's parameters as one string, unambiguously (each name and value with its length).
local function cache_key(ctx, params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = { ctx.product, ctx.action, ctx.world.account }
  for _, k in ipairs(keys) do
    local v = params[k]
    parts[#parts + 1] = #k .. ":" .. k .. #v .. ":" .. v
  end
  return table.concat(parts, "\0")
end

local function cacheable(emu, ctx, handler, key)
  return emu.answer_cache and not key and not ctx.xml and not emu.opts.observe
    and handler.decl and handler.decl.answer_cache and shape.of(ctx.product, ctx.action) ~= nil
end

local function run_action(emu, ctx, handler, entry)
  local params = ctx.params
  if entry then check_params(entry, params) end
  check_honoured(ctx, handler)
  local token = params.ClientToken
  local key
  if token and token ~= "" and entry then
    if #token > 64 or token:find("[^\33-\126]") then errors.raise("InvalidClientToken.ValueNotSupported") end
    key = table.concat({ ctx.product, ctx.action, ctx.world.account, token }, "\0")
    local seen = emu.idempotency[key]
    if seen then
      if seen.fingerprint ~= fingerprint(params) then
        errors.raise(MISMATCH_CODES[ctx.action] or "IdempotentParameterMismatch",
          "Request uses a client token in a previous request but is not identical to that request.")
      end
      return copy(seen.result)
    end
  end
  engine.tick(emu)
  local cache_as, kept
  if cacheable(emu, ctx, handler, key) then
    cache_as = cache_key(ctx, params)
    kept = emu.answers[cache_as]
    if kept and kept.version ~= emu.version then kept = nil end
    if kept and not emu.strict then
      local rid = emu.ids:request_id()
      if ctx.pieces then return nil, { kept.head, rid, kept.rest }, rid end
      return nil, kept.head .. rid .. kept.rest, rid
    end
  else
    emu.version = emu.version + 1 -- this action may change the world
  end
  local drawn = emu.ids:position()
  local read = emu.strict and {} or nil
  if read then read.ClientToken, read.RegionId = true, true end
  ctx.meta = handler.meta
  ctx.list_path = nil
  local s = shape.of(ctx.product, ctx.action)
  ctx.shape = s
  if s then ctx.list_path = shape.list_path(s) end
  local result = handler.fn(emu, args.new(params, read), ctx) or {}
  if read then check_read(ctx, read) end
  -- The answer as a table when something needs one: XML, a ClientToken's replay, strict
  -- mode and observers; as JSON it is written straight from the model (shape.encode).
  local body
  if ctx.xml or key or emu.strict or emu.opts.observe or not s then
    body = fit(shape.render, ctx.product, ctx.action, result, emu.strict)
    if key then emu.idempotency[key] = { fingerprint = fingerprint(params), result = copy(body) } end
  end
  if ctx.xml or not s then return body end
  local fresh = cache_as and emu.ids:position() == drawn -- (nothing drawn: no NextToken made)
  local rid = emu.ids:request_id()
  local text = fit(shape.encode, ctx.product, ctx.action, result, emu.strict, rid, ctx.pieces)
  if body then
    body.RequestId = rid
    if emu.strict then same_text(ctx, text, body) end
  end
  if fresh then
    local head, rest
    if type(text) == "table" then
      head, rest = text[1], text[3]
    else -- '{"RequestId":"' .. rid .. the rest
      head, rest = text:sub(1, 14), text:sub(15 + #rid)
    end
    if kept and (kept.head ~= head or kept.rest ~= rest) then
      errors.raise("InternalError", "emulator (strict): the kept answer of " .. ctx.action .. " differs from a fresh "
        .. "one: something changed the world without bumping its version", 500)
    end
    if emu.answers_count >= CACHED_MAX then emu.answers, emu.answers_count = {}, 0 end
    if not emu.answers[cache_as] then emu.answers_count = emu.answers_count + 1 end
    emu.answers[cache_as] = { version = emu.version, head = head, rest = rest }
  end
  return body, text, rid
end

local function dispatch(emu, request)
  local url = tostring(request.url or "")
  local host, path, qfrom, qto = locate(url)
  local headers = lower_headers(request.headers)
  host = headers.host or host
  -- pieces: the caller writes a JSON answer out as a list of strings (the nginx handler)
  local ctx = { host = host, pieces = request.pieces }
  if path:sub(1, 11) == "/_emulator/" then
    emu.version = emu.version + 1 -- (the answer cache: a reset, a move of the clock, a state load)
    return require("aliyun.emulator.control").handle(emu, request)
  end
  -- V1 answers in XML unless the request asks for JSON (the V3 protocol answers JSON)
  local form
  if not headers.authorization then
    form = auth.parse_form(url, nil, qfrom, qto)
    local q = form or {}
    local fmt = q.Format
    if fmt == nil and request.body and (headers["content-type"] or ""):find("x-www-form-urlencoded", 1, true) then
      fmt = (auth.parse_form(request.body) or {}).Format
    end
    ctx.xml = tostring(fmt or "XML"):upper() ~= "JSON"
  end
  -- the query as a string only for the V3 check, or for an error about a name given twice
  local verified, aerr = emu.verifier:verify {
    method = request.method or "GET", path = path, query_string = not form and sub(url, qfrom, qto) or nil,
    headers = headers, body = request.body, form = form,
  }
  if not verified then
    -- the string to sign stays in the message, as the service sends it; nothing secret is in it
    return router.error_response(emu, errors.new(aerr.code, aerr.message, aerr.status), ctx)
  end
  ctx.action, ctx.version, ctx.access_key_id = verified.action, verified.version, verified.access_key_id
  ctx.world = emu:world(emu:account_of(ctx.access_key_id))
  if emu.rate_limit and not router.admit(emu, ctx.access_key_id) then
    return router.error_response(emu, errors.new("Throttling",
      "Request was denied due to request throttling: more than " .. emu.rate_limit
        .. " requests per second for this AccessKeyId.", 400), ctx)
  end
  ctx.product = PRODUCTS[verified.version]
  if not ctx.product then
    return router.error_response(emu, errors.new("InvalidVersion",
      "Specified parameter Version \"" .. tostring(verified.version) .. "\" is not valid: the emulator serves "
        .. "ECS 2014-05-26 and ENS 2017-11-10."), ctx)
  end
  -- the action's parameters: the request's own table (the verifier's), without the protocol's
  local params = verified.params
  for k in pairs(COMMON) do params[k] = nil end
  ctx.params = params
  local entry = api.find(ctx.product, ctx.action)
  local handler = engine.actions[ctx.product][ctx.action]
  if not handler then
    if entry then
      return router.error_response(emu, errors.new("UnsupportedOperation.NotEmulated",
        "The action " .. ctx.action .. " exists in " .. ctx.product:upper() .. " " .. ctx.version
          .. " but is not emulated by the lua-aliyun emulator; emulated " .. ctx.product:upper() .. " actions: "
          .. table.concat(emu:actions(ctx.product), ", ") .. "."), ctx)
    end
    return router.error_response(emu, errors.new("InvalidAction.NotFound",
      "Specified api is not found, please check your url and method: " .. ctx.product:upper() .. " "
        .. ctx.version .. " has no action \"" .. tostring(ctx.action) .. "\"."), ctx)
  end
  if entry and entry.methods then
    local allowed = api.methods(entry)
    if not allowed[request.method] then
      return router.error_response(emu, errors.new("UnsupportedHTTPMethod",
        "This HTTP method is not supported: " .. ctx.action .. " takes " .. table.concat(entry.methods, " or ") .. ".",
        403), ctx)
    end
  end

  local fault = emu.faults:take(ctx.action)
  local delay, drop = 0, false
  if fault then
    if fault.type == "throttling" then
      return router.error_response(emu, errors.new("Throttling",
        "Request was denied due to request throttling. (injected fault)", 400), ctx)
    elseif fault.type == "status" then
      local code = fault.status == 503 and "ServiceUnavailable" or "InternalError"
      return router.error_response(emu, errors.new(code, nil, fault.status), ctx)
    elseif fault.type == "close" then
      return { status = 0, headers = {}, body = "", close = true }
    elseif fault.type == "latency" then
      delay = fault.seconds
    elseif fault.type == "commit_drop" then
      drop = true
    end
  end

  local ok, result, text, rid = pcall(run_action, emu, ctx, handler, entry)
  local resp
  if ok then
    if not text then result.RequestId = emu.ids:request_id() end
    local observe = emu.opts.observe
    if observe then observe(ctx.product, ctx.action, result) end
    if text then
      resp = respond_text(emu, 200, text, rid, "application/json;charset=utf-8")
    else
      resp = respond(emu, 200, result, ctx, ctx.action .. "Response")
    end
  elseif errors.is(result) then
    if result.uncatalogued and emu.strict then
      result = errors.new("InternalError", "emulator (strict): the code " .. result.code
        .. " is not in the error catalogue (" .. result.message .. ")", 500)
    end
    resp = router.error_response(emu, result, ctx)
  else
    -- a bug in the emulator: say so rather than pretend the service failed
    resp = router.error_response(emu, errors.new("InternalError",
      "The emulator failed while handling " .. ctx.action .. ": " .. tostring(result), 500), ctx)
  end
  if drop then return { status = 0, headers = {}, body = "", close = true } end
  resp.delay = delay > 0 and delay or nil
  return resp
end

-- The service's flow control, when the emulator is given a rate: a token bucket per
-- AccessKeyId holding one second's worth of requests.
function router.admit(emu, key_id)
  local now, rate = emu:now(), emu.rate_limit
  local b = emu.buckets[key_id]
  if not b then
    b = { tokens = rate, at = now }
    emu.buckets[key_id] = b
  end
  b.tokens = math.min(rate, b.tokens + (now - b.at) * rate)
  b.at = now
  if b.tokens < 1 then return false end
  b.tokens = b.tokens - 1
  return true
end

function router.handle(emu, request)
  if type(request) ~= "table" then error("emulator: handle(request) expects a request table", 3) end
  return dispatch(emu, request)
end

router.split_url = split_url

return router
