-- The request pipeline: look up -> validate and flatten -> credentials -> sign -> send
-- -> decode -> result or (nil, err). Nothing product-specific lives here: what an action
-- takes comes from the generated API tables.
local core = require "aliyun.core"
local errors = require "aliyun.errors"
local signer = require "aliyun.signer"

local client = {}

local VERSION = "0.1.0"
local USER_AGENT = string.format("lua-aliyun/%s (%s)", VERSION, _VERSION)

local DEFAULTS = {
  signature_version = "v1",
  method = "POST",
  timeout = 60,
  connect_timeout = 10,
}

local Client = {}

-- Modules needed only once a call is made are loaded then, so `require "aliyun"` stays light.
local lazy = setmetatable({}, {
  __index = function(t, name)
    local m = require("aliyun." .. name)
    rawset(t, name, m)
    return m
  end,
})

-- The generated tables for a product, or nil for a product the library has no tables for.
local function api_tables(product)
  local ok, api = pcall(require, "aliyun.api")
  if not ok then return nil end
  return api.load(product)
end

-- "https://host:port/" -> scheme, authority. No scheme means HTTPS.
local function parse_endpoint(endpoint)
  if type(endpoint) ~= "string" or endpoint == "" then return nil end
  local scheme, rest = endpoint:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then scheme, rest = "https", endpoint end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil end
  local authority = rest:match("^([^/?#]+)")
  if not authority or authority:find("[%s@]") then return nil end
  return scheme, authority
end

local function pick(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then return v end
  end
end

local function check_options(opts)
  if opts.signature_version ~= nil and opts.signature_version ~= "v1" and opts.signature_version ~= "v3" then
    error("aliyun.client: signature_version must be \"v1\" or \"v3\"", 3)
  end
  if opts.method ~= nil and opts.method ~= "GET" and opts.method ~= "POST" then
    error("aliyun.client: method must be \"GET\" or \"POST\"", 3)
  end
  for _, k in ipairs { "timeout", "connect_timeout" } do
    if opts[k] ~= nil and (type(opts[k]) ~= "number" or opts[k] <= 0) then
      error("aliyun.client: " .. k .. " must be a positive number of seconds", 3)
    end
  end
end

function client.new(product, opts)
  if type(product) ~= "string" or product == "" then
    error("aliyun.client: product name expected (\"ecs\" or \"ens\")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then error("aliyun.client: options must be a table", 2) end
  opts = opts or {}
  check_options(opts)
  local self = { product = product:lower(), opts = {} }
  for k, v in pairs(DEFAULTS) do self.opts[k] = v end
  for k, v in pairs(opts) do self.opts[k] = v end
  return setmetatable(self, client.mt)
end

-- The transport: the `transport` option (a function or a table with send), else libcurl.
function Client:_transport()
  local t = self._send
  if t then return t end
  local given = self.opts.transport
  if type(given) == "function" then
    t = given
  elseif type(given) == "table" and type(given.send) == "function" then
    t = given.send
  elseif given ~= nil then
    error("aliyun.client: transport must be a function or a table with a send function", 3)
  else
    local o = self.opts
    t = require("aliyun.transport.curl").new {
      connect_timeout = o.connect_timeout, timeout = o.timeout, verify_tls = o.verify_tls,
      ca_file = o.ca_file, proxy = o.proxy, no_proxy = o.no_proxy, user_agent = USER_AGENT,
      max_body = o.max_body,
    }.send
  end
  self._send = t
  return t
end

function Client:_credentials(call_opts)
  if call_opts.credentials then
    local p = require("aliyun.credentials.static").new(call_opts.credentials, "the call's credentials")
    if not p then
      return nil, errors.new { kind = "credentials", message = "the call's credentials hold no key pair" }
    end
    local creds, why = p.get()
    if not creds then return nil, errors.new { kind = "credentials", message = why } end
    return creds
  end
  if not self._provider then
    self._provider = self.opts.credentials_provider or require("aliyun.credentials.chain").default(self.opts)
  end
  local creds, err = self._provider.get()
  if not creds then
    if not errors.is_error(err) then err = errors.new { kind = "credentials", message = tostring(err) } end
    return nil, err
  end
  return creds
end

function Client:_endpoint(wire)
  local endpoint = self.opts.endpoint
  if not endpoint then
    local why
    endpoint, why = lazy.endpoints.resolve(self.product, {
      region = self.opts.region or (wire and (wire.query.RegionId or wire.body.RegionId)),
      endpoint_type = self.opts.endpoint_type,
    })
    if not endpoint then return nil, errors.new { kind = "validation", message = why } end
  end
  local scheme, authority = parse_endpoint(endpoint)
  if not scheme then
    return nil, errors.new {
      kind = "validation",
      message = "endpoint " .. tostring(endpoint) .. " is not a http(s) URL or host name",
    }
  end
  return scheme .. "://" .. authority, authority
end

-- Chooses GET or POST within what the action allows.
local function choose_method(entry_methods, wanted, has_body)
  if has_body then wanted = "POST" end
  if entry_methods and not entry_methods[wanted] then
    if entry_methods.POST then return "POST" end
    if entry_methods.GET then return "GET" end
  end
  return wanted
end

-- The service's answer as a result table or an error object.
local function decode_response(action, response)
  local status = response.status
  local data, derr = core.json_decode(response.body or "")
  local headers = response.headers or {}
  if status >= 200 and status < 300 then
    if type(data) ~= "table" then
      return nil, errors.new {
        kind = "decode", action = action, status = status,
        request_id = headers["x-acs-request-id"],
        message = "response is not a JSON object: " .. (derr or ("got a " .. type(data))),
      }
    end
    return data
  end
  if type(data) == "table" then
    return nil, errors.new {
      kind = "service", action = action, status = status,
      code = data.Code ~= nil and tostring(data.Code) or nil,
      message = type(data.Message) == "string" and data.Message or "",
      request_id = data.RequestId or headers["x-acs-request-id"],
      host_id = data.HostId, recommend = data.Recommend,
    }
  end
  local body = tostring(response.body or "")
  local snippet = body:sub(1, 120):gsub("%s+", " ")
  return nil, errors.new {
    kind = "service", action = action, status = status,
    request_id = headers["x-acs-request-id"],
    message = "HTTP " .. status .. " with a body that is not JSON" .. (snippet ~= "" and (": " .. snippet) or ""),
  }
end

-- Builds the signed request for an action; returns request, or nil and an error.
function Client:_build(action, params, call_opts)
  local tables = api_tables(self.product)
  local entry = tables and tables.actions[action]
  local validate = pick(call_opts.validate, self.opts.validate) ~= false
  local wire, err = lazy.params.prepare(self.product, action, entry, params or {}, { validate = validate })
  if not wire then return nil, err end

  local version = pick(call_opts.version, self.opts.version, tables and tables.version)
  if not version then
    return nil, errors.validation(action, "no API version known for product '" .. self.product
      .. "': pass version = \"YYYY-MM-DD\" in the client options")
  end
  local base_url, authority = self:_endpoint(wire)
  if not base_url then
    local eerr = authority
    eerr.action = action
    return nil, eerr
  end
  local creds, cerr = self:_credentials(call_opts)
  if not creds then
    cerr.action = action
    return nil, cerr
  end

  local query, body = wire.query, wire.body
  local method = choose_method(entry and entry.methods and lazy.api.methods(entry),
    pick(call_opts.method, self.opts.method), next(body) ~= nil)
  if method == "POST" and not entry then
    -- with no metadata to say where a parameter goes, the body has no URL length limit
    for k, v in pairs(query) do body[k] = v end
    query = {}
  elseif method == "GET" and next(body) ~= nil then
    for k, v in pairs(body) do query[k] = v end
    body = {}
  end

  local sign = pick(call_opts.signature_version, self.opts.signature_version) == "v3" and signer.v3 or signer.v1
  local request, serr = sign {
    method = method, base_url = base_url, host = authority, action = action, version = version,
    query = query, body = body, credentials = creds, user_agent = USER_AGENT,
  }
  if not request then return nil, errors.validation(action, serr) end
  request.timeout = pick(call_opts.timeout, self.opts.timeout)
  request.connect_timeout = pick(call_opts.connect_timeout, self.opts.connect_timeout)
  return request
end

-- client:call(action, params, call_opts) -> result | nil, err
-- call_opts: timeout, connect_timeout, method, signature_version, validate, credentials, version
function Client:call(action, params, call_opts)
  if type(action) ~= "string" or not action:match("^%a[%w_]*$") then
    error("aliyun: call: action name expected, got " .. (type(action) == "string" and ("'" .. action .. "'") or type(action)), 2)
  end
  if params ~= nil and type(params) ~= "table" then
    error("aliyun: " .. action .. ": parameters must be a table, got " .. type(params), 2)
  end
  if call_opts ~= nil and type(call_opts) ~= "table" then
    error("aliyun: " .. action .. ": call options must be a table, got " .. type(call_opts), 2)
  end
  call_opts = call_opts or {}
  local request, err = self:_build(action, params, call_opts)
  if not request then return nil, err end
  local response, terr = self:_transport()(request)
  if not response then
    if not errors.is_error(terr) then terr = errors.new { kind = "network", message = tostring(terr) } end
    terr.action = action
    return nil, terr
  end
  return decode_response(action, response)
end

function Client:close()
  if self.opts.transport == nil and self._send then
    -- only the transport the client made itself is the client's to close
    self._send = nil
    collectgarbage()
  end
end

-- Action methods: client:DescribeDisks{...}. Generated once per product and action.
local method_cache = {}

local function action_method(self, name)
  local product = self.product
  local cache = method_cache[product]
  if not cache then
    cache = {}
    method_cache[product] = cache
  end
  local m = cache[name]
  if m then return m end
  local tables = api_tables(product)
  if tables and not tables.actions[name] then
    local near = lazy.api.suggest(lazy.api.actions(product), name, 3)
    error(string.format("aliyun: %s has no action '%s'%s", product, name,
      #near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?") or ""), 3)
  end
  m = function(c, params, call_opts) return Client.call(c, name, params, call_opts) end
  cache[name] = m
  return m
end

client.mt = {
  __name = "aliyun.client",
  __index = function(self, k)
    local v = Client[k]
    if v ~= nil then return v end
    if type(k) == "string" and k:match("^%u%w*$") then return action_method(self, k) end
    return nil
  end,
  __tostring = function(self)
    return string.format("aliyun.client(%s, %s)", self.product, tostring(self.opts.endpoint or self.opts.region or "default endpoint"))
  end,
}

client.Client = Client
client.USER_AGENT = USER_AGENT
client.decode_response = decode_response

return client
