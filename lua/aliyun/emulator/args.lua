-- Reading an action's wire parameters the way the service does: strings in, typed values
-- out, and the documented error for a missing or malformed value. Handlers never touch the
-- raw parameter table.
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local args = {}

local Args = {}
Args.__index = Args

-- params: the wire parameters; read: a table that collects the (index-free) names of the
-- parameters a handler looked at, when the emulator checks that nothing is ignored.
function args.new(params, read)
  return setmetatable({ p = params, read = read }, Args)
end

-- "DataDisk.2.Size" -> "DataDisk.Size": the name of a wire parameter without its indexes.
function args.base_name(name)
  return (name:gsub("%.%d+", ""))
end

-- The value, with "" counted as absent (the service ignores empty parameters).
function Args:str(name)
  local read = self.read
  if read then read[args.base_name(name)] = true end
  local v = self.p[name]
  if v == nil or v == "" then return nil end
  return v
end

function Args:has(name)
  return self:str(name) ~= nil
end

function Args:need(name, code)
  local v = self:str(name)
  if v == nil then errors.missing(name, code) end
  return v
end

function Args:int(name, default, lo, hi, code, status)
  local v = self:str(name)
  if v == nil then return default end
  if not v:match("^%-?%d+$") then errors.invalid(name, code, status) end
  local n = tonumber(v)
  if (lo and n < lo) or (hi and n > hi) then errors.invalid(name, code, status) end
  return n
end

function Args:number(name, default, code, status)
  local v = self:str(name)
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n ~= n or n == math.huge or n == -math.huge or v:find("^%s*0[xX]") then
    errors.invalid(name, code, status, "It must be a number.")
  end
  return n
end

function Args:bool(name, default)
  local v = self:str(name)
  if v == nil then return default end
  local l = v:lower()
  if l == "true" then return true end
  if l == "false" then return false end
  errors.invalid(name)
end

-- One of the allowed values (exact spelling), or the action's documented error.
function Args:enum(name, allowed, default, code, status)
  local v = self:str(name)
  if v == nil then return default end
  for _, a in ipairs(allowed) do
    if a == v then return v end
  end
  errors.invalid(name, code, status, "Valid values: " .. table.concat(allowed, ", ") .. ".")
end

-- A RepeatList of scalars: Name.1, Name.2, ... (stops at the first gap, as the service does).
function Args:list(name)
  local out = {}
  if self.read then self.read[name] = true end
  for i = 1, 1000 do
    local v = self:str(name .. "." .. i)
    if v == nil then break end
    out[i] = v
  end
  return out
end

-- Whether a list parameter is present in any of its forms (Name.1 or Name itself).
function Args:has_list(name)
  return self:has(name) or self:has(name .. ".1")
end

-- A list of strings in whatever form the action takes it: flat (Name.1, Name.2), a JSON
-- array (["a","b"]) or comma-separated (a,b). Empty when absent.
function Args:strings(name, code, status)
  if self:has(name .. ".1") then return self:list(name) end
  local v = self:str(name)
  if v == nil then return {} end
  if v:match("^%s*%[") then return self:json_strings(name, code, status) end
  local out = {}
  for item in v:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

-- A RepeatList of objects: Name.1.Field ... -> {{Field = ...}, ...}.
function Args:objects(name, fields)
  local out = {}
  for i = 1, 1000 do
    local item, any = {}, false
    for _, f in ipairs(fields) do
      local v = self:str(name .. "." .. i .. "." .. f)
      if v ~= nil then item[f] = v; any = true end
    end
    if not any then break end
    out[i] = item
  end
  return out
end

-- A parameter carrying JSON text; malformed JSON is an InvalidParameter error.
function Args:json(name, code, status)
  local v = self:str(name)
  if v == nil then return nil end
  local ok, value = pcall(json.decode, v)
  if not ok or value == nil then errors.invalid(name, code, status, "It must be JSON text.") end
  return value
end

-- A JSON array of strings, e.g. DiskIds=["d-1","d-2"].
function Args:json_strings(name, code, status)
  local v = self:json(name, code, status)
  if v == nil then return nil end
  if type(v) ~= "table" then errors.invalid(name, code, status, "It must be a JSON array.") end
  local out = {}
  for i, s in ipairs(v) do
    if type(s) ~= "string" then errors.invalid(name, code, status, "It must be a JSON array of strings.") end
    out[i] = s
  end
  return out
end

return args
