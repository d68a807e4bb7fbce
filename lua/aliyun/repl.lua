-- The interactive shell: a Lua 5.4 REPL with `ecs`, `ens` and `aliyun` ready, line editing,
-- history and tab completion through Debian's lua-readline (plain io.read without it),
-- results pretty-printed, errors on one line, help() on actions, plot() for monitoring
-- series, and :commands that switch the clients (:profile, :region, :endpoint).
--
--   repl.main(argv) -> exit code          (what bin/aliyun-lua runs with no call to make)
--   repl.new(settings, {write = fn, color = bool}) -> session (for tests and embedding)
--     session:feed(line) -> "more" when the chunk is incomplete, "quit" after :quit, else nil
--     session:complete(line, from, to) -> candidates for line:sub(from, to)
local advice = require "aliyun.advice"
local aliyun = require "aliyun"
local api = require "aliyun.api"
local cli = require "aliyun.cli"
local client_mod = require "aliyun.client"
local core = require "aliyun.core"
local endpoints = require "aliyun.endpoints"
local errors = require "aliyun.errors"
local pretty = require "aliyun.pretty"

local repl = {}

local Session = {}
Session.__index = Session

local HELP = [[
Lua 5.4 with these ready:
  ecs, ens            clients: ecs:DescribeDisks{ RegionId = "cn-hangzhou" }
  aliyun              the library (aliyun.ecs{...}, aliyun.null, aliyun.api)
  help(x)             help(ecs.CreateDisk), help(ecs), help("ens"), help("RunInstances")
  plot(result, opts)  chart a monitoring series: plot(r, {metric = "CPU", width = 60, height = 8})
  show(x)             pretty-print x again (_ is the last result)
  live(x)             x with nothing masked: a dry run's live signed request, to send elsewhere
                      (results show signatures, STS tokens and secrets as ****)
Commands:
  :profile NAME       use a profile of ~/.aliyun/config.json (its key pair and region)
  :region NAME        use this region: its endpoints, and RegionId for calls that take one
                      and give none
  :endpoint URL       send to this endpoint (:endpoint alone: back to the region's, or to the
                      in-process emulator when started with --emulator)
  :status             the current profile, region and endpoint
  :help  :quit
Tab completes names, actions after `ecs:` and parameter names inside a call's braces.
A call returns its result, or nil and an error that is printed on one line (also when the
result is assigned: r = ecs:DescribeDisks{}). Ctrl-C stops a running call, or clears the line.]]

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
  "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

local COMMANDS = { ":profile", ":region", ":endpoint", ":status", ":help", ":quit" }

local HISTORY_LINES = 1000

local CLIENT_METHODS = { "call", "pages", "each", "wait", "wait_for", "batch", "close" }

local function is_client(v)
  return type(v) == "table" and getmetatable(v) == client_mod.mt
end

local function one_line(s)
  return (tostring(s):gsub("[\r\n]+", " "))
end

function repl.new(settings, o)
  o = o or {}
  local self = setmetatable({
    settings = settings or {},
    write = o.write or function(s) io.stdout:write(s) end,
    color = o.color,
    tty = o.tty, -- a terminal: it has echoed ^C already
    buffer = nil,
  }, Session)
  local env = setmetatable({}, { __index = _G })
  self.env = env
  self.emulator = self.settings.emulator
  env.aliyun = aliyun
  -- aliyun.errors is loaded on first use; read it now so that completion offers it
  local _ = aliyun.errors
  env.null = aliyun.null
  env.json = require "aliyun.json"
  env.help = function(x) self:help(x) end
  env.plot = function(result, popts) self:plot(result, popts) end
  env.show = function(...)
    for i = 1, select("#", ...) do self:show((select(i, ...))) end
  end
  env.live = function(v) self:say(pretty.format(v, { color = self.color, live = true })) end
  env.print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    self.write(table.concat(parts, "\t") .. "\n")
  end
  self:connect()
  return self
end

function Session:say(s)
  self.write(s .. "\n")
end

function Session:error_line(s)
  self:say(pretty.paint(self.color, "error", "error: " .. one_line(s)))
end

-- A call's error object, said in the REPL's terms (:region rather than region = "...").
function Session:call_error(err)
  self:error_line(advice.say(err, "repl"))
end

-- (Re)makes the clients from the settings.
function Session:connect()
  local o = cli.client_options(self.settings)
  self.env.ecs = aliyun.ecs(o)
  self.env.ens = aliyun.ens(o)
end

function Session:region()
  return self.settings.region or cli.profile_region(self.settings.profile)
end

function Session:prompt(continued)
  if continued then return "   ...> " end
  local r = self:region()
  return r and ("aliyun[" .. r .. "]> ") or "aliyun> "
end

function Session:show(v)
  self:say(pretty.format(v, { color = self.color }))
end

---------------------------------------------------------------------------- help, plot

-- What x names: product, action (either may be nil).
local function resolve_help(x)
  if type(x) == "function" then
    return client_mod.method_info(x)
  end
  if is_client(x) then return x.product end
  if type(x) == "string" then
    local p, a = x:match("^(%a+)[.:](%w+)$")
    if p then return p:lower(), a end
    for _, prod in ipairs(api.products()) do
      if x:lower() == prod then return prod end
    end
    for _, prod in ipairs(api.products()) do
      if api.find(prod, x) then return prod, x end
    end
    return "ecs", x -- for the "did you mean"
  end
end

function Session:help(x)
  if x == nil then self:say(HELP) return end
  local product, action = resolve_help(x)
  if not product then
    self:error_line("help: no help for a " .. type(x) .. " (try help(ecs.CreateDisk), help(ecs) or help(\"ens\"))")
    return
  end
  local text, why
  if action then text, why = cli.action_help(product, action) else text, why = cli.product_help(product) end
  if not text then self:error_line(why) return end
  self.write(text)
end

function Session:plot(result, popts)
  local plot = require "aliyun.plot"
  local o = {}
  for k, v in pairs(popts or {}) do o[k] = v end
  if o.ascii == nil then o.ascii = not plot.utf8_terminal() end
  local chart, why = plot.chart(result, o)
  if not chart then self:error_line(why) return end
  self.write(chart)
end

---------------------------------------------------------------------------- commands

local function profile_names()
  return cli.profile_names()
end

local function region_names()
  return endpoints.regions()
end

function Session:status()
  local s = self.settings
  local endpoint = s.endpoint or (s.emulator and "in-process emulator") or "the region's"
  self:say(string.format("profile %s, region %s, endpoint %s", s.profile or "(default)",
    self:region() or "(none)", endpoint))
end

function Session:command(line)
  local name, arg = line:match("^:(%a+)%s*(.-)%s*$")
  if not name then self:error_line("unknown command " .. line .. " (:help lists them)") return end
  if arg == "" then arg = nil end
  if name == "quit" or name == "q" or name == "exit" then return "quit" end
  if name == "help" then self:say(HELP) return end
  if name == "status" then self:status() return end
  if name == "profile" then
    if not arg then self:error_line(":profile needs a name (" .. table.concat(profile_names(), ", ") .. ")") return end
    local why = repl.check_profile(arg)
    if why then self:error_line(why) return end
    self.settings.profile = arg
    self:connect()
    self:status()
    return
  end
  if name == "region" then
    if not arg then self:error_line(":region needs a region id such as cn-hangzhou") return end
    local ok, why = endpoints.check_region(arg)
    if not ok then self:error_line(":region: " .. why) return end
    self.settings.region = arg
    self:connect()
    self:status()
    return
  end
  if name == "endpoint" then
    local url, why
    if arg then
      url, why = cli.endpoint_url(arg, nil, ":endpoint")
      if not url then self:error_line(why) return end
    end
    -- an endpoint of its own leaves the in-process emulator; none goes back to it
    self.settings.endpoint = url
    self.settings.emulator = not url and self.emulator or nil
    self:connect()
    self:status()
    return
  end
  self:error_line("unknown command :" .. name .. " (:help lists them)")
end

---------------------------------------------------------------------------- evaluation

-- An expression is tried first (so that `1 + 1` shows 2), then a statement. The chunk is
-- incomplete when either reading stopped at the end of the input.
local function compile(src, env)
  local f, err1 = load("return " .. src, "=stdin", "t", env)
  if f then return f end
  local err
  f, err = load(src, "=stdin", "t", env)
  if f then return f end
  if err:find("<eof>$") or err1:find("<eof>$") then return nil, "more" end
  return nil, err
end

-- Runs a compiled chunk and shows what it gives. assigned: the chunk is an assignment
-- rewritten to return the packed values of its right-hand side (see assignment), shown only
-- when they are nil and an error.
function Session:run(f, assigned)
  local res = table.pack(xpcall(f, function(e)
    return tostring(e)
  end))
  if core.interrupted(true) then
    -- Ctrl-C: whatever ran stopped where it was
    self:say((self.tty and "\n" or "") .. pretty.paint(self.color, "error", "interrupted"))
    return
  end
  if not res[1] then self:error_line(res[2]) return end
  if assigned then
    local v = res[2]
    if type(v) == "table" and v[1] == nil and errors.is_error(v[2]) then self:call_error(v[2]) end
    return
  end
  if res.n == 1 then return end
  -- the nil, err convention: the error on one line
  if res[2] == nil and errors.is_error(res[3]) then
    self:call_error(res[3])
    return
  end
  if res[2] ~= nil then self.env._ = res[2] end
  for i = 2, res.n do self:show(res[i]) end
end

-- `name = expr` (one target, one expression) as a chunk that also returns what expr gave,
-- so that `r = ecs:DescribeDisks{}` can say why r is nil. Returns the chunk or nil.
local function assignment(src, env)
  local target, rhs = src:match("^%s*([%a_][%w_]*[%w_.]*)%s*=%s*([^=].-)%s*;?%s*$")
  if not target or target:find("..", 1, true) or target:match("%.$") then return nil end
  local first = target:match("^[%a_][%w_]*")
  for _, k in ipairs(KEYWORDS) do if k == first then return nil end end
  if not load("return " .. rhs, "=stdin", "t", env) then return nil end
  return load(string.format("local _aliyun_v = table.pack(%s)\n%s = _aliyun_v[1]\nreturn _aliyun_v", rhs, target),
    "=stdin", "t", env)
end

-- One line of input. Returns "more" while the chunk is incomplete, "quit" to leave.
function Session:feed(line)
  if self.buffer == nil then
    if line:match("^%s*$") then return nil end
    if line:match("^:") then return self:command(line) end
    line = line:gsub("^%s*=", "return ", 1)
    self.buffer = line
  else
    self.buffer = self.buffer .. "\n" .. line
  end
  local f, err = compile(self.buffer, self.env)
  if not f and err == "more" then return "more" end
  local src = self.buffer
  self.buffer = nil
  if not f then self:error_line(err) return nil end
  local assign = assignment(src, self.env)
  self:run(assign or f, assign ~= nil)
  return nil
end

---------------------------------------------------------------------------- completion

local function starts(s, prefix)
  return s:sub(1, #prefix) == prefix
end

local function add_keys(t, prefix, out, seen)
  for k in pairs(t) do
    if type(k) == "string" and k:match("^[%a_][%w_]*$") and starts(k, prefix) and not seen[k] then
      seen[k] = true
      out[#out + 1] = k
    end
  end
end

-- The innermost open brace before the cursor, skipping strings and comments:
-- returns the text before that brace and the text after it, or nil.
local function open_brace(text)
  local stack = {}
  local i, n = 1, #text
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = text:sub(j, j)
        if d == "\\" then j = j + 1 elseif d == c then break end
        j = j + 1
      end
      i = j
    elseif text:sub(i, i + 1) == "--" then
      local nl = text:find("\n", i, true)
      i = nl or n
    elseif c == "{" then
      stack[#stack + 1] = i
    elseif c == "}" then
      stack[#stack] = nil
    end
    i = i + 1
  end
  local at = stack[#stack]
  if not at then return nil end
  return text:sub(1, at - 1), text:sub(at + 1), stack[#stack - 1] and text:sub(1, stack[#stack - 1] - 1)
end

function Session:client_of(name)
  local v = self.env[name]
  if is_client(v) then return v end
end

-- Parameter names for a key position inside `client:Action{ ... `, or nil.
function Session:param_candidates(before, prefix)
  local outer, inside = open_brace(before)
  if not outer then return nil end
  -- a key position: right after the brace, a comma or a semicolon
  if not (inside:match("^%s*$") or inside:match("[,;]%s*$")) then return nil end
  local function call_at(text)
    local obj, action = text:match("([%a_][%w_]*)%s*[:.]%s*([%a_][%w_]*)%s*%(?%s*$")
    local c = obj and self:client_of(obj)
    local entry = c and api.find(c.product, action)
    return entry
  end
  local entry = call_at(outer)
  local names = {}
  if entry then
    names = api.index(entry).names
  else
    -- a structure inside the call: Name = { ... } (its fields) or a list item of one
    local _, _, outer2 = open_brace(before)
    if not outer2 then return nil end
    local key = outer:match("([%a_][%w_]*)%s*=%s*$")
    local list_key
    if not key and outer:match("[{,;]%s*$") then
      -- an item of a list: Name = { { ... } }
      local o1 = outer:match("^(.*){[^{}]*$")
      list_key = o1 and o1:match("([%a_][%w_]*)%s*=%s*$")
      if list_key then
        local _, _, o3 = open_brace(o1 .. "{")
        entry = o3 and call_at(o3)
      end
    else
      entry = call_at(outer2)
    end
    key = key or list_key
    if not entry or not key then return nil end
    local idx = api.index(entry)
    local p = idx.by_name[key]
    if p and p.sub then
      for _, s in ipairs(p.sub) do names[#names + 1] = s.name end
    elseif idx.groups[key] then
      for field in pairs(idx.groups[key]) do names[#names + 1] = field end
    else
      return nil
    end
  end
  local out = {}
  for _, n in ipairs(names) do
    if starts(n, prefix) and n:match("^[%a_][%w_]*$") then out[#out + 1] = n .. " = " end
  end
  return out
end

function Session:candidates(before, word)
  -- commands and their arguments
  if before == "" and word:sub(1, 1) == ":" then
    local out = {}
    for _, c in ipairs(COMMANDS) do if starts(c, word) then out[#out + 1] = c .. " " end end
    return out
  end
  local cmd = before:match("^:(%a+)%s+$")
  if cmd == "profile" or cmd == "region" then
    local out = {}
    for _, n in ipairs(cmd == "profile" and profile_names() or region_names()) do
      if starts(n, word) then out[#out + 1] = n end
    end
    return out
  end
  local params = self:param_candidates(before, word)
  if params then return params end
  -- obj:Action / obj.field / a.b.c
  local path, sep, prefix = word:match("^([%a_][%w_.]*)([:.])([%w_]*)$")
  if path then
    local obj = self.env
    for part in path:gmatch("[^.]+") do
      if type(obj) ~= "table" then obj = nil break end
      local ok, v = pcall(function() return obj[part] end)
      obj = ok and v or nil
    end
    local out = {}
    if is_client(obj) then
      for _, a in ipairs(api.actions(obj.product)) do
        if starts(a, prefix) then out[#out + 1] = path .. sep .. a end
      end
      for _, m in ipairs(CLIENT_METHODS) do
        if starts(m, prefix) then out[#out + 1] = path .. sep .. m end
      end
    elseif type(obj) == "table" and sep == "." then
      local keys, seen = {}, {}
      add_keys(obj, prefix, keys, seen)
      local mt = getmetatable(obj)
      if type(mt) == "table" and type(mt.__index) == "table" then add_keys(mt.__index, prefix, keys, seen) end
      for _, k in ipairs(keys) do out[#out + 1] = path .. "." .. k end
    elseif type(obj) == "string" and sep == ":" then
      local keys = {}
      add_keys(string, prefix, keys, {})
      for _, k in ipairs(keys) do out[#out + 1] = path .. ":" .. k end
    end
    return out
  end
  if not word:match("^[%a_][%w_]*$") then return {} end
  local out, seen = {}, {}
  add_keys(self.env, word, out, seen)
  add_keys(_G, word, out, seen)
  for _, k in ipairs(KEYWORDS) do
    if starts(k, word) and not seen[k] then out[#out + 1] = k end
  end
  return out
end

-- readline's completion entry: the candidates for line:sub(from, to), whole words.
function Session:complete(line, from, to)
  local word = line:sub(from, to)
  local before = line:sub(1, from - 1)
  if self.buffer == nil and (before:match("^:%a+%s+$") or (before == "" and word:sub(1, 1) == ":")) then
    local ok, out = pcall(self.candidates, self, before, word)
    if not ok then return {} end
    table.sort(out)
    return out
  end
  -- readline does not break words at commas and some punctuation; keep those as a lead
  local lead, tail = word:match("^(.-)([%w_.:]*)$")
  before = before .. lead
  local text_before = (self.buffer and (self.buffer .. "\n") or "") .. before
  local ok, out = pcall(self.candidates, self, text_before, tail)
  if not ok or type(out) ~= "table" then return {} end
  table.sort(out)
  for i, c in ipairs(out) do out[i] = lead .. c end
  return out
end

---------------------------------------------------------------------------- main

-- Why a profile cannot be used, or nil: it is missing, or its region_id is not a region.
function repl.check_profile(name)
  local ok, prof = pcall(require, "aliyun.credentials.profile")
  if not ok then return nil end
  local p, why = prof.load { profile = name }
  if not p then return why end
  local r = type(p.region_id) == "string" and p.region_id ~= "" and p.region_id or nil
  if r then
    local known, rwhy = endpoints.check_region(r)
    if not known then return "profile '" .. name .. "' has region_id " .. r .. ": " .. rwhy .. " (fix the file, or :region NAME)" end
  end
  return nil
end

local function parse_args(argv)
  local s = {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-p" then a = "--profile" end
    local name, inline = a:match("^%-%-(%a+)=(.*)$")
    name = name or a:match("^%-%-(%a+)$")
    if name == "emulator" or name == "debug" then
      s[name] = true
      i = i + 1
    elseif name == "profile" or name == "region" or name == "endpoint" then
      local v = inline
      if v == nil then
        v = argv[i + 1]
        i = i + 1
      end
      if v == nil then return nil, "--" .. name .. " needs a value" end
      s[name] = v
      i = i + 1
    else
      return nil, "unknown option " .. a .. " (aliyun-lua --help)"
    end
  end
  -- the checks the one-shot command makes, in its terms
  if s.emulator and s.endpoint then
    return nil, "--emulator runs one in this process and --endpoint sends elsewhere: give one"
  end
  if s.profile then
    local why = repl.check_profile(s.profile)
    if why then return nil, why end
  end
  if s.region then
    local ok, why = endpoints.check_region(s.region)
    if not ok then return nil, "--region: " .. why end
  end
  if s.endpoint then
    local url, why = cli.endpoint_url(s.endpoint, nil, "--endpoint")
    if not url then return nil, why end
    s.endpoint = url
  end
  return s
end

function repl.history_path(getenv)
  getenv = getenv or os.getenv
  local p = getenv("ALIYUN_LUA_HISTORY")
  if p then return p end
  local home = getenv("HOME")
  if home and home ~= "" then return home .. "/.aliyun_lua_history" end
  return ""
end

-- Keeps the last n lines of the history file.
function repl.trim_history(path, n)
  local f = io.open(path, "r")
  if not f then return end
  local lines = {}
  for l in f:lines() do lines[#lines + 1] = l end
  f:close()
  if #lines <= n then return end
  f = io.open(path, "w")
  if not f then return end
  for i = #lines - n + 1, #lines do f:write(lines[i], "\n") end
  f:close()
end

-- Reading lines with readline's callback interface: the wait for input is core.wait_input,
-- which a Ctrl-C interrupts at once (readline's own read would go on waiting), and each line
-- is handed back before it runs, so that what it runs is never inside readline. main reads
-- with core.interrupts_raise(false): a Ctrl-C only sets the flag, looked at here between
-- readline's steps, and no error ever jumps out through readline's C code.
-- Returns read(prompt) -> line | nil at the end of input (raises "interrupted!" on Ctrl-C),
-- and reset(), which throws away the half-typed line after a Ctrl-C.
--
-- The handler is removed only from on_line, once readline has handed the line over and
-- put the terminal back: lua-readline's handler_remove closes the terminal stream it
-- opened and then lets readline write to it, which with a line still being read (after a
-- Ctrl-C at the prompt) is a write to a freed FILE (the REPL crashed now and then). There
-- the handler stays, and the next read installs it again, which starts a new, empty line;
-- the stream that install opened stays open (one per Ctrl-C at the prompt).
local function readline_reader(RL)
  local got, done = nil, false
  local function on_line(line)
    got, done = line, true
    RL.handler_remove()
  end
  local function read(prompt)
    got, done = nil, false
    RL.handler_install(prompt, on_line)
    while not done do
      if core.wait_input(0) == nil then error("interrupted!", 0) end
      RL.read_char()
      if core.interrupted() then error("interrupted!", 0) end
    end
    return got
  end
  local function reset()
    if RL.sigcleanup then RL.sigcleanup() end
  end
  return read, reset
end

function repl.main(argv)
  local settings, why = parse_args(argv or {})
  if not settings then
    io.stderr:write("aliyun-lua: ", one_line(why), "\n")
    return 2
  end
  local interactive = core.isatty(0)
  local color = core.isatty(1) and os.getenv("NO_COLOR") == nil and os.getenv("TERM") ~= "dumb"
  local session = repl.new(settings, { color = color, tty = interactive })

  local read, reset, remember
  local ok, RL = false, nil
  if interactive then ok, RL = pcall(require, "readline") end
  if ok and type(RL) == "table" and RL.handler_install then
    local path = repl.history_path()
    if path ~= "" then repl.trim_history(path, HISTORY_LINES) end
    -- readline reads the file; each line is appended as it is entered (not at exit), so
    -- that a killed session keeps its history
    RL.set_options { histfile = path, keeplines = HISTORY_LINES, completion = true, minlength = 1,
      ignoredups = true }
    if RL.set_readline_name then RL.set_readline_name("aliyun-lua") end
    local no_space = RL.set_completion_append_character
    RL.set_complete_function(function(line, from, to)
      -- readline puts the space back before each completion: candidates say what follows
      if no_space then no_space("") end
      return session:complete(line, from, to)
    end)
    read, reset = readline_reader(RL)
    local previous
    remember = function(line)
      if line:match("^%s*$") or line == previous then return end
      previous = line
      RL.add_history(line)
      if path == "" then return end
      local f = io.open(path, "a")
      if f then
        f:write(line, "\n")
        f:close()
      end
    end
  else
    read = function(prompt)
      if interactive then
        io.stdout:write(prompt)
        io.stdout:flush()
      end
      if core.wait_input(0) == nil then error("interrupted!", 0) end
      local line = io.read("l")
      if core.interrupted() then error("interrupted!", 0) end
      return line
    end
    reset = function() end
    remember = function() end
  end

  if interactive then
    session:say(string.format("lua-aliyun %s (%s): ecs, ens and aliyun are ready; help() for help, :quit to leave",
      aliyun.VERSION, _VERSION))
    session:status()
  end
  local state, reading
  -- one line read and run; returns "quit" to leave
  local function step()
    reading = true
    core.interrupts_raise(false)
    local line = read(session:prompt(state == "more"))
    core.interrupts_raise(true)
    -- a Ctrl-C between the line's end and the line above only set the flag
    if core.interrupted() then error("interrupted!", 0) end
    reading = false
    if line == nil then
      if interactive then session:say("") end
      return "quit"
    end
    remember(line)
    state = session:feed(line)
    io.stdout:flush()
    return state
  end
  while true do
    local stepped, r = pcall(step)
    if stepped and r == "quit" then break end
    if not stepped then
      if not core.interrupted(true) then error(r, 0) end
      -- Ctrl-C at the prompt drops the line (and a chunk being continued); elsewhere
      -- (printing a result) it stops that
      core.interrupts_raise(true)
      reset()
      session.buffer, state = nil, nil
      io.stdout:write(reading and "^C\n" or "interrupted\n")
      io.stdout:flush()
    end
  end
  return 0
end

return repl
