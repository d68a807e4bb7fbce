-- Every list and object parameter of every ECS and ENS action, sent through the real client,
-- and its wire form checked against the style ../shared/api-meta gives it (the form the
-- official SDKs send):
--   flat    Name.1, Name.2; Name.1.Field; Name.Field; an empty list sends nothing
--   json    one JSON string that reads back as the value given
--   simple  the items joined with commas
-- What each parameter should look like on the wire is worked out here from the metadata
-- files themselves, not from the generated tables, so a style lost on the way is caught too.
local cjson = require "cjson"
local api = require "aliyun.api"
local wire = require "support.wire"

local META = "../shared/api-meta"

local function read_meta(product, action)
  local f = assert(io.open(META .. "/" .. product .. "/" .. action .. ".json", "rb"))
  local text = f:read("a")
  f:close()
  return cjson.decode(text)
end

local COMPOSITE = { RepeatList = true, Struct = true, Json = true, Array = true }

-- A scalar of each type, and its text on the wire.
local SCALAR = {
  String = { "a b/c", "a b/c" }, Integer = { 7, "7" }, Long = { 9007199254740993, "9007199254740993" },
  Boolean = { true, "true" }, Float = { 1.5, "1.5" }, Double = { 0.25, "0.25" },
}

local function subs_of(p)
  local s = p.sub_parameters
  if type(s) == "table" and #s > 0 then return s end
  return nil
end

local sample -- (p, style) -> the values to try; expect(out, name, value, p, style) fills the wire pairs

-- The wire pairs a flat value gives under name: what the style says, worked out by hand.
local function expect_flat(out, name, value, p)
  local subs = subs_of(p)
  if type(value) ~= "table" then
    out[name] = SCALAR[p.type] and SCALAR[p.type][2] or value
  elseif subs then
    local by = {}
    for _, s in ipairs(subs) do by[s.name] = s end
    if p.type == "Struct" then
      for k, v in pairs(value) do
        local s = by[k]
        if COMPOSITE[s.type] then
          expect_flat(out, name .. "." .. k, v, s)
        else
          out[name .. "." .. k] = SCALAR[s.type][2]
        end
      end
    else
      for i, item in ipairs(value) do
        for k, v in pairs(item) do
          local s = by[k]
          if COMPOSITE[s.type] then
            for j, x in ipairs(v) do out[name .. "." .. i .. "." .. k .. "." .. j] = x end
          else
            out[name .. "." .. i .. "." .. k] = SCALAR[s.type][2]
          end
        end
      end
    end
  else
    -- no fields in the metadata: whatever was given, flattened (lists by index, tables by key)
    local function flatten(prefix, v)
      if type(v) == "table" then
        for k, x in pairs(v) do flatten(prefix .. "." .. tostring(k), x) end
      else
        out[prefix] = v
      end
    end
    flatten(name, value)
  end
end

-- A value for a list or object parameter in its style (the cases: one value each).
function sample(p, style)
  local subs = subs_of(p)
  if style == "simple" then return { { "i-1", "i-2" } } end
  if style == "json" then
    if p.type == "Struct" or p.type == "Json" or p.type == "String" then
      return { { Key = "k", List = { 1, 2 }, Nested = { On = true } }, { { Key = "k" }, { Key = "l" } } }
    end
    return { { { Key = "k", Size = 2 } } }
  end
  -- flat
  if subs then
    local item = {}
    for _, s in ipairs(subs) do
      if COMPOSITE[s.type] then
        item[s.name] = { "x-1", "x-2" }
      else
        item[s.name] = SCALAR[s.type][1]
      end
    end
    if p.type == "Struct" then return { item } end
    local second = {}
    for k, v in pairs(item) do second[k] = v end
    return { { item, second } }
  end
  if p.type == "Struct" then return { { Alpha = "a", Beta = { Gamma = "g" } } } end
  if p.type == "Array" then
    -- the metadata does not say what an Array holds: scalars (EnsRegionIds) and objects
    -- (Permissions) alike go flat
    return { { "r-1", "r-2" }, { { IpProtocol = "tcp", PortRange = "22/22" }, { IpProtocol = "icmp" } } }
  end
  return { { "x-1", "x-2" } }
end

local function expect(out, name, value, p, style)
  if style == "flat" then
    expect_flat(out, name, value, p)
  elseif style == "simple" then
    out[name] = table.concat(value, ",")
  elseif style == "json" then
    out[name] = { json = value } -- compared by reading the text back
  else
    out[name] = SCALAR[p.type][2]
  end
end

-- Deep equality of a decoded JSON value and the Lua value given.
local function same_json(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not same_json(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function check(product, action, values, want, what)
  local c, last = wire.client(product)
  local res, err = c:call(action, values)
  assert(res, what .. ": " .. tostring(err))
  local sent = wire.split(last())
  local got = sent.params
  if values.ClientToken == nil then got.ClientToken = nil end -- filled in by the client
  for name, w in pairs(want) do
    if type(w) == "table" then
      local decoded = got[name] and cjson.decode(got[name])
      assert(decoded ~= nil and same_json(decoded, w.json), what .. ": " .. name .. " = " .. tostring(got[name]))
      got[name] = nil
      want[name] = nil
    end
  end
  assert.are.same(want, got, what)
end

describe("every list and object parameter of both products", function()
  for _, product in ipairs { "ecs", "ens" } do
    it("travels in its metadata style: " .. product, function()
      local counts = { flat = 0, json = 0, simple = 0, empty = 0 }
      for _, action in ipairs(api.actions(product)) do
        local meta = read_meta(product, action)
        local params = meta.parameters or {}
        -- the required parameters, each with a value in its own form
        local function base(except)
          local values, want = {}, {}
          for _, p in ipairs(params) do
            if p.required and p ~= except then
              local v = COMPOSITE[p.type] and sample(p, p.style)[1] or SCALAR[p.type][1]
              values[p.name] = v
              expect(want, p.name, v, p, COMPOSITE[p.type] and p.style or (type(v) == "table" and "json") or nil)
            end
          end
          return values, want
        end
        for _, p in ipairs(params) do
          local style = p.style
          if COMPOSITE[p.type] or style then
            assert(style == "flat" or style == "json" or style == "simple",
              product .. " " .. action .. " " .. p.name .. ": style " .. tostring(style))
            for i, v in ipairs(sample(p, style)) do
              local values, want = base(p)
              values[p.name] = v
              expect(want, p.name, v, p, style)
              check(product, action, values, want, product .. " " .. action .. " " .. p.name .. " (" .. style .. ", case " .. i .. ")")
              counts[style] = counts[style] + 1
            end
            if not p.required and style ~= "json" and p.type ~= "Struct" then
              local values, want = base(p)
              values[p.name] = {}
              check(product, action, values, want, product .. " " .. action .. " " .. p.name .. " (empty)")
              counts.empty = counts.empty + 1
            end
          end
        end
      end
      -- the metadata as it stands: every kind is exercised
      if product == "ecs" then
        assert.is_true(counts.flat > 250 and counts.json > 25 and counts.empty > 200, cjson.encode(counts))
      else
        assert.is_true(counts.flat > 40 and counts.json > 100 and counts.simple == 4 and counts.empty > 25,
          cjson.encode(counts))
      end
    end)
  end

  it("as the official SDKs send the cases the issue names", function()
    local c, last = wire.client("ecs")
    assert(c:AuthorizeSecurityGroup { RegionId = "cn-hangzhou", SecurityGroupId = "sg-1",
      Permissions = { { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0" } } })
    local p = wire.split(last()).params
    assert.are.equal("tcp", p["Permissions.1.IpProtocol"])
    assert.are.equal("22/22", p["Permissions.1.PortRange"])
    assert.is_nil(p.Permissions)
    local e, elast = wire.client("ens")
    assert(e:DescribeHistoryEvents { EventTypes = { "a", "b" }, ResourceIds = { "i-1" } })
    p = wire.split(elast()).params
    assert.are.equal("a,b", p.EventTypes)
    assert.are.equal("i-1", p.ResourceIds)
    assert.is_nil(p["EventTypes.1"])
    assert(e:DescribeVSwitches { EnsRegionIds = { "cn-a", "cn-b" } })
    p = wire.split(elast()).params
    assert.are.same({ ["EnsRegionIds.1"] = "cn-a", ["EnsRegionIds.2"] = "cn-b" }, p)
    -- a String that carries JSON keeps taking a table as its JSON text
    assert(c:DescribeDisks { RegionId = "cn-hangzhou", DiskIds = { "d-1", "d-2" } })
    assert.are.equal('["d-1","d-2"]', wire.split(last()).params.DiskIds)
  end)
end)
