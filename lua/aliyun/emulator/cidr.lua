-- IPv4 addresses and CIDR blocks as numbers, for the network rules of VPCs, vSwitches,
-- instances and network interfaces. Pure arithmetic on doubles (exact below 2^53), the same
-- under Lua 5.4 and LuaJIT.
local cidr = {}

local floor = math.floor

function cidr.ip(s)
  local a, b, c, d = tostring(s or ""):match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then return nil end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

function cidr.text(n)
  local d = n % 256
  n = floor(n / 256)
  local c = n % 256
  n = floor(n / 256)
  local b = n % 256
  local a = floor(n / 256)
  return string.format("%d.%d.%d.%d", a, b, c, d)
end

-- "10.0.0.0/16" -> first address (as a number), prefix length; nil when malformed.
function cidr.parse(block)
  local ip, len = tostring(block or ""):match("^([%d.]+)/(%d+)$")
  local n = cidr.ip(ip)
  len = tonumber(len)
  if not n or not len or len > 32 then return nil end
  local size = 2 ^ (32 - len)
  return n - n % size, len, size
end

function cidr.size(block)
  local _, _, size = cidr.parse(block)
  return size or 0
end

-- Whether block `inner` lies within block `outer`.
function cidr.contains(outer, inner)
  local o, _, osize = cidr.parse(outer)
  local i, _, isize = cidr.parse(inner)
  if not o or not i then return false end
  return i >= o and i + isize <= o + osize
end

function cidr.overlaps(x, y)
  local a, _, asize = cidr.parse(x)
  local b, _, bsize = cidr.parse(y)
  if not a or not b then return false end
  return a < b + bsize and b < a + asize
end

-- Whether an address lies in a block.
function cidr.has(block, ip)
  local base, _, size = cidr.parse(block)
  local n = cidr.ip(ip)
  return base ~= nil and n ~= nil and n >= base and n < base + size
end

-- A VPC's block: inside one of the private ranges, prefix 8 to 28.
function cidr.private(block)
  local _, len = cidr.parse(block)
  if not len or len < 8 or len > 28 then return false end
  return cidr.contains("10.0.0.0/8", block) or cidr.contains("172.16.0.0/12", block)
    or cidr.contains("192.168.0.0/16", block)
end

-- The first free address of a block, skipping the network's first three and its last
-- (the service reserves them) and those `used` (a set of address texts).
function cidr.next_free(block, used)
  local base, _, size = cidr.parse(block)
  if not base then return nil end
  for n = base + 3, base + size - 2 do
    local t = cidr.text(n)
    if not used[t] then return t end
  end
  return nil
end

return cidr
