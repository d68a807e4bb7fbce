-- The one-shot command line: `aliyun-lua ecs DescribeDisks --RegionId cn-hangzhou` makes
-- one call and prints its JSON on stdout; on failure the one-line error goes to stderr and
-- the exit code is non-zero (1: the call failed, validation included; 2: the command line
-- itself is wrong). Also the help texts the REPL shares.
--
--   cli.main(argv, env) -> exit code
-- env (for tests and embedding; all optional): stdout, stderr (functions taking a string),
-- client_opts (merged into every client's options), getenv.
local api = require "aliyun.api"
local core = require "aliyun.core"
local errors = require "aliyun.errors"
local json = require "aliyun.json"
local pretty = require "aliyun.pretty"

local cli = {}

local USAGE = [[
usage: aliyun-lua [options]                          interactive REPL (ecs, ens and aliyun loaded)
       aliyun-lua [options] PRODUCT ACTION [--Param value ...]
       aliyun-lua PRODUCT --help | PRODUCT ACTION --help

Products: ecs, ens. Parameter values: JSON for lists and objects (--DiskIds '["d-1"]'),
numbers and booleans as text; --Name=value works too.

Options:
  --profile NAME          profile of ~/.aliyun/config.json (default: ALIBABA_CLOUD_PROFILE, current)
  --region NAME           region of the endpoint, and RegionId when the action takes one
  --endpoint URL          send to this endpoint (https://host, http://127.0.0.1:PORT)
  --emulator              send to an emulator inside this process (key pair testid/testsecret)
  --output json|table     output format (table: [cols=A,B] [rows=PATH])     (default json)
  --dryrun                print the signed request instead of sending it (signature, STS token
                          and secrets masked)
  --dryrun-live           print the live signed request, nothing masked, to send it elsewhere
                          (anyone who reads it can send it once)
  --pager [path=PATH]     call every page and merge the lists into one result
  --waiter expr=PATH to=VALUE [timeout=S] [interval=S]
                          call until the value at PATH is VALUE (PATH: Disks.Disk[0].Status)
  --plot [metric=A,B] [width=N] [height=N]
                          draw a monitoring series (Describe*MonitorData) as a chart
  --save FILE             write the base64 payload of the result (GetInstanceScreenshot) to FILE
  --debug                 trace requests and responses on stderr (secrets masked)
  --help                  this text
  --version               the library version
]]

cli.USAGE = USAGE

-- Options that take key=value words after them, and which keys they take.
local SUBOPTIONS = {
  output = { cols = true, rows = true },
  pager = { path = true },
  waiter = { expr = true, to = true, timeout = true, interval = true },
  plot = { metric = true, width = true, height = true },
}
local VALUE_FLAGS = { profile = true, region = true, endpoint = true, save = true }
local BOOL_FLAGS = { dryrun = true, ["dryrun-live"] = true, emulator = true, debug = true, help = true,
  version = true }

local function usage_error(message)
  return { usage = true, message = message }
end

-- "; did you mean --endpoint?" for a misspelt flag, or "".
local function flag_hint(name)
  local names = {}
  for _, set in ipairs { VALUE_FLAGS, BOOL_FLAGS, SUBOPTIONS } do
    for n in pairs(set) do names[#names + 1] = n end
  end
  table.sort(names)
  local near = api.suggest(names, name, 2)
  return #near > 0 and ("; did you mean --" .. table.concat(near, ", --") .. "?") or ""
end

-- argv -> {flags = {...}, sub = {[flag] = {k = v}}, positional = {...}, params = {{name, value|true}}}
-- or nil, usage error.
function cli.parse(argv)
  local out = { flags = {}, sub = {}, positional = {}, params = {} }
  local i, n = 1, #argv
  while i <= n do
    local a = argv[i]
    if a == "-h" then a = "--help" end
    local name, inline = a:match("^%-%-([%w_.%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_.%-]+)$") end
    if not name then
      if a:sub(1, 1) == "-" and a ~= "-" then return nil, usage_error("unknown option " .. a) end
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
    elseif VALUE_FLAGS[name] then
      local v = inline
      if v == nil then
        v = argv[i + 1]
        if v == nil then return nil, usage_error("--" .. name .. " needs a value") end
        i = i + 1
      end
      out.flags[name] = v
      i = i + 1
    elseif BOOL_FLAGS[name] then
      if inline ~= nil then return nil, usage_error("--" .. name .. " takes no value") end
      out.flags[name] = true
      i = i + 1
    elseif SUBOPTIONS[name] then
      local sub = {}
      i = i + 1
      if inline ~= nil then
        if name == "output" then sub.format = inline else return nil, usage_error("--" .. name .. " takes key=value words") end
      elseif name == "output" then
        sub.format = argv[i]
        if sub.format == nil then return nil, usage_error("--output needs json or table") end
        i = i + 1
      end
      while i <= n do
        local k, v = argv[i]:match("^(%a+)=(.*)$")
        if not k or not SUBOPTIONS[name][k] then break end
        sub[k] = v
        i = i + 1
      end
      out.flags[name] = true
      out.sub[name] = sub
    else
      return nil, usage_error("unknown option --" .. name .. flag_hint(name) .. " (see --help)")
    end
  end
  local fmt = out.sub.output and out.sub.output.format
  if fmt and fmt ~= "json" and fmt ~= "table" then
    return nil, usage_error("--output takes json or table, not " .. fmt)
  end
  if out.sub.waiter and not (out.sub.waiter.expr and out.sub.waiter.to) then
    return nil, usage_error("--waiter needs expr=PATH and to=VALUE")
  end
  return out
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
      .. " and tables in Lua; indented names are the fields of their items."
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

function cli.build_params(product, action, list)
  local d = api.describe(product, action)
  local types, styles = {}, {}
  if d then
    for _, p in ipairs(d.parameters) do types[p.name], styles[p.name] = p.type, p.style end
  end
  local params = {}
  for _, pair in ipairs(list) do
    local name, text = pair[1], pair[2]
    local ptype = types[name]
    local v, why
    if ptype then
      v, why = cli.convert(ptype, text, styles[name])
    elseif text == true then
      v = true
    else
      -- unknown to the tables (the validation will say so) or a flat dotted name
      v = text
      local first = text:match("^%s*(.)")
      if first == "[" or first == "{" then v = json.decode(text) or text end
    end
    if v == nil then
      return nil, errors.validation(action, "parameter " .. name .. " " .. tostring(why))
    end
    if params[name] ~= nil then
      return nil, errors.validation(action, "parameter " .. name .. " given twice")
    end
    params[name] = v
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

-- Client options from the session settings: {profile, region, endpoint, emulator, debug}.
-- A profile named explicitly is the credential source (before the environment variables
-- that the default chain reads first), and its region_id the default region. An emulator
-- (true, or a transport table) puts the in-process emulator behind the client, with its
-- key pair unless a profile was named.
function cli.client_options(settings, extra)
  local o = {}
  if settings.profile then
    o.profile = settings.profile
    local ok, prof = pcall(require, "aliyun.credentials.profile")
    if ok then o.credentials_provider = prof.new { profile = settings.profile } end
  end
  if settings.region then o.region = settings.region end
  if settings.endpoint then o.endpoint = settings.endpoint end
  if settings.debug then o.debug = true end
  if settings.emulator then
    if type(settings.emulator) ~= "table" then
      settings.emulator = require("aliyun.emulator").transport {}
    end
    o.transport = settings.emulator
    o.endpoint = o.endpoint or "http://127.0.0.1"
    if not settings.profile then o.access_key_id, o.access_key_secret = "testid", "testsecret" end
  end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

---------------------------------------------------------------------------- running

local function merge_pages(client, action, params, path)
  local merged, all, list_path
  for page, err in client:pages(action, params, { items = path }) do
    if page == false then return nil, err end
    if not merged then
      merged = page
      list_path = path or require("aliyun.paginate").find_items(page)
      if not list_path then return page end -- not a listing: the one result
      all = {}
    end
    local items = require("aliyun.paginate").items_at(page, list_path)
    for _, it in ipairs(items or {}) do all[#all + 1] = it end
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

local function run_waiter(client, action, params, w, stderr)
  local expected = w.to
  local tty = core.isatty(2)
  local started = core.monotonic()
  local function progress(state)
    local line = string.format("%s: %s = %s (%.0f s)", action, w.expr, state, core.monotonic() - started)
    if tty then stderr("\r" .. line .. "   ") else stderr(line .. "\n") end
  end
  local result, err = client:wait(action, params, function(r)
    local v = pretty.at(r, w.expr)
    local state = v == nil and "(nothing)" or tostring(v)
    progress(state)
    return state == expected, state
  end, {
    timeout = tonumber(w.timeout) or 600, interval = tonumber(w.interval) or 2, progress = false,
  })
  if tty then stderr("\n") end
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

function cli.main(argv, env)
  env = env or {}
  local stdout = env.stdout or function(s) io.stdout:write(s) end
  local stderr = env.stderr or function(s) io.stderr:write(s) end
  local function fail(code, message)
    stderr("aliyun-lua: " .. tostring(message):gsub("[\r\n]+", " ") .. "\n")
    return code
  end
  local function call_failed(err)
    stderr(tostring(err):gsub("[\r\n]+", " ") .. "\n")
    return 1
  end

  local args, perr = cli.parse(argv)
  if not args then return fail(2, perr.message) end
  local f = args.flags
  if f.version then
    stdout("aliyun-lua " .. require("aliyun").VERSION .. " (" .. _VERSION .. ")\n")
    return 0
  end
  local product, action = args.positional[1], args.positional[2]
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

  local params, verr = cli.build_params(product, action, args.params)
  if not params then return call_failed(verr) end

  local settings = { profile = f.profile, region = f.region, endpoint = f.endpoint, emulator = f.emulator,
    debug = f.debug }
  local copts = cli.client_options(settings, env.client_opts)
  -- --region (or the profile's region) fills RegionId when the action takes it
  local region = f.region or cli.profile_region(f.profile, env.getenv)
  if params.RegionId == nil and region then
    local entry = api.find(product, action)
    if api.index(entry).by_name.RegionId then params.RegionId = region end
  end
  if f["dryrun-live"] then f.dryrun = true end
  if f.dryrun then copts.dry_run = true end
  local client = require("aliyun").client(product, copts)

  local result, err
  if f.pager and not f.dryrun then
    result, err = merge_pages(client, action, params, args.sub.pager.path)
  elseif f.waiter and not f.dryrun then
    result, err = run_waiter(client, action, params, args.sub.waiter, stderr)
  else
    result, err = client:call(action, params)
  end
  if not result then return call_failed(err) end

  if f.save then
    local n, why = cli.save(result, f.save)
    if not n then return fail(1, why) end
    stderr(string.format("saved %d bytes to %s\n", n, f.save))
    return 0
  end
  if f.plot then
    local o = args.sub.plot
    local chart, why = require("aliyun.plot").chart(result, {
      metric = o.metric, width = tonumber(o.width), height = tonumber(o.height),
      ascii = not require("aliyun.plot").utf8_terminal(env.getenv),
    })
    if not chart then return fail(1, why) end
    stdout(chart)
    return 0
  end
  local fmt = args.sub.output and args.sub.output.format or "json"
  if fmt == "table" then
    local o = args.sub.output
    local cols
    if o.cols then
      cols = {}
      for c in o.cols:gmatch("[^,]+") do cols[#cols + 1] = c end
    end
    stdout(pretty.columns(result, { cols = cols, rows = o.rows }))
    return 0
  end
  local text, jerr = pretty.json(result, { live = f["dryrun-live"] })
  if not text then return fail(1, jerr) end
  stdout(text .. "\n")
  return 0
end

return cli
