-- The emulator's response shapes: what tools/gen-shapes.lua makes from ../shared/api-meta,
-- and the reader and renderer over them.
local json = require "aliyun.json"
local shape = require "aliyun.emulator.shape"
local shell = require "support.shell"

local META = "../shared/api-meta"

describe("emulator shapes", function()
  it("are what tools/gen-shapes.lua generates from the response models", function()
    local f = io.open(META .. "/responses/ecs/DescribeRegions.json", "rb")
    if not f then pending(META .. " is not beside this checkout") return end
    f:close()
    local dir = shell.run("mktemp -d"):gsub("%s+$", "")
    assert(shell.sh("lua5.4 tools/gen-shapes.lua " .. META .. " " .. dir .. " 2>/dev/null"))
    for _, p in ipairs { "ecs", "ens" } do
      local fresh = shell.run("cat " .. dir .. "/" .. p .. ".lua")
      local committed = shell.run("cat lua/aliyun/emulator/shapes/" .. p .. ".lua")
      assert(fresh == committed, p .. ".lua differs from what tools/gen-shapes.lua generates")
    end
    shell.sh("rm -rf " .. dir)
  end)

  it("renders a body as its model has it: wrapped lists, converted types, no stray fields", function()
    local body = { Regions = { { RegionId = "x", LocalName = "X", Status = "available", Invented = 1 } } }
    local out = shape.render("ecs", "DescribeRegions", body, false)
    assert.are.same({ Region = { { RegionId = "x", LocalName = "X", Status = "available" } } }, out.Regions)
    assert.are.equal("[]", json.encode(shape.render("ecs", "DescribeRegions", { Regions = {} }, false).Regions.Region))
    -- strict: the stray field is an error naming it
    local ok, err = pcall(shape.render, "ecs", "DescribeRegions", body, true)
    assert.is_false(ok)
    assert.matches("Invented", err.message)
    -- types follow the model: an integer field stays an integer, a string stays a string
    local r = shape.render("ecs", "CreateDisk", { DiskId = "d-1", OrderId = "123" }, true)
    assert.are.same({ DiskId = "d-1", OrderId = "123" }, r)
    ok, err = pcall(shape.render, "ecs", "DescribeDisks", { TotalCount = "3" }, true)
    assert.is_false(ok)
    assert.matches("TotalCount", err.message)
    -- a record (with _kind) may carry internal fields and is converted leniently
    r = shape.render("ecs", "DescribeDisks", { TotalCount = 1, Disks = { { _kind = "disk", DiskId = "d", Size = 20,
      internal = true, Tags = { { Key = "k", Value = "v" } } } } }, true)
    assert.are.same({ DiskId = "d", Size = 20, Tags = { Tag = { { TagKey = "k", TagValue = "v" } } } }, r.Disks.Disk[1])
  end)

  it("writes an answer's JSON straight from the model as json.encode writes the rendered table", function()
    local rid = "0A1B2C3D-0000-1111-2222-333344445555"
    local function both(action, body, strict)
      local t = shape.render("ecs", action, body, strict)
      t.RequestId = rid
      local text = shape.encode("ecs", action, body, strict, rid)
      assert.are.equal(assert(json.encode(t)), text)
      return text
    end
    -- a bare list wrapped, a stray field dropped, an empty list, an empty answer
    assert.are.equal('{"RequestId":"' .. rid .. '","Regions":{"Region":[{"LocalName":"X","RegionId":"x"}]}}',
      both("DescribeRegions", { Regions = { { RegionId = "x", LocalName = "X", Invented = 1 } } }, false))
    both("DescribeRegions", { Regions = {} }, false)
    assert.are.equal('{"RequestId":"' .. rid .. '"}', both("DescribeRegions", {}, false))
    -- converted types, tags under the model's names, a record's internal fields, an overlay
    local disk = { _kind = "disk", DiskId = "d", Size = "20", internal = true, Tags = { { Key = "k", Value = "v" } },
      Portable = "true" }
    both("DescribeDisks", { TotalCount = 1, Disks = { disk } }, false)
    both("DescribeDisks", { TotalCount = 1, Disks = { setmetatable({ _base = disk, Size = 40 }, {}) } }, false)
    -- values that render to nothing leave no key behind, and no stray comma
    both("DescribeDisks", { TotalCount = 1, Disks = { { DiskId = { 1 }, Size = 20 } } }, false)
    -- strict: the same violations as render
    local ok, err = pcall(shape.encode, "ecs", "DescribeDisks", { TotalCount = "3" }, true, rid)
    assert.is_false(ok)
    assert.matches("TotalCount", err.message)
    assert.is_nil(shape.encode("ecs", "NoSuchAction", {}, false, rid))
  end)

  it("finds where a model keeps its list", function()
    assert.are.same({ "Vpcs", "Vpc" }, shape.list_path(shape.of("ecs", "DescribeVpcs")))
    assert.are.same({ "ActivationList" }, shape.list_path(shape.of("ecs", "DescribeActivations")))
    assert.is_nil(shape.list_path(shape.of("ecs", "CreateVpc")))
  end)
end)
