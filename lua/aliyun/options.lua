-- The options the library knows, for a client and for a call, and what each takes. Every
-- option given is checked here before anything else reads it: an unknown name is an error
-- that names it and the nearest known ones (endpiont -> endpoint, dryrun -> dry_run), a
-- value of the wrong kind says what was expected. So a misspelt option never goes unnoticed,
-- and no value reaches the C core that it would refuse with a "bad argument".
--
--   options.check_client(opts)        -> true | nil, message, name
--   options.check_call(opts[, extra]) -> true | nil, message, name   (extra: more names, e.g. items)
local options = {}

local floor, huge = math.floor, math.huge

-- "https://host:port/" -> scheme, authority; no scheme means HTTPS; nil when it is neither
-- an http(s) URL nor a host name.
function options.parse_endpoint(endpoint)
  if type(endpoint) ~= "string" or endpoint == "" then return nil end
  local scheme, rest = endpoint:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then scheme, rest = "https", endpoint end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil end
  local authority = rest:match("^([^/?#]+)")
  if not authority or authority:find("[%s@]") then return nil end
  return scheme, authority
end

-- Checks: each returns true when the value will do.
local function text(v) return type(v) == "string" and v ~= "" end
local function boolean(v) return type(v) == "boolean" end
local function fn(v) return type(v) == "function" end
-- the C core takes timeouts in (0, 86400] seconds
local function seconds(v) return type(v) == "number" and v > 0 and v <= 86400 end
local function non_negative(v) return type(v) == "number" and v >= 0 and v < huge end
local function count(v) return non_negative(v) and v == floor(v) end
local function positive_count(v) return count(v) and v >= 1 end

local function one_of(...)
  local set = {}
  for i = 1, select("#", ...) do set[select(i, ...)] = true end
  return function(v) return set[v] == true end
end

-- What a table option may hold: its own known keys, each checked.
local function fields(known)
  return function(v)
    if type(v) ~= "table" then return false end
    for k, x in pairs(v) do
      local spec = known[k]
      if not spec then return false, k end
      if not spec[1](x) then return false, k end
    end
    return true
  end
end

-- more retries than aliyun.retry.MAX_RETRIES only hide an outage (the deadline ends them anyway)
local function retries(v) return count(v) and v <= 10 end
local RETRIES = "a whole number from 0 to 10"

local RETRY = {
  max_retries = { retries, RETRIES },
  base_delay = { non_negative, "a number of seconds >= 0" },
  max_delay = { non_negative, "a number of seconds >= 0" },
  random = { fn, "a function returning a number in [0, 1)" },
}

local CREDENTIALS = {
  access_key_id = { text, "a non-empty string" },
  access_key_secret = { text, "a non-empty string" },
  security_token = { text, "a non-empty string" },
}

local TIMEOUT = "a number of seconds, more than 0 and at most 86400"

-- name = {check, expected, call = true when a call may give it too}
local KNOWN = {
  endpoint = { options.parse_endpoint, "an http(s) URL or a host name (\"https://ecs.aliyuncs.com\", "
    .. "\"http://127.0.0.1:8080\")" },
  region = { text, "a region id such as \"cn-hangzhou\"" },
  endpoint_type = { one_of("public", "vpc"), "\"public\" or \"vpc\"" },
  signature_version = { one_of("v1", "v3"), "\"v1\" or \"v3\"", call = true },
  method = { one_of("GET", "POST"), "\"GET\" or \"POST\"", call = true },
  timeout = { seconds, TIMEOUT, call = true },
  connect_timeout = { seconds, TIMEOUT, call = true },
  deadline = { function(v) return type(v) == "number" and v > 0 and v < huge end,
    "a number of seconds for the whole call, more than 0", call = true },
  max_retries = { retries, RETRIES, call = true },
  retry = { fields(RETRY), "a table of max_retries, base_delay, max_delay, random", call = true, fields = RETRY },
  dry_run = { boolean, "true or false", call = true },
  debug = { function(v) return boolean(v) or fn(v) end, "true, false or a function taking each line", call = true },
  validate = { boolean, "true or false", call = true },
  version = { function(v) return type(v) == "string" and v:match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil end,
    "an API version \"YYYY-MM-DD\"", call = true },
  credentials = { fields(CREDENTIALS), "a table of access_key_id, access_key_secret, security_token",
    call = true, only_call = true, fields = CREDENTIALS },
  verify_tls = { boolean, "true or false" },
  ca_file = { text, "a file name" },
  proxy = { text, "a proxy URL" },
  no_proxy = { text, "a comma-separated list of hosts" },
  transport = { function(v) return fn(v) or (type(v) == "table" and fn(v.send)) end,
    "a function, or a table with a send function" },
  credentials_provider = { function(v) return type(v) == "table" and fn(v.get) end, "a table with a get function" },
  sleep = { fn, "a function taking seconds" },
  warn = { fn, "a function taking a line" },
  max_body = { positive_count, "a whole number of bytes >= 1" },
  pool_size = { positive_count, "a whole number >= 1" },
  -- credentials, read by the credential chain (lua/aliyun/credentials/)
  access_key_id = CREDENTIALS.access_key_id,
  access_key_secret = CREDENTIALS.access_key_secret,
  security_token = CREDENTIALS.security_token,
  profile = { text, "a profile name of ~/.aliyun/config.json" },
  role_arn = { text, "a RAM role ARN" },
  role_session_name = { text, "a string" },
  duration_seconds = { positive_count, "a whole number of seconds" },
  policy = { text, "a policy document (JSON text)" },
  external_id = { text, "a string" },
  oidc_provider_arn = { text, "an OIDC provider ARN" },
  oidc_token_file = { text, "a file name" },
  ecs_ram_role = { function(v) return text(v) or boolean(v) end, "a role name, \"auto\", true or false" },
  imdsv1_disabled = { boolean, "true or false" },
  getenv = { fn, "a function like os.getenv" },
  home = { text, "a directory" },
  config_file = { text, "a file name" },
  credentials_file = { text, "a file name" },
  ini_section = { text, "a section name" },
  sts_endpoint = { text, "a URL" },
  metadata_endpoint = { text, "a URL" },
  credentials_uri = { text, "a URL" },
  credentials_transport = { function(v) return fn(v) or (type(v) == "table" and fn(v.send)) end,
    "a function, or a table with a send function" },
  credentials_margin = { non_negative, "a number of seconds >= 0" },
  credentials_now = { fn, "a function returning epoch seconds" },
  credentials_wait = { fn, "a function" },
  credentials_on_refresh = { fn, "a function" },
  credentials_retry_after = { non_negative, "a number of seconds >= 0" },
  credentials_shared_dict = { text, "the name of a lua_shared_dict" },
  credentials_max_retries = { count, "a whole number >= 0" },
}

local client_names, call_names = {}, {}
for name, spec in pairs(KNOWN) do
  if not spec.only_call then client_names[#client_names + 1] = name end
  if spec.call then call_names[#call_names + 1] = name end
end
table.sort(client_names)
table.sort(call_names)

local function copy(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v end
  return out
end

local function show(v)
  if type(v) == "string" then return string.format("%q", #v > 40 and (v:sub(1, 37) .. "...") or v) end
  if type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  return "a " .. type(v)
end

local function unknown(kind, name, names)
  local api = require "aliyun.api"
  local near = type(name) == "string" and api.suggest(names, name, 3) or {}
  -- a name written with dashes or another case (dry-run, DryRun) is near its own spelling
  if #near == 0 and type(name) == "string" then
    local squashed = name:lower():gsub("[%-_ ]", "")
    for _, n in ipairs(names) do
      if n:gsub("_", "") == squashed then near[1] = n end
    end
  end
  return string.format("unknown %s %s%s", kind, type(name) == "string" and ("'" .. name .. "'") or show(name),
    #near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?") or "")
end

-- The first problem of a table of options, or true. secret names the values never shown.
local SECRET = { access_key_secret = true, security_token = true, credentials = true }

local function check(opts, kind, call, extra)
  for name, v in pairs(opts) do
    local spec = KNOWN[name]
    if spec and ((call and not spec.call) or (not call and spec.only_call)) then spec = nil end
    if not spec and extra and extra[name] then spec = extra[name] end
    if not spec and KNOWN[name] then
      if call then return nil, name .. " is an option of the client, not of a call: give it to aliyun.client", name end
      return nil, name .. " is an option of a call, not of the client: give it to client:call or an action method", name
    end
    if not spec then
      local names = copy(call and call_names or client_names)
      for n in pairs(extra or {}) do names[#names + 1] = n end
      return nil, unknown(kind, name, names), name
    end
    local ok, field = spec[1](v)
    if not ok then
      local got = SECRET[name] and ("a " .. type(v)) or show(v)
      if field ~= nil and spec.fields then
        local sub = spec.fields[field]
        if not sub then
          local sub_names = {}
          for n in pairs(spec.fields) do sub_names[#sub_names + 1] = n end
          table.sort(sub_names)
          return nil, name .. ": " .. unknown("field", field, sub_names), name
        end
        local x = v[field]
        got = SECRET[name] and ("a " .. type(x)) or show(x)
        return nil, string.format("%s %s.%s must be %s, got %s", kind, name, tostring(field), sub[2], got), name
      end
      return nil, string.format("%s %s must be %s, got %s", kind, name, spec[2], got), name
    end
  end
  return true
end

function options.check_client(opts)
  return check(opts, "option", false)
end

-- extra: {name = {check, expected}} for the names a helper takes besides the call's own
-- (pages and each: items).
function options.check_call(opts, extra)
  return check(opts, "call option", true, extra)
end

-- The names, sorted (for the README and the REPL).
function options.client_names() return copy(client_names) end
function options.call_names() return copy(call_names) end

return options
