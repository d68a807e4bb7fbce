-- The one-shot command line: `aliyun-lua ecs DescribeDisks --RegionId cn-hangzhou` makes
-- one call and prints its JSON on stdout; on failure the one-line error goes to stderr and
-- the exit code is non-zero (1: the call failed, validation included; 2: the command line
-- itself is wrong; 130: interrupted by Ctrl-C). It takes the official command-line
-- client's spellings (aliyun ecs ... --output cols= rows=, --Tag.1.Key, --access-key-id,
-- --read-timeout, --cli-dry-run ...) beside its own shorter ones. Also the help texts and
-- the completion the REPL and the bash completion script share.
--
--   cli.main(argv, env) -> exit code
-- env (for tests and embedding; all optional): stdout, stderr (functions taking a string),
-- client_opts (merged into every client's options), getenv, clock (the waiter's, with a
-- client_opts.sleep that moves it).
local advice = require "aliyun.advice"
local api = require "aliyun.api"
local core = require "aliyun.core"
local endpoints = require "aliyun.endpoints"
local errors = require "aliyun.errors"
local json = require "aliyun.json"
local pretty = require "aliyun.pretty"

local cli = {}

-- The waiter's defaults, shown in --help and used by run_waiter.
local WAIT_TIMEOUT, WAIT_INTERVAL = 600, 2

local USAGE = [[
usage: aliyun-lua [options]                          interactive REPL (ecs, ens and aliyun loaded)
       aliyun-lua [options] PRODUCT ACTION [--Param value ...]
       aliyun-lua PRODUCT --help | PRODUCT ACTION --help

Products: ecs, ens. Parameter values: JSON for lists and objects (--DiskIds '["d-1"]'),
numbers and booleans as text; --Name=value works too, and so do flat names for the items
of lists and structures (--Tag.1.Key env --Tag.1.Value prod, --SystemDisk.Category cloud_essd).

Where and who:
  --profile, -p NAME      profile of ~/.aliyun/config.json: its key pair and region_id
                          (default: ALIBABA_CLOUD_PROFILE, else the file's current profile)
  --region NAME           region of the endpoint, and RegionId when the action takes one and
                          none is given (default: the profile's region_id)
  --endpoint URL          send here: https://host, http://127.0.0.1:PORT, or a bare host name
                          (HTTPS) (default: the region's endpoint)
  --access-key-id ID, --access-key-secret SECRET, --sts-token TOKEN
                          a key pair for this call (default: the credential chain)
  --emulator              send to an emulator inside this process (key pair testid/testsecret)
  --insecure              plain HTTP to the endpoint instead of HTTPS (not for real accounts)
  --secure                HTTPS (the default)
  --skip-secure-verify    HTTPS without checking the server's certificate (tests only)
How:
  --read-timeout S        seconds to wait for an answer  (default 10; 60 for long actions such
                          as RunInstances)
  --connect-timeout S     seconds to connect             (default 5)
  --retry-count N         retries of throttling, 5xx, timeouts and network errors, 0 to 10
                          (default 3); the whole call, retries and waits included, ends
                          within 3 x the read timeout
  --version YYYY-MM-DD    the API version to call        (default: the product's, e.g. 2014-05-26)
  --dryrun, --cli-dry-run print the signed request instead of sending it (signature, STS token
                          and secrets masked)
  --dryrun-live           print the live signed request, nothing masked, to send it elsewhere
                          (anyone who reads it can send it once)
  --debug                 trace requests and responses on stderr (secrets masked)
What to print:
  --output json           indented JSON                  (the default)
  --output [table] [cols=A,B] [rows=PATH] [num=true]
                          a table: one row per item of PATH (Instances.Instance[], found by
                          itself when the result has one list), columns A,B (every field by
                          default; Name:0 for items that are lists), row numbers with num=true
  --quiet, -q             print nothing on success (the exit code says it)
  --pager [path=PATH]     call every page and merge the lists into one result
                          (default: the result's one list)
  --waiter expr=PATH to=VALUE [timeout=S] [interval=S]
                          call until the value at PATH (Disks.Disk[0].Status) is VALUE, every
                          interval seconds for at most timeout seconds (default timeout=600
                          interval=2); a resource that is not there ends it at once
  --plot [metric=A,B] [width=N] [height=N]
                          draw a monitoring series (Describe*MonitorData) as a chart
                          (default: one metric, 60 x 8)
  --save FILE             write the base64 payload of the result (GetInstanceScreenshot) to FILE
  --help, -h              this text (PRODUCT --help: its actions; PRODUCT ACTION --help: its
                          parameters)
  --version               the library version

--pager and --waiter do not go together, nor --dryrun with either, nor --quiet with --dryrun.
Exit codes: 0 done, 1 the call failed, 2 the command line is wrong, 130 interrupted (Ctrl-C).
Bash completion: source completions/aliyun-lua.bash (installed with the command).
]]

cli.USAGE = USAGE

-- The options, one place for the parser, the completion and the checks.
--   value: takes one word; bool: takes none; sub: takes key=value words (listed).
local FLAGS = {
  profile = "value", region = "value", endpoint = "value", save = "value",
  ["access-key-id"] = "value", ["access-key-secret"] = "value", ["sts-token"] = "value",
  ["read-timeout"] = "value", ["connect-timeout"] = "value", ["retry-count"] = "value",
  dryrun = "bool", ["cli-dry-run"] = "bool", ["dryrun-live"] = "bool", emulator = "bool", debug = "bool", help = "bool",
  quiet = "bool", insecure = "bool", secure = "bool", ["skip-secure-verify"] = "bool",
  version = "version", -- alone: the library's version; with YYYY-MM-DD: the API version
  output = "sub", pager = "sub", waiter = "sub", plot = "sub",
}
local SHORT = { ["-h"] = "help", ["-p"] = "profile", ["-q"] = "quiet" }
local SUBOPTIONS = {
  output = { cols = true, rows = true, num = true },
  pager = { path = true },
  waiter = { expr = true, to = true, timeout = true, interval = true },
  plot = { metric = true, width = true, height = true },
}
local SUB_HELP = {
  output = "json, table, cols=A,B, rows=PATH, num=true",
  pager = "path=PATH",
  waiter = "expr=PATH, to=VALUE, timeout=S, interval=S",
  plot = "metric=A,B, width=N, height=N",
}

-- for the completion (completion.lua)
cli.FLAGS, cli.SHORT, cli.SUBOPTIONS = FLAGS, SHORT, SUBOPTIONS

local function usage_error(message)
  return { usage = true, message = message }
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- argv -> {flags = {...}, sub = {[flag] = {k = v}}, positional = {...}, params = {{name, value|true}}}
-- or nil, usage error.
function cli.parse(argv)
  local out = { flags = {}, sub = {}, positional = {}, params = {} }
  local i, n = 1, #argv
  while i <= n do
    local a = argv[i]
    if SHORT[a] then a = "--" .. SHORT[a] end
    local name, inline = a:match("^%-%-([%w_.%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_.%-]+)$") end
    if not name then
      if a:sub(1, 1) == "-" and a ~= "-" then return nil, usage_error("unknown option " .. a .. " (see --help)") end
      out.positional[#out.positional + 1] = a
      i = i + 1
    elseif name:match("^%u") then
      -- an API parameter: --Name value, --Name=value, or a bare --Name (true)
      local v = inline
      if v == nil then
        local nxt = argv[i + 1]
        if nxt ~= nil and not nxt:match("^%-%-%a") then
          v = nxt
          i = i + 1
        else
          v = true
        end
      end
      out.params[#out.params + 1] = { name, v }
      i = i + 1
    else
      local kind = FLAGS[name]
      if kind == "value" then
        local v = inline
        if v == nil then
          v = argv[i + 1]
          if v == nil then return nil, usage_error("--" .. name .. " needs a value") end
          i = i + 1
        end
        out.flags[name] = v
        i = i + 1
      elseif kind == "bool" then
        if inline ~= nil then return nil, usage_error("--" .. name .. " takes no value") end
        out.flags[name] = true
        i = i + 1
      elseif kind == "version" then
        local v = inline
        if v == nil and argv[i + 1] and argv[i + 1]:match("^%d%d%d%d%-%d%d%-%d%d$") then
          v = argv[i + 1]
          i = i + 1
        end
        if v ~= nil and not v:match("^%d%d%d%d%-%d%d%-%d%d$") then
          return nil, usage_error("--version takes an API version such as 2014-05-26, not " .. v)
        end
        if v then out.flags.api_version = v else out.flags.version = true end
        i = i + 1
      elseif kind == "sub" then
        local sub = out.sub[name] or {}
        i = i + 1
        if inline ~= nil then
          if name ~= "output" then return nil, usage_error("--" .. name .. " takes " .. SUB_HELP[name]) end
          sub.format = inline
        elseif name == "output" and argv[i] and argv[i]:match("^%a+$") then
          sub.format = argv[i]
          i = i + 1
        end
        while i <= n do
          local k, v = argv[i]:match("^(%a+)=(.*)$")
          if not k then break end
          if not SUBOPTIONS[name][k] then
            return nil, usage_error("--" .. name .. " takes " .. SUB_HELP[name] .. "; not " .. k .. "=")
          end
          sub[k] = v
          i = i + 1
        end
        out.flags[name] = true
        out.sub[name] = sub
      else
        local near = api.suggest(sorted_keys(FLAGS), name, 2)
        return nil, usage_error("unknown option --" .. name
          .. (#near > 0 and ("; did you mean --" .. table.concat(near, ", --") .. "?") or " (see --help)"))
      end
    end
  end
  return cli.check(out)
end

local function positive(text)
  local v = tonumber(text)
  return v and v > 0 and v < math.huge and v or nil
end

-- The combinations and values the parser cannot see one word at a time.
function cli.check(out)
  local f, sub = out.flags, out.sub
  if f["cli-dry-run"] or f["dryrun-live"] then f.dryrun = true end
  local o = sub.output
  if o then
    if o.format == nil then
      if o.cols or o.rows or o.num then o.format = "table" else return nil, usage_error("--output needs json, table or cols=A,B") end
    end
    if o.format ~= "json" and o.format ~= "table" then
      return nil, usage_error("--output takes json, table or cols=A,B rows=PATH, not " .. o.format)
    end
    if o.format == "json" and (o.cols or o.rows or o.num) then
      return nil, usage_error("cols=, rows= and num= make a table: leave out json")
    end
    if o.num and o.num ~= "true" and o.num ~= "false" then return nil, usage_error("num= takes true or false") end
    if o.rows then
      local ok, why = pretty.compile_path(o.rows)
      if not ok then return nil, usage_error("--output rows=" .. o.rows .. ": " .. why) end
    end
    if o.cols == "" then return nil, usage_error("--output cols= needs column names, such as cols=InstanceId,Status") end
  end
  if f.pager and f.waiter then
    return nil, usage_error("--pager and --waiter do not go together: --pager merges pages, --waiter polls one call")
  end
  if f.dryrun and (f.pager or f.waiter) then
    return nil, usage_error("--dryrun shows one request: leave out --" .. (f.pager and "pager" or "waiter"))
  end
  if f.quiet and f.dryrun then return nil, usage_error("--quiet hides what --dryrun prints: choose one") end
  if f.insecure and f.secure then return nil, usage_error("--insecure (HTTP) and --secure (HTTPS) disagree") end
  local w = sub.waiter
  if w then
    if not (w.expr and w.to) then return nil, usage_error("--waiter needs expr=PATH and to=VALUE") end
    local ok, why = pretty.compile_path(w.expr)
    if not ok then return nil, usage_error("--waiter expr=" .. w.expr .. ": " .. why) end
    for _, k in ipairs { "timeout", "interval" } do
      if w[k] and not (tonumber(w[k]) and tonumber(w[k]) >= 0) then
        return nil, usage_error("--waiter " .. k .. "= takes seconds, not " .. w[k])
      end
    end
  end
  local p = sub.pager
  if p and p.path then
    p.path = p.path:gsub("%[%]$", "")
    if not p.path:match("^[%a_][%w_]*[%w_.]*$") or p.path:find("..", 1, true) or p.path:find("%.$") then
      return nil, usage_error("--pager path= takes the path of the list, such as path=Disks.Disk")
    end
  end
  local pl = sub.plot
  if pl then
    for _, k in ipairs { "width", "height" } do
      if pl[k] and not (math.tointeger(tonumber(pl[k])) and tonumber(pl[k]) > 0) then
        return nil, usage_error("--plot " .. k .. "= takes a whole number, not " .. pl[k])
      end
    end
  end
  for _, k in ipairs { "read-timeout", "connect-timeout" } do
    if f[k] and not positive(f[k]) then return nil, usage_error("--" .. k .. " takes seconds, not " .. f[k]) end
  end
  if f["retry-count"] then
    local r = math.tointeger(tonumber(f["retry-count"]))
    if not r or r < 0 or r > 10 then return nil, usage_error("--retry-count takes a count from 0 to 10") end
  end
  if (f["access-key-id"] ~= nil) ~= (f["access-key-secret"] ~= nil) then
    return nil, usage_error("--access-key-id and --access-key-secret go together")
  end
  if f["sts-token"] and not f["access-key-id"] then
    return nil, usage_error("--sts-token needs --access-key-id and --access-key-secret (the temporary key pair)")
  end
  if f.emulator and f.endpoint then
    return nil, usage_error("--emulator runs one in this process and --endpoint sends elsewhere: give one")
  end
  if f.region then
    local ok, why = endpoints.check_region(f.region)
    if not ok then return nil, usage_error("--region: " .. why) end
  end
  if f.endpoint then
    local e, why = cli.endpoint_url(f.endpoint, f.insecure and "http" or f.secure and "https" or nil, "--endpoint")
    if not e then return nil, usage_error(why) end
    f.endpoint = e
  end
  return out
end

-- An endpoint as typed -> a URL, or nil and why. A bare host name means HTTPS (as the
-- official client takes it); a host with a port but no scheme is refused, since the port
-- alone cannot tell HTTP (the emulator) from HTTPS. scheme forces one (--insecure, --secure).
function cli.endpoint_url(text, scheme, what)
  local given, rest = text:match("^(%a[%w+.-]*)://(.*)$")
  if given then
    given = given:lower()
    if given ~= "http" and given ~= "https" then return nil, what .. " takes http:// or https://, not " .. given .. "://" end
    if scheme and scheme ~= given then
      return nil, what .. " " .. text .. " is " .. given .. " but " .. (scheme == "http" and "--insecure" or "--secure")
        .. " asks for " .. scheme
    end
    if not rest:match("^[%w.%-%[%]:]+") then return nil, what .. " " .. text .. " has no host" end
    return text
  end
  if scheme and text:match("^[%w.%-%[%]]+:%d+$") then return scheme .. "://" .. text end
  if not text:match("^[%w.%-]+$") then
    if text:match("^[%w.%-%[%]]+:%d+$") then
      return nil, what .. " " .. text .. " needs a scheme: http://" .. text .. " (plain HTTP, as the emulator"
        .. " serves) or https://" .. text
    end
    return nil, what .. " takes a URL such as https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080"
  end
  return (scheme or "https") .. "://" .. text
end

---------------------------------------------------------------------------- help texts

local function product_known(product)
  for _, p in ipairs(api.products()) do
    if p == product then return true end
  end
  return false
end

local function unknown_product(product)
  local near = api.suggest(api.products(), product, 2)
  return "unknown product '" .. tostring(product) .. "'" ..
    (#near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?") or " (products: ecs, ens)")
end

-- Names in columns, as wide as the terminal allows (80 by default).
local function in_columns(names, width)
  width = width or 80
  local w = 0
  for _, n in ipairs(names) do if #n > w then w = #n end end
  w = w + 2
  local per = math.max(1, math.floor((width - 2) / w))
  local rows = math.ceil(#names / per)
  local lines = {}
  for r = 1, rows do
    local cells = {}
    for c = 0, per - 1 do
      local name = names[c * rows + r]
      if name then cells[#cells + 1] = name .. string.rep(" ", w - #name) end
    end
    lines[#lines + 1] = "  " .. table.concat(cells):gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

cli.product_known = product_known

function cli.product_help(product)
  if not product_known(product) then return nil, unknown_product(product) end
  local names = api.actions(product)
  local t = api.load(product)
  return string.format("%s (API version %s): %d actions\n\n%s\n\nMore: aliyun-lua %s ACTION --help\n",
    product, t.version, #names, in_columns(names), product)
end

-- Lines for parameters (and the fields of list items / structures, indented).
local function param_lines(params, indent, out, widths)
  for _, p in ipairs(params) do
    local name = indent .. p.name
    out[#out + 1] = { name, p.type, p.required and "required" or "" }
    if #name > widths[1] then widths[1] = #name end
    if #p.type > widths[2] then widths[2] = #p.type end
    if p.sub then param_lines(p.sub, indent .. "  ", out, widths) end
  end
end

-- The parameters of an action, with type and required flag, required ones first.
function cli.action_help(product, action)
  if not product_known(product) then return nil, unknown_product(product) end
  local d, why = api.describe(product, action)
  if not d then return nil, why end
  local params = {}
  for _, p in ipairs(d.parameters) do if p.required then params[#params + 1] = p end end
  for _, p in ipairs(d.parameters) do if not p.required then params[#params + 1] = p end end
  local rows, widths = {}, { 9, 4 }
  param_lines(params, "", rows, widths)
  local lines = {
    string.format("%s %s%s  (%s)", product, d.name, d.deprecated and "  [deprecated]" or "",
      table.concat(d.methods, ", ")),
    "",
  }
  if #rows == 0 then
    lines[#lines + 1] = "  no parameters"
  else
    lines[#lines + 1] = string.format("  %-" .. widths[1] .. "s  %-" .. widths[2] .. "s  %s", "Parameter", "Type", "Required")
    for _, r in ipairs(rows) do
      lines[#lines + 1] = (string.format("  %-" .. widths[1] .. "s  %-" .. widths[2] .. "s  %s", r[1], r[2], r[3])
        :gsub("%s+$", ""))
    end
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Lists and structures (RepeatList, Struct, Json, Array) take JSON on the command line"
      .. " (or flat names: --Tag.1.Key k) and tables in Lua; indented names are the fields of their items."
  end
  return table.concat(lines, "\n") .. "\n"
end

---------------------------------------------------------------------------- parameters

local INTEGER = { Integer = true, Long = true }
local FLOAT = { Float = true, Double = true }
local STRUCTURED = { RepeatList = true, Struct = true }

-- A command-line text as the Lua value the parameter's type (and style) wants. Lists and
-- objects sent flat or comma-joined take JSON here and become tables; json-style ones keep
-- the JSON text. Values that do not fit are passed as they are, for the validation to report.
function cli.convert(ptype, text, style)
  if text == true then
    if ptype == "Boolean" then return true end
    return nil, "needs a value"
  end
  if INTEGER[ptype] then
    local v = math.tointeger(tonumber(text))
    if v then return v end
    return text
  elseif FLOAT[ptype] then
    return tonumber(text) or text
  elseif ptype == "Boolean" then
    local l = text:lower()
    if l == "true" then return true elseif l == "false" then return false end
    return text
  elseif (style == nil and STRUCTURED[ptype]) or style == "flat" or style == "simple" then
    local first = text:match("^%s*(.)")
    if first == "[" or first == "{" then
      local v, err = json.decode(text)
      if v == nil then return nil, "is not valid JSON: " .. tostring(err) end
      return v
    end
    if ptype ~= "Struct" then return { text } end -- a list of one item
    return text
  end
  -- String and json-style values: the text itself (JSON text as it is)
  return text
end

-- A value for a name the tables do not know: JSON when it looks like JSON, else the text.
local function untyped(text)
  if text == true then return true end
  local first = text:match("^%s*(.)")
  if first == "[" or first == "{" then return json.decode(text) or text end
  return text
end

-- The official client's flat names for the items of lists and the fields of structures:
-- Tag.1.Key (item 1 of Tag, its field Key), SecurityGroupIds.2, SystemDisk.Category.
-- Sets the value in params, building the tables on the way; returns true or nil, why.
local function set_flat(params, by_name, action, name, text)
  local parts = {}
  for part in name:gmatch("[^.]+") do parts[#parts + 1] = part end
  local top = by_name[parts[1]]
  local node_params = top and top.sub
  local container, key = params, parts[1]
  local ptype, style = top and top.type, top and top.style
  for k = 2, #parts do
    local part = parts[k]
    local idx = math.tointeger(tonumber(part))
    if container[key] == nil then container[key] = {} end
    if type(container[key]) ~= "table" then
      return nil, "parameter " .. name .. " goes into " .. key .. ", which is given as a value too"
    end
    container = container[key]
    if idx then
      if idx < 1 then return nil, "parameter " .. name .. ": list items count from 1" end
      key = idx
    else
      key = part
      local field
      for _, s in ipairs(node_params or {}) do
        if s.name == part then field = s break end
      end
      node_params = field and field.sub
      ptype, style = field and field.type, field and field.style
    end
  end
  local v, why
  if ptype and type(key) ~= "number" then
    v, why = cli.convert(ptype, text, style)
  else
    v = untyped(text)
  end
  if v == nil then return nil, "parameter " .. name .. " " .. tostring(why) end
  if container[key] ~= nil then return nil, "parameter " .. name .. " given twice" end
  container[key] = v
  local _ = action
  return true
end

function cli.build_params(product, action, list)
  local d = api.describe(product, action)
  local by_name = {}
  if d then
    for _, p in ipairs(d.parameters) do by_name[p.name] = p end
  end
  local params = {}
  for _, pair in ipairs(list) do
    local name, text = pair[1], pair[2]
    local p = by_name[name]
    if not p and name:find(".", 1, true) and by_name[name:match("^[^.]+")] then
      local ok, why = set_flat(params, by_name, action, name, text)
      if not ok then return nil, errors.validation(action, why) end
    else
      local v, why
      if p then v, why = cli.convert(p.type, text, p.style) else v = untyped(text) end
      if v == nil then
        return nil, errors.validation(action, "parameter " .. name .. " " .. tostring(why))
      end
      if params[name] ~= nil then
        return nil, errors.validation(action, "parameter " .. name .. " given twice")
      end
      params[name] = v
    end
  end
  return params
end

---------------------------------------------------------------------------- clients

-- The selected profile's region_id, or nil.
function cli.profile_region(profile_name, getenv)
  local ok, prof = pcall(require, "aliyun.credentials.profile")
  if not ok then return nil end
  local p = prof.load { profile = profile_name, getenv = getenv }
  return p and type(p.region_id) == "string" and p.region_id ~= "" and p.region_id or nil
end

-- Client options from the session settings: {profile, region, endpoint, emulator, debug,
-- access_key_id, access_key_secret, security_token, timeout, connect_timeout, max_retries,
-- verify_tls, version}. An explicit key pair wins; else a profile named explicitly is the
-- credential source (before the environment variables that the default chain reads
-- first), and its region_id the default region. An emulator (true, or a transport table)
-- puts the in-process emulator behind the client, with its key pair unless a profile or a
-- key pair was named.
function cli.client_options(settings, extra)
  local o = {}
  if settings.access_key_id then
    o.access_key_id, o.access_key_secret = settings.access_key_id, settings.access_key_secret
    o.security_token = settings.security_token
  elseif settings.profile then
    o.profile = settings.profile
    local ok, prof = pcall(require, "aliyun.credentials.profile")
    if ok then o.credentials_provider = prof.new { profile = settings.profile } end
  end
  for _, k in ipairs { "region", "endpoint", "timeout", "connect_timeout", "max_retries", "version" } do
    if settings[k] ~= nil then o[k] = settings[k] end
  end
  if settings.verify_tls == false then o.verify_tls = false end
  if settings.debug then o.debug = true end
  if settings.emulator then
    if type(settings.emulator) ~= "table" then
      settings.emulator = require("aliyun.emulator").transport {}
    end
    o.transport = settings.emulator
    o.endpoint = o.endpoint or "http://127.0.0.1"
    if not settings.profile and not settings.access_key_id then
      o.access_key_id, o.access_key_secret = "testid", "testsecret"
    end
  end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The names of the profiles in ~/.aliyun/config.json (for completion).
function cli.profile_names(getenv)
  local ok, prof = pcall(require, "aliyun.credentials.profile")
  if not ok then return {} end
  local path = prof.path { getenv = getenv }
  local fh = path and io.open(path, "rb")
  if not fh then return {} end
  local cfg = json.decode(fh:read("a") or "")
  fh:close()
  local names = {}
  if type(cfg) == "table" and type(cfg.profiles) == "table" then
    for _, p in ipairs(cfg.profiles) do
      if type(p) == "table" and type(p.name) == "string" then names[#names + 1] = p.name end
    end
  end
  return names
end


---------------------------------------------------------------------------- running

local function merge_pages(client, action, params, path)
  local paginate = require "aliyun.paginate"
  local merged, all, list_path
  for page, err in client:pages(action, params, { items = path }) do
    if page == false then return nil, err end
    if not merged then
      merged = page
      list_path = path or paginate.find_items(page)
      if not list_path then return page end -- not a listing: the one result
      all = {}
    end
    local items, why = paginate.named_items(page, list_path)
    if not items then return nil, errors.validation(action, "--pager path=" .. list_path .. ": " .. why) end
    for _, it in ipairs(items) do all[#all + 1] = it end
  end
  if not list_path then return merged end
  -- the merged list replaces the first page's, wherever it sits
  local parent = merged
  local parts = {}
  for part in list_path:gmatch("[^.]+") do parts[#parts + 1] = part end
  for k = 1, #parts - 1 do
    if type(parent[parts[k]]) ~= "table" then parent[parts[k]] = {} end
    parent = parent[parts[k]]
  end
  local last = parts[#parts]
  parent[last] = json.array(all)
  merged.NextToken = nil
  merged.PageNumber = nil
  if merged.PageSize ~= nil or merged.MaxResults ~= nil then merged.PageSize, merged.MaxResults = nil, nil end
  if merged.TotalCount ~= nil then merged.TotalCount = #all end
  return merged
end

-- Polls every interval seconds (no backoff: the interval asked for is the interval kept)
-- until the value at expr is `to`, for at most timeout seconds.
local function run_waiter(client, action, params, w, stderr, clock)
  local expected = w.to
  local tty = core.isatty(2)
  local started = core.monotonic()
  local function progress(state)
    local line = string.format("%s: %s = %s (%.0f s)", action, w.expr, state, core.monotonic() - started)
    if tty then stderr("\r" .. line .. "   ") else stderr(line .. "\n") end
  end
  local result, err = client:wait(action, params, function(r)
    local v = pretty.query(r, w.expr)
    local state = v == nil and ("nothing at " .. w.expr) or (type(v) == "table" and (json.encode(v) or "?") or tostring(v))
    progress(state)
    return state == expected, state, v == nil
  end, {
    timeout = tonumber(w.timeout) or WAIT_TIMEOUT, interval = tonumber(w.interval) or WAIT_INTERVAL, backoff = 1,
    progress = false, clock = clock,
  })
  if tty then stderr("\n") end
  if not result and err.kind == "service" and err.message:find("^nothing to wait for") then
    err.message = err.message .. "; check the ids in the parameters and expr=" .. w.expr
  end
  return result, err
end

-- The longest string in the result: the base64 payload of GetInstanceScreenshot and kin.
local function longest_string(v, best)
  if type(v) == "string" then
    if not best or #v > #best then return v end
  elseif type(v) == "table" then
    for _, x in pairs(v) do best = longest_string(x, best) end
  end
  return best
end

function cli.save(result, file)
  local payload = longest_string(result)
  if not payload or #payload < 4 then return nil, "--save: the result holds no payload to save" end
  local bytes = core.base64_decode(payload)
  if not bytes then return nil, "--save: the result's payload is not base64" end
  local f, err = io.open(file, "wb")
  if not f then return nil, "--save: " .. tostring(err) end
  f:write(bytes)
  f:close()
  return #bytes
end

-- The region the call's endpoint will come from, for the checks: --region, else the
-- RegionId given, else the profile's region_id. Returns region, where it came from.
local function chosen_region(f, params, getenv)
  if f.region then return f.region, "--region" end
  if type(params.RegionId) == "string" then return params.RegionId, "--RegionId" end
  local r = not f["access-key-id"] and cli.profile_region(f.profile, getenv) or nil
  if r then return r, "the profile's region_id" end
end

-- Runs the command. Returns the exit code; raises only for bugs (and a Ctrl-C, which
-- main turns into exit 130).
local function run(args, env, stdout, stderr, fail, call_failed)
  local f = args.flags
  if f.version and not args.positional[1] then
    stdout("aliyun-lua " .. require("aliyun").VERSION .. " (" .. _VERSION .. ")\n")
    return 0
  end
  local product, action = args.positional[1], args.positional[2]
  if f.version and product then
    return fail(2, "--version before an action takes the API version to call, such as --version 2014-05-26")
  end
  if #args.positional > 2 then return fail(2, "unexpected argument " .. args.positional[3]) end
  if f.help or not product then
    if not product then stdout(USAGE) return 0 end
    local text, why
    if action then text, why = cli.action_help(product:lower(), action) else text, why = cli.product_help(product:lower()) end
    if not text then return fail(2, why) end
    stdout(text)
    return 0
  end
  product = product:lower()
  if not product_known(product) then return fail(2, unknown_product(product)) end
  if not action then return fail(2, "an action is needed after " .. product .. " (aliyun-lua " .. product .. " --help lists them)") end
  if not api.find(product, action) then
    local _, why = api.describe(product, action)
    return call_failed(errors.validation(action, why))
  end

  -- a profile that was asked for and is not there is the first thing to say
  if f.profile and not f["access-key-id"] then
    local prof = require "aliyun.credentials.profile"
    local p, why = prof.load { profile = f.profile, getenv = env.getenv }
    if not p then return fail(1, "--profile " .. f.profile .. ": " .. why) end
  end

  local params, verr = cli.build_params(product, action, args.params)
  if not params then return call_failed(verr) end

  -- a misspelt region would end as a DNS error (or a RegionId the service refuses): the
  -- profile's region_id is checked whenever it is used, a RegionId given when it picks the
  -- endpoint (--region was checked with the other flags)
  local endpoint = f.endpoint
  local region, from = chosen_region(f, params, env.getenv)
  local sends_to_region = not endpoint and not f.emulator
  if region and from ~= "--region" and (from ~= "--RegionId" or sends_to_region) then
    local ok, why = endpoints.check_region(region)
    if not ok then return fail(1, from .. ": " .. why) end
  end
  if f.insecure and sends_to_region then
    if not region then
      return fail(2, "--insecure needs a region (--region NAME) or --endpoint to know where to send")
    end
    local url = endpoints.resolve(product, { region = region })
    endpoint = url and url:gsub("^https://", "http://")
  end

  local settings = {
    profile = f.profile, region = f.region, endpoint = endpoint, emulator = f.emulator, debug = f.debug,
    access_key_id = f["access-key-id"], access_key_secret = f["access-key-secret"], security_token = f["sts-token"],
    timeout = tonumber(f["read-timeout"]), connect_timeout = tonumber(f["connect-timeout"]),
    max_retries = math.tointeger(tonumber(f["retry-count"])), version = f.api_version,
    verify_tls = not f["skip-secure-verify"],
  }
  local copts = cli.client_options(settings, env.client_opts)
  if f.dryrun then copts.dry_run = true end
  local client = require("aliyun").client(product, copts)

  local result, err
  if f.pager then
    result, err = merge_pages(client, action, params, args.sub.pager.path)
  elseif f.waiter then
    result, err = run_waiter(client, action, params, args.sub.waiter, stderr, env.clock)
  else
    result, err = client:call(action, params)
  end
  if not result then return call_failed(err) end

  if f.dryrun then
    stdout(assert(pretty.json(result, { live = f["dryrun-live"] })) .. "\n")
    return 0
  end
  if f.save then
    local n, why = cli.save(result, f.save)
    if not n then return fail(1, why) end
    if not f.quiet then stderr(string.format("saved %d bytes to %s\n", n, f.save)) end
    return 0
  end
  local text, why
  if f.plot then
    local o = args.sub.plot
    local plot = require "aliyun.plot"
    text, why = plot.chart(result, {
      metric = o.metric, width = tonumber(o.width), height = tonumber(o.height),
      ascii = not plot.utf8_terminal(env.getenv),
    })
  elseif args.sub.output and args.sub.output.format == "table" then
    local o = args.sub.output
    local cols
    if o.cols then
      cols = {}
      for c in o.cols:gmatch("[^,]+") do cols[#cols + 1] = c end
    end
    text, why = pretty.columns(result, { cols = cols, rows = o.rows, num = o.num == "true" })
    if not text then why = "--output " .. why end
  else
    text, why = pretty.json(result)
    if text then text = text .. "\n" end
  end
  if not text then return fail(1, why) end
  if not f.quiet then stdout(text) end
  return 0
end

function cli.main(argv, env)
  env = env or {}
  local stdout = env.stdout or function(s) io.stdout:write(s) end
  local stderr = env.stderr or function(s) io.stderr:write(s) end
  local function fail(code, message)
    stderr("aliyun-lua: " .. tostring(message):gsub("[\r\n]+", " ") .. "\n")
    return code
  end
  local function call_failed(err)
    stderr(advice.say(err, "cli") .. "\n")
    return 1
  end

  if argv[1] == "__complete" then
    for _, c in ipairs(require("aliyun.completion").complete(argv[2] or "", env.getenv)) do stdout(c .. "\n") end
    return 0
  end
  local args, perr = cli.parse(argv)
  if not args then return fail(2, perr.message) end
  local ok, code = xpcall(run, debug.traceback, args, env, stdout, stderr, fail, call_failed)
  if ok then return code end
  if core.interrupted(true) then
    -- after the ^C a terminal echoes, on a line of its own
    stderr((core.isatty(2) and "\n" or "") .. "aliyun-lua: interrupted\n")
    return 130
  end
  error(code, 0)
end

return cli
