-- Every emulated action's answers against the response models of the official SDKs, read
-- here straight from ../shared/api-meta/responses (not from the emulator's generated
-- shapes): every case of spec/emulator/cases runs in process, every success body is kept,
-- then each is checked field by field and type by type, and every emulated action must have
-- answered at least once.
local cjson = require "cjson"
local emulator = require "aliyun.emulator"
local json = require "aliyun.json"
local support = require "support.emulator"

local MODELS = "../shared/api-meta/responses"

local function read_model(product, action)
  local f = io.open(MODELS .. "/" .. product .. "/" .. action .. ".json", "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return cjson.decode(text)
end

local ARRAY = getmetatable(json.array {})

-- Problems of a value against a model, independent of the emulator's shape.lua.
local function check(model, v, path, out)
  local t = model.type
  if v == json.null or t == "any" then return end
  local tv = type(v)
  if t == "object" then
    if tv ~= "table" or (getmetatable(v) == ARRAY and next(v) ~= nil) then
      out[#out + 1] = path .. ": expected an object"
      return
    end
    for k, x in pairs(v) do
      local f = model.fields and model.fields[k]
      if not f then
        out[#out + 1] = path .. "." .. tostring(k) .. ": not in the model"
      else
        check(f, x, path .. "." .. k, out)
      end
    end
  elseif t == "map" then
    if tv ~= "table" then out[#out + 1] = path .. ": expected an object" end
  elseif t == "array" then
    local n = 0
    if tv == "table" then for _ in pairs(v) do n = n + 1 end end
    if tv ~= "table" or n ~= #v then
      out[#out + 1] = path .. ": expected a list"
      return
    end
    for i = 1, #v do check(model.items, v[i], path .. "[" .. i .. "]", out) end
  elseif t == "string" then
    if tv ~= "string" then out[#out + 1] = path .. ": expected a string, got " .. tostring(v) end
  elseif t == "integer" then
    if tv ~= "number" or math.type(v) ~= "integer" then out[#out + 1] = path .. ": expected an integer, got " .. tostring(v) end
  elseif t == "number" then
    if tv ~= "number" then out[#out + 1] = path .. ": expected a number, got " .. tostring(v) end
  elseif t == "boolean" then
    if tv ~= "boolean" then out[#out + 1] = path .. ": expected a boolean, got " .. tostring(v) end
  end
end

local seen = {}
local function observe(product, action, body)
  local key = product .. "/" .. action
  -- the rendered body goes out as JSON: check what a client decodes
  local list = seen[key] or {}
  if #list < 20 then list[#list + 1] = json.decode(assert(json.encode(body))) end
  seen[key] = list
end

local opts = {}
for k, v in pairs(support.OPTIONS) do opts[k] = v end
opts.observe = observe
local world = support.inprocess(opts)
for _, name in ipairs(support.CASES) do support.run(name, world, _ENV) end

describe("emulated answers", function()
  local have_models = io.open(MODELS .. "/ecs/DescribeRegions.json", "rb")
  if have_models then have_models:close() end

  it("fit the official response models, field by field", function()
    if not have_models then pending("../shared/api-meta/responses is not beside this checkout") return end
    local problems = {}
    for key, bodies in pairs(seen) do
      local product, action = key:match("^(%a+)/(.+)$")
      local model = read_model(product, action)
      if not model then
        problems[#problems + 1] = key .. ": no response model"
      else
        for i, b in ipairs(bodies) do
          local out = {}
          check(model, b, key .. "#" .. i, out)
          for _, p in ipairs(out) do problems[#problems + 1] = p end
        end
      end
    end
    table.sort(problems)
    assert.are.same({}, problems)
  end)

  it("were given by every emulated action at least once", function()
    local emu = emulator.new()
    local missing = {}
    for _, product in ipairs { "ecs", "ens" } do
      for _, action in ipairs(emu:actions(product)) do
        if not seen[product .. "/" .. action] then missing[#missing + 1] = product .. "/" .. action end
      end
    end
    assert.are.same({}, missing)
  end)
end)
