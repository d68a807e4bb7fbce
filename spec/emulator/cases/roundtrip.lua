-- The generated round trip: every kind that declares `roundtrip` (lua/aliyun/emulator/engine.lua
-- describes the format) goes through create, the wrong-state refusal, ready, describe by id,
-- paging, the tag and resource-group filters, modify, delete and not-found, through the client
-- library, in whichever world runs this case.
local api = require "aliyun.api"
local emulator = require "aliyun.emulator"
local engine = require "aliyun.emulator.engine"
local fixtures = require "aliyun.emulator.fixtures"
local shape = require "aliyun.emulator.shape"

-- The default account's fixture, as the round trips name it.
local function fixture(world)
  local ecs = world.ecs()
  local fx = { region = "cn-hangzhou", zone = "cn-hangzhou-h", ens_region = fixtures.ENS_NODES[1].id,
    image = fixtures.IMAGES[1].id }
  local vpcs = assert(ecs:DescribeVpcs { RegionId = fx.region, IsDefault = true }).Vpcs.Vpc
  fx.vpc = vpcs[1].VpcId
  for _, v in ipairs(assert(ecs:DescribeVSwitches { RegionId = fx.region, VpcId = fx.vpc }).VSwitches.VSwitch) do
    if v.ZoneId == fx.zone then fx.vswitch = v.VSwitchId end
  end
  fx.security_group = assert(ecs:DescribeSecurityGroups { RegionId = fx.region, VpcId = fx.vpc })
    .SecurityGroups.SecurityGroup[1].SecurityGroupId
  for _, i in ipairs(assert(ecs:DescribeInstances { RegionId = fx.region, ZoneId = fx.zone }).Instances.Instance) do
    if i.Status == "Running" and not fx.instance then fx.instance = i.InstanceId end
  end
  fx.system_disk = assert(ecs:DescribeDisks { RegionId = fx.region, InstanceId = fx.instance, DiskType = "system" })
    .Disks.Disk[1].DiskId
  return fx
end

-- The items of a Describe answer, wherever its model keeps the list.
local function items(product, action, res)
  local path = shape.list_path(shape.of(product, action))
  if not path then return { res } end -- a Describe*Attribute answer is the record itself
  local t = res
  for _, k in ipairs(path) do t = t and t[k] end
  return t or {}
end

local function has_param(product, action, name)
  for _, p in ipairs(api.find(product, action).params) do
    if p.name == name then return true end
  end
  return false
end

return function(world)
  emulator.load() -- the kinds, so that engine.kinds is complete
  local names = {}
  for name, kind in pairs(engine.kinds) do
    if kind.roundtrip then names[#names + 1] = name end
  end
  table.sort(names)

  describe(world.name .. " emulator: generated round trips", function()
    before_each(world.reset)

    it("covers the kinds that create resources", function()
      -- a kind with a create op and no round trip would go untested
      for name, kind in pairs(engine.kinds) do
        for _, decl in pairs(kind.actions or {}) do
          if decl.op == "create" and not kind.roundtrip then error("kind " .. name .. " has no roundtrip") end
        end
      end
      assert.is_true(#names >= 1)
    end)

    for _, name in ipairs(names) do
      local kind = engine.kinds[name]
      local rt = kind.roundtrip
      local product = kind.product
      it(name .. ": create, describe, page, filter, modify, delete, not found", function()
        local client = product == "ens" and world.ens() or world.ecs()
        local fx = fixture(world)
        local function call(action, params)
          local res, err = client:call(action, params)
          return res, err
        end
        if rt.setup then -- what the create needs beyond the fixture (an ENS network, a disk)
          rt.setup(fx, function(action, params)
            local res = assert(call(action, params))
            world.advance(10)
            return res
          end)
        end
        local params = rt.create[2](fx)
        local tagged = has_param(product, rt.create[1], "Tag")
        if tagged then params.Tag = { { Key = "roundtrip", Value = name } } end
        local created = assert(call(rt.create[1], params))
        local id = rt.id and rt.id(created) or created[kind.id]
        assert.is_string(id, name .. ": the create answer carries the id")

        if rt.wrong_state then
          local _, err = call(rt.wrong_state[1], rt.wrong_state[2](fx, id))
          assert.are.equal(rt.wrong_state[3], err and err.code, name .. ": refused in its first state")
        end

        local function find()
          local res, err = call(rt.describe[1], rt.describe[2](fx, id))
          -- a Describe*Attribute of a deleted id answers not-found: nothing found
          if not res and err and err.code == rt.not_found then return {}, nil end
          assert(res, err)
          local found = {}
          for _, item in ipairs(items(product, rt.describe[1], res)) do
            if item[kind.id] == id then found[#found + 1] = item end
          end
          return found, res
        end

        if rt.ready then
          for _ = 1, 60 do -- bounded: each transition takes seconds of the emulator's clock
            local found = find()
            if found[1] and found[1][rt.ready[1]] == rt.ready[2] then break end
            world.advance(1)
          end
        end
        local found = find()
        assert.are.equal(1, #found, name .. ": described by id")
        if rt.ready then assert.are.equal(rt.ready[2], found[1][rt.ready[1]]) end

        -- paging: one item a page
        if has_param(product, rt.describe[1], "PageSize") then
          local p = rt.describe[2](fx, nil)
          p.PageSize, p.PageNumber = 1, 1
          local res = assert(call(rt.describe[1], p))
          assert.is_true(#items(product, rt.describe[1], res) <= 1)
          if res.TotalCount then assert.is_true(tonumber(res.TotalCount) >= 1) end -- a string in some models
        end

        -- the tag filter finds it by its tag and not by another
        if tagged and has_param(product, rt.describe[1], "Tag") then
          local p = rt.describe[2](fx, nil)
          p.Tag = { { Key = "roundtrip", Value = name } }
          local res = assert(call(rt.describe[1], p))
          local hit = false
          for _, item in ipairs(items(product, rt.describe[1], res)) do
            if item[kind.id] == id then hit = true end
          end
          assert.is_true(hit, name .. ": found by its tag")
          p.Tag = { { Key = "roundtrip", Value = "other" } }
          res = assert(call(rt.describe[1], p))
          for _, item in ipairs(items(product, rt.describe[1], res)) do
            assert.are_not.equal(id, item[kind.id], name .. ": not found by another tag")
          end
        end

        if rt.modify then
          assert(call(rt.modify[1], rt.modify[2](fx, id)))
          assert.are.equal(rt.modify[4], find()[1][rt.modify[3]], name .. ": modified")
        end

        if rt.delete then
          assert(call(rt.delete[1], rt.delete[2](fx, id)))
          if rt.gone then
            for _ = 1, 60 do
              if #find() == 0 then break end
              world.advance(1)
            end
          end
          assert.are.equal(0, #find(), name .. ": gone after delete")
          if rt.not_found then
            local again = rt.modify or rt.delete
            local _, err = call(again[1], again[2](fx, id))
            assert.are.equal(rt.not_found, err and err.code, name .. ": not found once deleted")
          end
        end
      end)
    end
  end)
end
