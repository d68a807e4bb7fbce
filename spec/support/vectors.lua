-- Loads ../shared/vectors/signatures.json (the signature test vectors) for the specs.
local cjson = require "cjson"

local function here()
  local src = debug.getinfo(1, "S").source:sub(2)
  return (src:match("^(.*)/spec/support/") or ".")
end

local path = os.getenv("ALIYUN_VECTORS") or (here() .. "/../shared/vectors/signatures.json")
local f = assert(io.open(path, "rb"), "signature vectors not found at " .. path)
local text = f:read("a")
f:close()
return cjson.decode(text)
