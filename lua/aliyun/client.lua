-- The request pipeline: look up -> validate and flatten -> credentials -> sign -> send
-- -> decode -> result or (nil, err). Nothing product-specific lives here: what an action
-- takes comes from the generated API tables.
local core = require "aliyun.core"
local errors = require "aliyun.lazy" "aliyun.errors" -- loaded by the first failure
local options = require "aliyun.options"
local timeouts = require "aliyun.timeouts"

local client = {}

local VERSION = "0.1.0"
local USER_AGENT = string.format("lua-aliyun/%s (%s)", VERSION, _VERSION)
local byte = string.byte

local DEFAULTS = {
  signature_version = "v1",
  method = "POST",
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
-- Read-only option tables, so that a call does not build them each time.
local EMPTY, VALIDATE, NO_VALIDATE = {}, { validate = true }, { validate = false }

local tables_of = {} -- product -> tables, or false: looked up on every call

local function api_tables(product)
  local t = tables_of[product]
  if t == nil then
    local ok, api = pcall(require, "aliyun.api")
    t = ok and api.load(product) or false
    tables_of[product] = t
  end
  return t or nil
end

local parse_endpoint = options.parse_endpoint

-- parse_endpoint once per endpoint string: it runs on every call. base_urls holds
-- "scheme://authority" for each endpoint parsed.
local parsed_endpoints, base_urls = {}, {}

local function parse_endpoint_cached(endpoint)
  local hit = parsed_endpoints[endpoint]
  if hit then return hit[1], hit[2] end
  local scheme, authority = parse_endpoint(endpoint)
  if scheme and type(endpoint) == "string" then
    parsed_endpoints[endpoint] = { scheme, authority }
    base_urls[endpoint] = scheme .. "://" .. authority
  end
  return scheme, authority
end

-- The first of up to three values that is not nil. Fixed arity: it runs several times per
-- call, and a vararg loop with select() was a fifth of the pipeline's Lua time (bench/).
local function pick(a, b, c)
  if a ~= nil then return a end
  if b ~= nil then return b end
  return c
end

function client.new(product, opts)
  if type(product) ~= "string" or product == "" then
    error("aliyun.client: product name expected (\"ecs\" or \"ens\")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then error("aliyun.client: options must be a table", 2) end
  opts = opts or {}
  local ok, why = options.check_client(opts)
  if not ok then error("aliyun.client: " .. why, 2) end
  -- _clock_offset is read at every call: false, not nil, so the read finds it here rather
  -- than through the metatable's __index
  local self = { product = product:lower(), opts = {}, _clock_offset = false, _plans = {} }
  for k, v in pairs(DEFAULTS) do self.opts[k] = v end
  for k, v in pairs(opts) do self.opts[k] = v end
  if opts.verify_tls == false then
    lazy.warn.once("verify_tls", "verify_tls = false: server certificates are not checked, so whoever is on "
      .. "the path can pose as the service and read requests and temporary credentials (for tests only)", opts.warn)
  end
  return setmetatable(self, client.mt)
end

-- The transport: the `transport` option (a function or a table with send, and optionally
-- batch), else libcurl. Returns the send function and the batch function or nil.
function Client:_transport()
  local t = self._send
  if t then return t, self._batch end
  local given = self.opts.transport
  local batch
  if type(given) == "function" then
    t = given
  elseif type(given) == "table" and type(given.send) == "function" then
    t, batch = given.send, given.batch
  elseif given ~= nil then
    error("aliyun.client: transport must be a function or a table with a send function", 3)
  elseif rawget(_G, "ngx") and require("aliyun.transport.ngx").inside_nginx() then
    -- inside nginx: cosockets, never a blocking libcurl call in a worker
    local o = self.opts
    local tr = require("aliyun.transport.ngx").new {
      connect_timeout = o.connect_timeout, timeout = o.timeout, verify_tls = o.verify_tls,
      max_body = o.max_body, pool_size = o.pool_size, user_agent = USER_AGENT,
    }
    t, batch = tr.send, tr.batch
    self._session = tr.session -- the common call goes through tr:v1_call
    self._lazy_batch = true
  else
    local o = self.opts
    local tr = require("aliyun.transport.curl").new {
      connect_timeout = o.connect_timeout, timeout = o.timeout, verify_tls = o.verify_tls,
      ca_file = o.ca_file, proxy = o.proxy, no_proxy = o.no_proxy, user_agent = USER_AGENT,
      max_body = o.max_body,
    }
    t, batch = tr.send, tr.batch
    self._session = tr.session -- the fused call goes through this libcurl session
    self._lazy_batch = true
  end
  self._send, self._batch = t, batch
  return t, batch
end

-- A provider given in the options, made safe: one that raises has failed, with the error
-- as its reason (the chain does the same for its own).
local function guarded(p)
  local g = {}
  for k, v in pairs(p) do g[k] = v end
  g.get = function()
    local ok, creds, why = pcall(p.get)
    if not ok then return nil, "raised an error: " .. tostring(creds) end
    return creds, why
  end
  return g
end

-- The client's credential provider (the default chain unless one was given), made once.
function Client:_credentials_provider()
  if not self._provider then
    local given = self.opts.credentials_provider
    self._provider = given and guarded(given) or require("aliyun.credentials.chain").default(self.opts)
  end
  return self._provider
end

-- The region when neither the options nor the call name one: the CLI profile's region_id.
function Client:_default_region()
  local p = Client._credentials_provider(self)
  if type(p.region) == "function" then
    local ok, region = pcall(p.region)
    if ok and type(region) == "string" and region ~= "" then return region end
  end
  return nil
end

-- A provider's failure as the error of a call: one line that names the source.
local function credentials_error(provider, why)
  if errors.is_error(why) then return why end
  local name = type(provider.name) == "string" and provider.name or "the credentials provider"
  return errors.new { kind = "credentials", message = name .. ": " .. errors.line(why) }
end

-- The credentials the provider gave, or nil and the error: none, or values the signer
-- cannot take (a provider of the caller's own may give anything).
local function provided(provider)
  local creds, err = provider.get()
  if not creds then return nil, credentials_error(provider, err) end
  local why = lazy["credentials.value"].problem(creds)
  if why then
    return nil, errors.new { kind = "credentials", message = tostring(provider.name or "the credential provider") .. " " .. why }
  end
  return creds
end

function Client:_credentials(call_opts)
  if call_opts.credentials then
    local p = require("aliyun.credentials.static").new(call_opts.credentials, "the call's credentials")
    if not p then
      return nil, errors.new { kind = "credentials", message = "the call's credentials hold no key pair" }
    end
    return provided(p)
  end
  return provided(Client._credentials_provider(self))
end

-- Plain HTTP sends the AccessKeyId, the STS token and the request in clear text; fine on
-- loopback (the emulator), worth one warning per host anywhere else.
local warned_hosts = {}

local function is_loopback(authority)
  local host = authority:match("^%[([^%]]+)%]") or authority:match("^([^:]+)")
  return host == "localhost" or host == "::1" or (host and host:match("^127%.%d+%.%d+%.%d+$") ~= nil)
end

local function warn_plain_http(authority, warn)
  if warned_hosts[authority] then return end
  warned_hosts[authority] = true
  if is_loopback(authority) then return end
  lazy.warn.say("plain HTTP endpoint http://" .. authority
    .. " is not on loopback; requests and tokens travel unencrypted (use https://)", warn)
end

function Client:_endpoint(wire)
  return Client._endpoint_for(self, wire and wire.query, wire and wire.body)
end

-- The endpoint for a call whose wire query and body are these (either may be nil).
function Client:_endpoint_for(query, body)
  local endpoint = self.opts.endpoint
  if not endpoint then
    local why
    local region = self.opts.region or (query and query.RegionId) or (body and body.RegionId)
      or Client._default_region(self)
    endpoint, why = lazy.endpoints.resolve(self.product, { region = region, endpoint_type = self.opts.endpoint_type })
    if not endpoint then
      -- details.missing lets the command line and the REPL say it in their own terms
      return nil, errors.new { kind = "validation", message = why, details = region == nil and { missing = "region" } or nil }
    end
  end
  local scheme, authority = parse_endpoint_cached(endpoint)
  if not scheme then
    return nil, errors.new {
      kind = "validation",
      message = "endpoint " .. tostring(endpoint) .. " is not a http(s) URL or host name",
    }
  end
  if scheme == "http" then warn_plain_http(authority, self.opts.warn) end
  return base_urls[endpoint], authority
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
  if status >= 200 and status < 300 and type(data) == "table" then return data end
  -- the headers are read only for errors: a transport may make them on first use
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
  -- an error in XML (no Format=JSON got through) carries the same fields
  if type(data) ~= "table" then data = lazy.xml.error_fields(response.body) end
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

-- What a call of an action needs that depends only on the client's options, the call's
-- options and the action's entry. Made each time for a call with options; for a call without
-- (the usual one) made once per action and kept (plan_of), since it was a good part of a
-- call's Lua time. The client's options are read when a client first calls an action.
-- The debug option's sink; the trace module is loaded only when there is one to make.
local function trace_sink(debug)
  if debug == nil or debug == false then return nil end
  return lazy.trace.sink(debug)
end

local function make_plan(self, action, call_opts, tables)
  local o = self.opts
  local entry = tables and tables.actions[action]
  local plan = {
    entry = entry,
    client_token = entry ~= nil and lazy.api.index(entry).by_name.ClientToken ~= nil,
    region_param = entry ~= nil and lazy.api.index(entry).by_name.RegionId ~= nil,
    prepare_opts = pick(call_opts.validate, o.validate) ~= false and VALIDATE or NO_VALIDATE,
    version = pick(call_opts.version, o.version, tables and tables.version),
    methods = entry and entry.methods and lazy.api.methods(entry),
    method = pick(call_opts.method, o.method),
    v3 = pick(call_opts.signature_version, o.signature_version) == "v3",
    timeout = pick(call_opts.timeout, o.timeout, timeouts.read_for(action)),
    connect_timeout = pick(call_opts.connect_timeout, o.connect_timeout, timeouts.connect),
    deadline = pick(call_opts.deadline, o.deadline),
    sink = trace_sink(pick(call_opts.debug, o.debug)),
    dry_run = pick(call_opts.dry_run, o.dry_run),
  }
  -- The fused call (fast_attempt) takes the usual case: a known action signed with V1,
  -- parameters checked, nothing traced, nothing to only show. Its method is the one a call
  -- with no body parameters gets.
  plan.fast = entry ~= nil and not plan.v3 and plan.prepare_opts == VALIDATE and not plan.sink
    and not plan.dry_run and plan.version ~= nil
  plan.fast_method = choose_method(plan.methods, plan.method, false)
  -- the whole call, retries and their waits included
  plan.deadline = plan.deadline or timeouts.deadline_for(plan.timeout)
  return plan
end

-- The call options a plan depends on; calls with only others (credentials, max_retries,
-- retry, as a multi-tenant gateway passes) use the action's kept plan.
local PLAN_OPTIONS = {
  validate = true, version = true, method = true, signature_version = true, timeout = true,
  connect_timeout = true, deadline = true, debug = true, dry_run = true,
}

local function plan_of(self, action, call_opts, tables)
  if call_opts ~= EMPTY then
    for k in pairs(call_opts) do
      if PLAN_OPTIONS[k] then return make_plan(self, action, call_opts, tables) end
    end
  end
  local plan = self._plans[action]
  if not plan then
    plan = make_plan(self, action, call_opts, tables)
    self._plans[action] = plan
  end
  return plan
end

-- Builds the signed request for an action; returns request, meta (string_to_sign), or nil
-- and an error. Called once per attempt: every retry is signed afresh (nonce, timestamp).
function Client:_build(action, params, call_opts, tables, limits)
  local plan = plan_of(self, action, call_opts, tables)
  local entry = plan.entry
  local wire, err = lazy.params.prepare(self.product, action, entry, params or EMPTY, plan.prepare_opts)
  if not wire then return nil, err end

  local version = plan.version
  if not version then
    return nil, errors.validation(action, "no API version known for product '" .. self.product
      .. "': pass version = \"YYYY-MM-DD\" in the client options")
  end
  local base_url, authority = Client._endpoint(self, wire)
  if not base_url then
    local eerr = authority
    eerr.action = action
    return nil, eerr
  end
  local creds, cerr = Client._credentials(self, call_opts)
  if not creds then
    cerr.action = action
    return nil, cerr
  end

  local query, body = wire.query, wire.body
  local method = choose_method(plan.methods, plan.method, next(body) ~= nil)
  if method == "POST" and not entry then
    -- with no metadata to say where a parameter goes, the body has no URL length limit
    for k, v in pairs(query) do body[k] = v end
    query = {}
  elseif method == "GET" and next(body) ~= nil then
    for k, v in pairs(body) do query[k] = v end
    body = {}
  end

  local sign = plan.v3 and lazy.signer.v3 or lazy.signer.v1
  -- a clock offset learnt from the server (InvalidTimeStamp.Expired) corrects the timestamp
  local timestamp = self._clock_offset and math.floor(core.time() + self._clock_offset) or nil
  local request, meta = sign {
    method = method, base_url = base_url, host = authority, action = action, version = version,
    query = query, body = body, credentials = creds, user_agent = USER_AGENT, timestamp = timestamp,
  }
  if not request then return nil, errors.validation(action, meta) end
  -- limits: this attempt's share of the call's deadline, and whether the request may be
  -- sent again by a transport that would (libcurl's engine on a reused connection)
  request.timeout = limits and limits.timeout or plan.timeout
  request.connect_timeout = limits and limits.connect_timeout or plan.connect_timeout
  request.idempotent = limits and limits.idempotent or false
  meta = meta or {}
  meta.access_key_id = creds.access_key_id
  return request, meta
end

-- The region a call's RegionId defaults to: the client's region option, else the profile's
-- region_id (looked up once per client). A profile named in the options that cannot be
-- read is reported before anything else (the call would otherwise fail on its RegionId).
function Client:_call_region()
  local r = self.opts.region
  if r ~= nil then return r end
  r = self._profile_region
  if r == nil then
    if self.opts.profile ~= nil then
      local p, why = require("aliyun.credentials.profile").load {
        profile = self.opts.profile, config_file = self.opts.config_file, home = self.opts.home, getenv = self.opts.getenv,
      }
      if not p then return nil, errors.new { kind = "credentials", message = why } end
    end
    r = Client._default_region(self) or false
    self._profile_region = r
  end
  return r or nil
end

-- A copy of params with RegionId filled in from the client's region when the action takes
-- one and the call gave none (the rule of the official command-line client).
local function with_region(self, plan, params)
  if not plan.region_param or (params and params.RegionId ~= nil) then return params end
  local region, err = Client._call_region(self)
  if err then return nil, err end
  if region == nil then return params end
  local copy = {}
  for k, v in pairs(params or {}) do copy[k] = v end
  copy.RegionId = region
  return copy
end

-- A copy of params with a ClientToken when the action takes one and none was given, so
-- that a retried create is not a second create. The same token is kept across retries.
local function with_client_token(plan, params)
  if not plan.client_token or (params and params.ClientToken ~= nil) then return params end
  local copy = {}
  for k, v in pairs(params or {}) do copy[k] = v end
  local h = core.nonce()
  copy.ClientToken = string.format("%s-%s-%s-%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(13, 16),
    h:sub(17, 20), h:sub(21, 32))
  return copy
end

-- An error of an action that takes a ClientToken carries the token every attempt used, so
-- that calling again with ClientToken = err.client_token can never create a second resource.
local function with_token(err, plan, params)
  if plan.client_token and params and params.ClientToken ~= nil then err.client_token = params.ClientToken end
  return err
end

-- After the service said the STS token expired: makes the client's provider fetch new
-- credentials at the next get. True when it will (a provider with invalidate that does not
-- answer false; never a call's own credentials).
function Client:_refresh_credentials(call_opts)
  local p = call_opts.credentials == nil and self._provider
  return p and type(p.invalidate) == "function" and p.invalidate() ~= false or false
end

function Client:_retry_policy(call_opts)
  local given = pick(call_opts.retry, self.opts.retry)
  local max = pick(call_opts.max_retries, self.opts.max_retries)
  local own = call_opts.retry == nil and call_opts.max_retries == nil
  if own and self._default_policy then return self._default_policy end
  if given == nil and max == nil then
    self._default_policy = lazy.retry.new()
    return self._default_policy
  end
  if own then
    -- the client's own options: made once, not at every call
    self._default_policy = Client._retry_policy(self, { retry = given or false, max_retries = max })
    return self._default_policy
  end
  local o = {}
  if type(given) == "table" then for k, v in pairs(given) do o[k] = v end end
  if max ~= nil then o.max_retries = max end
  return lazy.retry.new(o)
end

-- Waits without blocking an nginx worker when inside one.
function Client:_sleep(seconds)
  local s = self.opts.sleep
  if s then return s(seconds) end
  local ngx = rawget(_G, "ngx")
  if ngx and type(ngx.sleep) == "function" and ngx.get_phase and ngx.get_phase() ~= "init" then
    return ngx.sleep(seconds)
  end
  return core.sleep(seconds)
end

-- The service's string-to-sign from a SignatureDoesNotMatch message, if it carries one.
local function server_string_to_sign(message)
  return type(message) == "string" and message:match("string to sign is:%s*(.*)$") or nil
end

-- A string-to-sign may hold the STS token (V1 signs the SecurityToken parameter).
local function mask_sts(sts)
  return (sts:gsub("(SecurityToken%%3D).-%%26", "%1****%%26"):gsub("(SecurityToken%%3D)[^%%]*$", "%1****"))
end

-- Turns the service's terse errors into ones that say what to do.
local function explain(err, meta, access_key_id)
  if err.code == "SignatureDoesNotMatch" and meta and meta.string_to_sign then
    local theirs = server_string_to_sign(err.message)
    if theirs and theirs == meta.string_to_sign then
      err.message = "the AccessKeySecret is wrong for AccessKeyId " .. lazy.trace.short_id(access_key_id or "")
        .. ": the server computed the same string to sign, so only the key can differ"
    elseif theirs then
      err.message = "the request was canonicalised differently (a proxy may have changed it): "
        .. "client string to sign: " .. mask_sts(meta.string_to_sign)
        .. " | server string to sign: " .. mask_sts(theirs)
    end
  end
  return err
end

-- One attempt through the built-in transport's common call (session:v1_call: the direct
-- path's session, or the nginx transport): the C core signs and writes the request, the
-- transport moves the bytes, the C core parses and decodes the answer, with no request,
-- response or wire table in Lua. Returns the result, or nil, err, headers, meta for the
-- error handling of call(), or false when this call is not one it takes (then
-- attempt_once makes it the ordinary way: the same C writer and parser behind send).
-- What the C core needs to sign a call the fused call takes (see plan.fast): the query as
-- given, the base URL, the client's own credentials and the timestamp (nil: now). Returns
-- them; nil and the error; or false when the parameters need the ordinary way.
local function fused_inputs(self, plan, action, params)
  local query = lazy.params.query_only(plan.entry, params or EMPTY)
  if not query then return false end
  local base_url, authority = Client._endpoint_for(self, query, nil)
  if not base_url then
    authority.action = action
    return nil, authority
  end
  local creds, cerr = provided(self._provider or Client._credentials_provider(self))
  if not creds then
    cerr.action = action
    return nil, cerr
  end
  return query, base_url, creds, self._clock_offset and math.floor(core.time() + self._clock_offset) or nil
end

local function fast_attempt(self, plan, action, params, timeout, connect_timeout, idempotent)
  local query, base_url, creds, timestamp = fused_inputs(self, plan, action, params)
  if not query then return query, base_url end
  local session = self._session()
  local result, a, b, c, d, e = session:v1_call(base_url, plan.fast_method, query, creds.access_key_secret,
    action, plan.version, creds.access_key_id, creds.security_token, nil, timestamp, timeout,
    connect_timeout, idempotent)
  if result then return result end
  if result == false and a == nil then
    -- a proxy or an origin the direct path does not take: this client's calls go the
    -- ordinary way from now on
    self._session = nil
    return false
  end
  -- an answer: false, status, body, raw_headers, sts; a failure: nil, message, kind, sts, sent
  local meta = { string_to_sign = result == false and d or c, access_key_id = creds.access_key_id }
  if result == nil then
    local err = errors.new { kind = b, message = a, sent = e }
    err.action = action
    return nil, err, nil, meta
  end
  local response = lazy["transport.curl"].response(a, b, c)
  local err
  result, err = decode_response(action, response)
  if result then return result end
  return nil, err, response.headers, meta
end

-- One attempt the ordinary way: build and sign the request, send it through the
-- transport, decode. Returns the result, or nil, err, headers, meta.
local function attempt_once(self, plan, action, params, call_opts, tables, send, attempt, limits)
  local request, meta = Client._build(self, action, params, call_opts, tables, limits)
  if not request then return nil, meta end
  if plan.dry_run then
    return lazy.mask.dry_run { method = request.method, url = request.url, headers = request.headers, body = request.body }
  end
  local sink, started = plan.sink, nil
  if sink then
    lazy.trace.request(sink, action, request, attempt)
    started = core.monotonic()
  end
  local response, err = send(request)
  if response then
    if sink then lazy.trace.response(sink, action, response, core.monotonic() - started) end
    local result
    result, err = decode_response(action, response)
    if result then return result end
    return nil, err, response.headers, meta
  end
  if not errors.is_error(err) then err = errors.new { kind = "network", message = tostring(err) } end
  err.action = action
  if sink then lazy.trace.failure(sink, action, err, core.monotonic() - started) end
  return nil, err, nil, meta
end

-- What must stop a call before anything else looks at it: call options the library does not
-- know or values they cannot take, and a parameter table whose entries come from
-- metamethods (the copies made below would lose them). nil when the call may go on.
local function refuse(action, params, call_opts, extra)
  if call_opts ~= EMPTY then
    local ok, why, name = options.check_call(call_opts, extra)
    if not ok then return errors.validation(action, why, { option = name }) end
  end
  if params ~= nil and getmetatable(params) ~= nil then return lazy.params.table_error(action, params) end
  return nil
end

-- For the helpers that take call options and some of their own (pages, each, batch): the
-- same check, with those names known too.
function Client._refuse(_, action, params, call_opts, extra)
  return refuse(action, params, call_opts or EMPTY, extra)
end

local BATCH_OPTIONS = {
  concurrency = { function(v) return type(v) == "number" and v >= 1 and v <= 1024 and v == math.floor(v) end,
    "a whole number from 1 to 1024" },
}

-- The error of a call that has no time left for another attempt.
local function past_deadline(err, plan)
  err.message = err.message .. string.format(" (not retried: the call's deadline of %g s would pass)", plan.deadline)
  return err
end

-- client:call(action, params, call_opts) -> result | nil, err
-- call_opts: timeout, connect_timeout, deadline, method, signature_version, validate, credentials,
-- version, max_retries, retry, debug, dry_run
local checked_names = {} -- action names that passed the check below

function Client:call(action, params, call_opts)
  if not checked_names[action] then
    if type(action) ~= "string" or not action:match("^%a[%w_]*$") then
      error("aliyun: call: action name expected, got " .. (type(action) == "string" and ("'" .. action .. "'") or type(action)), 2)
    end
    checked_names[action] = true
  end
  if params ~= nil and type(params) ~= "table" then
    error("aliyun: " .. action .. ": parameters must be a table, got " .. type(params), 2)
  end
  if call_opts ~= nil and type(call_opts) ~= "table" then
    error("aliyun: " .. action .. ": call options must be a table, got " .. type(call_opts), 2)
  end
  call_opts = call_opts or EMPTY
  local refused = refuse(action, params, call_opts)
  if refused then return nil, refused end
  local tables = api_tables(self.product)
  local plan = plan_of(self, action, call_opts, tables)
  if plan.region_param then
    local rerr
    params, rerr = with_region(self, plan, params)
    if rerr then
      rerr.action = action
      return nil, rerr
    end
  end
  if plan.client_token then params = with_client_token(plan, params) end
  local send = Client._transport(self)
  -- the fused call needs the client's own credentials and the libcurl session
  local fast = plan.fast and call_opts.credentials == nil
  -- the client's own policy when the call brings none (made once, at the first call)
  local policy = call_opts == EMPTY and self._default_policy or Client._retry_policy(self, call_opts)
  -- one deadline for the whole call: each attempt gets what is left of it
  local deadline_at = core.monotonic() + plan.deadline
  local timeout, connect_timeout = math.min(plan.timeout, plan.deadline), math.min(plan.connect_timeout, plan.deadline)
  -- whether the request may go twice: safe to repeat, and repeats allowed
  local safe = lazy.retry.safe_to_repeat(action, params)
  local idempotent = safe and policy.max_retries > 0
  local limits
  local attempt, skew_corrected, token_renewed = 0, false, false
  while true do
    attempt = attempt + 1
    local result, err, headers, meta = false, nil, nil, nil
    if fast and self._session then
      result, err, headers, meta = fast_attempt(self, plan, action, params, timeout, connect_timeout, idempotent)
    end
    if result == false then
      limits = limits or { idempotent = idempotent }
      limits.timeout, limits.connect_timeout = timeout, connect_timeout
      result, err, headers, meta = attempt_once(self, plan, action, params, call_opts, tables, send, attempt, limits)
    end
    if result then return result end
    if not headers and not meta then return nil, with_token(err, plan, params) end -- not sent: nothing to retry

    local again = false
    if err.code == "InvalidTimeStamp.Expired" then
      local server = headers and headers.date and core.parse_http_date(headers.date)
      if server then
        local offset = server - core.time()
        if not skew_corrected then
          -- re-sign once with the server's clock; this does not count as a retry
          skew_corrected, again = true, true
          self._clock_offset = offset
        else
          err.message = string.format("%s (the local clock is off by %d seconds from the server's; "
            .. "fix the system time)", err.message, math.floor(-offset + 0.5))
        end
      end
    end
    if not token_renewed and errors.is_expired_token(err) and Client._refresh_credentials(self, call_opts) then
      -- the STS token expired before its provider expected: once more with new credentials,
      -- not counted as a retry
      token_renewed, again = true, true
    end
    if not again then
      explain(err, meta, meta and meta.access_key_id)
      local wait = policy:delay(attempt, err, headers, safe)
      if not wait then return nil, with_token(err, plan, params) end
      if core.monotonic() + wait >= deadline_at then return nil, with_token(past_deadline(err, plan), plan, params) end
      if wait > 0 then Client._sleep(self, wait) end
    else
      attempt = attempt - 1
    end
    local left = deadline_at - core.monotonic()
    if left < 0.001 then return nil, with_token(past_deadline(err, plan), plan, params) end
    if left < timeout then timeout = left end
    if left < connect_timeout then connect_timeout = left end
  end
end

-- A batch's request for a call the fused call would take (plan.fast, the client's own
-- credentials): the query as given, signed by the C core straight into the URL, with none
-- of _build's tables (the headers are one table per method, read by the transports).
-- Returns request, url, access_key_id (the URL gives the string to sign when an error needs
-- it); nil and the error; or false when the call is not one it takes (_build makes it).
local LEAN_HEADERS = {
  GET = { Accept = "application/json", ["User-Agent"] = USER_AGENT },
  POST = { Accept = "application/json", ["User-Agent"] = USER_AGENT,
    ["Content-Type"] = "application/x-www-form-urlencoded" },
}

local function lean_request(self, plan, action, params, idempotent)
  local method = plan.fast_method
  local headers = LEAN_HEADERS[method]
  if not headers then return false end
  local query, base_url, creds, timestamp = fused_inputs(self, plan, action, params)
  if not query then return query, base_url end
  local url = core.v1_sign_url(method, base_url, query, creds.access_key_secret, action, plan.version,
    creds.access_key_id, creds.security_token, nil, timestamp, false)
  return { method = method, url = url, headers = headers, body = method == "POST" and "" or nil,
    timeout = plan.timeout, connect_timeout = plan.connect_timeout, idempotent = idempotent },
    url, creds.access_key_id
end

-- client:batch(calls, {concurrency = 16, ...call options}) -> results
-- calls: a list of {action, params[, call_opts]} (or {action = , params = , opts = }).
-- results[i] is the result table of calls[i] or its error object (errors.is_error), so one
-- failure hides nothing else. Each call is signed on its own; retryable failures are
-- retried in rounds under the retry policy. Over libcurl the calls go out concurrently on
-- curl multi; other transports without a batch function send them one by one.
function Client:batch(calls, opts)
  if type(calls) ~= "table" then error("aliyun: batch: a list of {action, params} expected", 2) end
  opts = opts or {}
  local conc = opts.concurrency or 16
  if type(conc) ~= "number" or conc < 1 or conc > 1024 or conc ~= math.floor(conc) then
    error("aliyun: batch: concurrency must be an integer between 1 and 1024", 2)
  end
  local tables = api_tables(self.product)
  local jobs = {}
  -- the batch's options for every call that brings none of its own (most): made once
  local shared = {}
  for k, v in pairs(opts) do if k ~= "concurrency" then shared[k] = v end end
  if next(shared) == nil then shared = EMPTY end
  local shared_plans = {} -- action -> its plan under the shared options
  for i, c in ipairs(calls) do
    if type(c) ~= "table" then error("aliyun: batch: call " .. i .. " is not a table", 2) end
    local action, params, copts = c[1] or c.action, c[2] or c.params, c[3] or c.opts
    if type(action) ~= "string" or not action:match("^%a[%w_]*$") then
      error("aliyun: batch: call " .. i .. " has no action name", 2)
    end
    if params ~= nil and type(params) ~= "table" then
      error("aliyun: batch: call " .. i .. " (" .. action .. "): parameters must be a table", 2)
    end
    if copts ~= nil and type(copts) ~= "table" then
      error("aliyun: batch: call " .. i .. " (" .. action .. "): call options must be a table", 2)
    end
    local merged = shared
    if copts ~= nil and next(copts) ~= nil then
      merged = {}
      for k, v in pairs(opts) do if k ~= "concurrency" then merged[k] = v end end
      for k, v in pairs(copts) do merged[k] = v end
    end
    local refused = refuse(action, params, merged, BATCH_OPTIONS)
    local plan, p
    if not refused then
      plan = merged == shared and shared_plans[action] or plan_of(self, action, merged, tables)
      if merged == shared then shared_plans[action] = plan end
      p, refused = with_region(self, plan, params)
      if refused then refused.action = action end
    end
    if refused then
      jobs[i] = { action = action, refused = refused }
    else
      params = with_client_token(plan, p)
      jobs[i] = { action = action, params = params, opts = merged, plan = plan,
        safe = lazy.retry.safe_to_repeat(action, params),
        lean = plan.fast and merged.credentials == nil }
    end
  end

  local results = {}
  local send, send_batch = Client._transport(self)
  -- retry rounds start only while the batch is within its deadline (the first round's own)
  local started = core.monotonic()
  local pending, attempt = {}, 0
  for i = 1, #jobs do
    if jobs[i].refused then
      results[i] = jobs[i].refused -- checked above: nothing is sent
    else
      pending[#pending + 1] = i
    end
  end
  local policy = #pending > 0 and Client._retry_policy(self, opts) or nil
  while #pending > 0 do
    attempt = attempt + 1
    local metas, idx, keys = {}, {}, {}
    -- the request of pending call k, signed, or false when there is nothing to send (it
    -- failed to build, or is only shown): its result is settled here
    local function build(k)
      local i = pending[k]
      local job = jobs[i]
      local idempotent = job.safe and policy.max_retries > 0
      if job.lean and self._lazy_batch then
        local request, url, key = lean_request(self, job.plan, job.action, job.params, idempotent)
        if request then
          metas[k], keys[k], idx[k] = url, key, i
          return request
        elseif request == nil then
          results[i] = url
          return false
        end
        job.lean = false -- not one the lean request takes: the ordinary way from now on
      end
      local request, meta = Client._build(self, job.action, job.params, job.opts, tables,
        { idempotent = idempotent })
      if not request then
        results[i] = meta
        return false
      end
      if pick(job.opts.dry_run, self.opts.dry_run) then
        results[i] = lazy.mask.dry_run { method = request.method, url = request.url, headers = request.headers,
          body = request.body }
        return false
      end
      metas[k], idx[k] = meta, i
      return request
    end
    local retry_list, longest, settled = {}, 0, {}
    -- each answer is decoded as soon as it is in (the built-in transports hand them over
    -- one by one), so that the batch holds results, not every raw answer at once
    local function settle(k, resp)
      settled[k] = true
      local i = idx[k]
      local action = jobs[i].action
      local result, err
      if errors.is_error(resp) then
        err = resp
        err.action = action
      else
        result, err = decode_response(action, resp)
      end
      local meta = metas[k]
      metas[k] = nil
      if result then
        results[i] = result
      else
        if type(meta) == "string" then -- a lean request's URL: its string to sign made now
          meta = { string_to_sign = lazy.signer.v1_string_to_sign_of(jobs[i].plan.fast_method, meta),
            access_key_id = keys[k] }
        end
        explain(err, meta, meta and meta.access_key_id)
        local wait = policy:delay(attempt, err, not errors.is_error(resp) and resp.headers or nil, jobs[i].safe)
        if not wait and not jobs[i].renewed and errors.is_expired_token(err)
          and Client._refresh_credentials(self, jobs[i].opts) then
          jobs[i].renewed, wait = true, 0 -- new credentials, as in call()
        end
        results[i] = err
        if wait and core.monotonic() + wait >= started + jobs[i].plan.deadline then
          past_deadline(err, jobs[i].plan)
          wait = nil
        end
        if wait then
          retry_list[#retry_list + 1] = i
          if wait > longest then longest = wait end
        end
      end
    end
    if send_batch and self._lazy_batch then
      -- the built-in transports sign each request when a slot is free for it: a large
      -- batch does not sign every call before the first is sent
      send_batch(build, conc, settle, #pending)
    else
      local requests, at = {}, {}
      for k = 1, #pending do
        local request = build(k)
        if request then
          requests[#requests + 1] = request
          at[#requests] = k
        end
      end
      if send_batch then
        local responses = #requests > 0 and send_batch(requests, conc, function(j, r) settle(at[j], r) end) or {}
        -- a transport's own batch function may return its list instead
        for j = 1, #requests do
          if not settled[at[j]] and responses[j] ~= nil then settle(at[j], responses[j]) end
        end
      else
        for j, r in ipairs(requests) do
          local resp, err = send(r)
          settle(at[j], resp or (errors.is_error(err) and err or errors.new { kind = "network", message = tostring(err) }))
        end
      end
    end
    pending = retry_list
    if #pending > 0 and longest > 0 then Client._sleep(self, longest) end
  end
  for i, job in ipairs(jobs) do
    if job.plan and errors.is_error(results[i]) then with_token(results[i], job.plan, job.params) end
  end
  return results
end

-- Playbook helpers, each in its own module.
function Client:pages(action, params, opts)
  return lazy.paginate.pages(self, action, params, opts)
end

function Client:each(action, params, opts)
  return lazy.paginate.each(self, action, params, opts)
end

function Client:wait(action, params, predicate, opts)
  return lazy.wait.wait(self, action, params, predicate, opts)
end

function Client:wait_for(name, params, opts)
  return lazy.wait.wait_for(self, name, params, opts)
end

function Client:close()
  if self.opts.transport == nil and self._send then
    -- only the transport the client made itself is the client's to close
    self._send, self._batch, self._session = nil, nil, nil
    collectgarbage()
  end
end

-- Action methods: client:DescribeDisks{...}. Generated once per product and action.
local method_cache = {}
-- method function -> {product, action}, so that tools (the REPL's help) can tell what
-- `ecs.CreateDisk` is
local method_info = setmetatable({}, { __mode = "k" })

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
  m = function(c, params, call_opts)
    if getmetatable(c) ~= client.mt then
      -- ecs.DescribeDisks{...}: the parameters arrived where the client belongs
      error(string.format("aliyun: %s.%s{...} needs a colon: write %s:%s{...}", product, name, product, name), 2)
    end
    return Client.call(c, name, params, call_opts)
  end
  cache[name] = m
  method_info[m] = { product = product, action = name }
  return m
end

client.mt = {
  __name = "aliyun.client",
  __index = function(self, k)
    local v = Client[k]
    if v ~= nil then return v end
    -- an action method made before: no pattern match on the hot path of every call
    local cached = method_cache[self.product]
    v = cached and cached[k]
    if v then
      -- kept on the client itself, so later calls find it without this metamethod
      rawset(self, k, v)
      return v
    end
    -- the client's own fields (_send, _clock_offset, ...) are read on every call, often
    -- while still nil: they are never action names, and need no pattern match
    if type(k) ~= "string" or byte(k, 1) == 95 then return nil end
    if k:match("^%u%w*$") then return action_method(self, k) end
    -- describeDisks: an action name with its case wrong gets the same error as a misspelt one
    if k:match("^%l+%u%w*$") and api_tables(self.product) then
      return action_method(self, k)
    end
    return nil
  end,
  __tostring = function(self)
    return string.format("aliyun.client(%s, %s)", self.product, tostring(self.opts.endpoint or self.opts.region or "default endpoint"))
  end,
}

-- client.method_info(fn) -> product, action when fn is an action method (ecs.CreateDisk), else nil
function client.method_info(fn)
  local info = method_info[fn]
  if info then return info.product, info.action end
  return nil
end

client.Client = Client
client.USER_AGENT = USER_AGENT
client.decode_response = decode_response

return client
