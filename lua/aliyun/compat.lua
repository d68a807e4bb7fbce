-- The one place where Lua 5.4 and LuaJIT (5.1) differ for the Lua layer.
local compat = {}

if math.tointeger then
  -- 5.4: an integer, or a float with an exact int64 value (3.0 counts, 3.5 and 1e300 do not)
  compat.is_integer = function(v)
    return type(v) == "number" and math.tointeger(v) ~= nil
  end
  compat.format_integer = function(v)
    return string.format("%d", math.tointeger(v))
  end
else
  -- 5.1/LuaJIT: numbers are doubles; integral values up to 2^53 are exact
  compat.is_integer = function(v)
    return type(v) == "number" and v == math.floor(v) and v >= -2 ^ 53 and v <= 2 ^ 53
  end
  compat.format_integer = function(v) return string.format("%.0f", v) end
end

compat.unpack = table.unpack or unpack -- luacheck: ignore 113

-- new_table(narr, nrec): a table with room made at once for that many array items and other
-- keys (LuaJIT's table.new); under 5.4 an empty table that grows as it is filled.
local ok, new = pcall(require, "table.new")
compat.new_table = ok and new or function() return {} end

return compat
