-- The round trip every ENS kind declares (kind.roundtrip): create, wrong state, ready,
-- describe, modify, delete and not-found, driven from the declarations through a client.
-- Beside the fields of EMULATOR-HELPERS.md an ENS round trip may declare `id` (where the
-- create answer holds the new id: ENS answers InstanceIds = [...], SnapShotId = [...]) and
-- `setup` (function(fx, call) making what the create needs, such as a network).
local engine = require "aliyun.emulator.engine"
local fixtures = require "aliyun.emulator.fixtures"

-- The record with the kind's id in an answer: the answer itself (Describe*Attribute) or an
-- object of one of its lists.
local function find_record(node, field, id)
  if type(node) ~= "table" then return nil end
  if node[field] == id then return node end
  for _, v in pairs(node) do
    local hit = find_record(v, field, id)
    if hit then return hit end
  end
  return nil
end

return function(world)
  require("aliyun.emulator").new() -- loads the kinds, so that their declarations can be read
  local names = {}
  for name, kind in pairs(engine.kinds) do
    if kind.product == "ens" and kind.roundtrip then names[#names + 1] = name end
  end
  table.sort(names)

  describe(world.name .. " emulator: ENS round trips", function()
    before_each(world.reset)

    it("covers the kinds of the ENS table", function()
      assert.are.same({ "ens_disk", "ens_eip", "ens_image", "ens_instance", "ens_key_pair", "ens_lb", "ens_nat",
        "ens_network", "ens_security_group", "ens_snapshot", "ens_vswitch" }, names)
    end)

    for _, name in ipairs(names) do
      it("round-trips " .. name, function()
        local kind = engine.kinds[name]
        local rt = kind.roundtrip
        local ens = world.ens()
        local function call(action, params)
          local res = assert(ens[action](ens, params))
          world.advance(10)
          return res
        end
        local fx = { ens_region = fixtures.ENS_NODES[1].id }
        if rt.setup then rt.setup(fx, call) end
        local created = assert(ens[rt.create[1]](ens, rt.create[2](fx)))
        local id = rt.id and rt.id(created) or created[kind.id]
        assert.is_string(id)
        if rt.wrong_state then
          local res, err = ens[rt.wrong_state[1]](ens, rt.wrong_state[2](fx, id))
          assert.is_nil(res)
          assert.are.equal(rt.wrong_state[3], err.code)
        end
        local function shown()
          local answer = assert(ens[rt.describe[1]](ens, rt.describe[2](fx, id)))
          return find_record(answer, kind.id, id), answer
        end
        if rt.ready then
          world.advance(10)
          assert.are.equal(rt.ready[2], shown()[rt.ready[1]])
        end
        local rec, answer = shown()
        assert.is_table(rec)
        if answer.TotalCount ~= nil then assert.are.equal(1, tonumber(answer.TotalCount)) end
        if rt.modify then
          assert(ens[rt.modify[1]](ens, rt.modify[2](fx, id)))
          world.advance(10)
          assert.are.equal(rt.modify[4], shown()[rt.modify[3]])
        end
        assert(ens[rt.delete[1]](ens, rt.delete[2](fx, id)))
        local gone = rt.modify or rt.delete
        local res, err = ens[gone[1]](ens, gone[2](fx, id))
        assert.is_nil(res)
        assert.are.same({ rt.not_found, 400 }, { err.code, err.status })
      end)
    end
  end)
end
