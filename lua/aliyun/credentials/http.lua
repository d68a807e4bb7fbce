-- What the credential providers share: sending a request through a transport (the one given
-- in the options, or a libcurl session made on first use), reading files, the home
-- directory, and keeping secrets out of messages.
local http = {}

local USER_AGENT = "lua-aliyun-credentials"

-- A send(request) function from opts.transport (a function or a table with send), or one
-- made on first use with the given timeouts: cosockets inside nginx, libcurl elsewhere.
function http.sender(opts, connect_timeout, timeout)
  local given = opts and opts.transport
  if type(given) == "function" then return given end
  if type(given) == "table" and type(given.send) == "function" then
    return function(request) return given.send(request) end
  end
  if given ~= nil then error("aliyun.credentials: transport must be a function or a table with send", 3) end
  local t
  return function(request)
    if not t and require("aliyun.transport.ngx").inside_nginx() then
      -- inside nginx: cosockets, never a blocking libcurl call in a worker
      t = require("aliyun.transport.ngx").new {
        connect_timeout = connect_timeout, timeout = timeout, verify_tls = opts and opts.verify_tls,
      }
    elseif not t then
      t = require("aliyun.transport.curl").new {
        connect_timeout = connect_timeout, timeout = timeout, user_agent = USER_AGENT,
        verify_tls = opts and opts.verify_tls, ca_file = opts and opts.ca_file,
        proxy = opts and opts.proxy, no_proxy = opts and opts.no_proxy,
      }
    end
    return t.send(request)
  end
end

-- A URL as it may appear in a message: scheme, host and path, never the query (which may
-- carry a token) nor user information.
function http.show_url(url)
  url = tostring(url)
  local scheme, rest = url:match("^(%a[%w+.-]*://)(.*)$")
  if not scheme then scheme, rest = "", url end
  rest = rest:gsub("^[^/@]*@", "")
  return scheme .. (rest:match("^[^?#]*") or "")
end

-- Sends; returns response | nil, message (a string without secrets).
function http.send(send, request)
  local ok, response, err = pcall(send, request)
  if not ok then return nil, "request to " .. http.show_url(request.url) .. " failed: " .. tostring(response) end
  if not response then
    local msg = type(err) == "table" and err.message or tostring(err or "no response")
    return nil, "request to " .. http.show_url(request.url) .. " failed: " .. tostring(msg)
  end
  return response
end

-- The invalidate of a provider that wraps another (inner_of() -> that one, or nil while it
-- is not made): forwards to it; false when it has nothing to fetch anew.
function http.invalidator(inner_of)
  return function()
    local p = inner_of()
    if type(p) == "table" and type(p.invalidate) == "function" then return p.invalidate() ~= false end
    return false
  end
end

-- Replaces every occurrence of each secret in s by ****.
function http.scrub(s, ...)
  s = tostring(s)
  for i = 1, select("#", ...) do
    local secret = select(i, ...)
    if type(secret) == "string" and #secret >= 4 then
      local from = 1
      while true do
        local a, b = s:find(secret, from, true)
        if not a then break end
        s = s:sub(1, a - 1) .. "****" .. s:sub(b + 1)
        from = a + 4
      end
    end
  end
  return s
end

-- The whole file, or nil and a message that names it.
function http.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then
    local missing = tostring(err):find("No such file", 1, true)
    return nil, missing and ("no file " .. path) or ("cannot read " .. tostring(err)), missing
  end
  local s = f:read("*a")
  f:close()
  if not s then return nil, "cannot read " .. path end
  return s
end

-- A file that holds keys should be its owner's alone (ssh insists on it for private keys):
-- one warning per file (opts.warn, else stderr) when its group or others may read or write it.
local function bit(mode, value) return math.floor(mode / value) % 2 == 1 end

function http.check_private(path, opts)
  local mode = require("aliyun.core").file_mode(path)
  if not mode then return end
  local who, how = {}, {}
  if bit(mode, 32) or bit(mode, 16) then who[#who + 1] = "its group" end
  if bit(mode, 4) or bit(mode, 2) then who[#who + 1] = "other users" end
  if #who == 0 then return end
  if bit(mode, 32) or bit(mode, 4) then how[#how + 1] = "readable" end
  if bit(mode, 16) or bit(mode, 2) then how[#how + 1] = "writable" end
  require("aliyun.warn").once("mode " .. path, string.format("%s holds credentials and is %s by %s (mode %04o): "
    .. "chmod 600 %s", path, table.concat(how, " and "), table.concat(who, " and "), mode % 512, path), opts and opts.warn)
end

-- A settings file's path: the option when given, else the environment variable, else
-- relative under the home directory; or nil and why.
function http.settings_path(opts, given, env_name, relative)
  local p = given or http.env(http.getenv(opts), env_name)
  if p then return p end
  local home = http.home(opts)
  if not home then return nil, "no home directory (HOME unset) and " .. env_name .. " not set" end
  return home .. "/" .. relative
end

function http.getenv(opts)
  return (opts and opts.getenv) or require("aliyun.credentials.environ").getenv
end

-- A non-empty environment value, or nil.
function http.env(getenv, name)
  local v = getenv(name)
  if v == nil or v == "" then return nil end
  return v
end

-- The home directory: opts.home, else HOME (or USERPROFILE) from the environment.
function http.home(opts)
  if opts and opts.home then return opts.home end
  local getenv = http.getenv(opts)
  return http.env(getenv, "HOME") or http.env(getenv, "USERPROFILE")
end

-- "true", "1", "yes" (any case) -> true
function http.truthy(v)
  if v == true then return true end
  if type(v) ~= "string" then return false end
  v = v:lower()
  return v == "true" or v == "1" or v == "yes" or v == "on"
end

return http
