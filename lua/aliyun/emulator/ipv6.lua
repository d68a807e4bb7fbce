-- IPv6 addresses as eight 16-bit groups, for the IPv6 addresses of network interfaces and the
-- IPv6 entries of prefix lists: parsing, the service's text form (lower case, the longest run
-- of zero groups compressed), prefixes. Pure Lua, the same under Lua 5.4 and LuaJIT.
local ipv6 = {}

local floor = math.floor

-- "a:b::c" (one part of it) -> appends the groups to out; false when malformed.
local function groups_of(part, out)
  if part == "" then return true end
  for g in (part .. ":"):gmatch("([^:]*):") do
    if g == "" or #g > 4 then return false end
    out[#out + 1] = tonumber(g, 16)
  end
  return true
end

-- "2408:4005::1" -> {0x2408, 0x4005, 0, 0, 0, 0, 0, 1}, or nil when it is not an IPv6 address.
function ipv6.parse(text)
  if type(text) ~= "string" or not text:find(":", 1, true) or text:find("[^%x:]") then return nil end
  local head, tail = text:match("^(.-)::(.*)$")
  local out = {}
  if head then
    if tail:find("::", 1, true) then return nil end
    local h, t = {}, {}
    if not groups_of(head, h) or not groups_of(tail, t) or #h + #t > 7 then return nil end
    for _, v in ipairs(h) do out[#out + 1] = v end
    for _ = 1, 8 - #h - #t do out[#out + 1] = 0 end
    for _, v in ipairs(t) do out[#out + 1] = v end
  elseif not groups_of(text, out) or #out ~= 8 then
    return nil
  end
  return out
end

-- The groups as the service writes them: 2408:4005:0:0:0:0:0:1 -> 2408:4005::1.
function ipv6.text(g)
  local best, best_len, i = nil, 1, 1
  while i <= 8 do
    if g[i] == 0 then
      local j = i
      while j < 8 and g[j + 1] == 0 do j = j + 1 end
      if j - i + 1 > best_len then best, best_len = i, j - i + 1 end
      i = j + 1
    else
      i = i + 1
    end
  end
  local parts = {}
  for k = 1, 8 do parts[k] = string.format("%x", g[k]) end
  if not best then return table.concat(parts, ":") end
  return table.concat(parts, ":", 1, best - 1) .. "::" .. table.concat(parts, ":", best + best_len, 8)
end

-- The address in the service's form, or nil when it is not one.
function ipv6.normalise(text)
  local g = ipv6.parse(text)
  return g and ipv6.text(g) or nil
end

-- Whether the groups have no bit set past the first `len` (a well-formed prefix).
function ipv6.is_prefix(g, len)
  for k = 1, 8 do
    local keep = len - (k - 1) * 16
    if keep <= 0 then
      if g[k] ~= 0 then return false end
    elseif keep < 16 then
      if g[k] % 2 ^ (16 - keep) ~= 0 then return false end
    end
  end
  return true
end

-- Whether the address (groups) lies in the /64 whose first four groups are `prefix`.
function ipv6.in64(prefix, g)
  for k = 1, 4 do
    if prefix[k] ~= g[k] then return false end
  end
  return true
end

-- The n-th address (from 1) of the /64 `prefix`, as groups.
function ipv6.nth(prefix, n)
  return { prefix[1], prefix[2], prefix[3], prefix[4], 0, 0, floor(n / 65536) % 65536, n % 65536 }
end

return ipv6
