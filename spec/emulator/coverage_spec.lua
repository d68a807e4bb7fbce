-- What the emulator emulates: every action of the groups of ../shared/emulator/ACTIONS.md
-- that issue 15 names, Tag and ResourceGroupId honoured by every Describe that takes them,
-- and `bin/aliyun-emulator --coverage` printing the same table as the module.
local coverage = require "aliyun.emulator.coverage"
local emulator = require "aliyun.emulator"
local shell = require "support.shell"

local ACTIONS_MD = "../shared/emulator/ACTIONS.md"

-- The ECS groups every action of which must be emulated, and the ENS table.
local REQUIRED = {
  ["ECS: Instances"] = true, ["ECS: Disks and snapshots"] = true, ["ECS: Security groups"] = true,
  ["ECS: Key pairs"] = true, ["ECS: Images"] = true, ["ECS: Network interfaces and IPs"] = true,
  ["ECS: VPCs, vSwitches, routes"] = true, ["ECS: Tags and resource groups"] = true,
  ["ECS: Launch templates"] = true, ["ECS: Cloud assistant"] = true,
}

local function required_actions()
  local f = io.open(ACTIONS_MD, "rb")
  if not f then return nil end
  local out, group = {}, nil
  for line in f:lines() do
    local heading = line:match("^## (.+)$")
    if heading then
      group = heading
    else
      local action = line:match("^| (%u%w+) |")
      if action and group then
        if REQUIRED[group] then out[#out + 1] = { "ecs", action, group } end
        if group:match("^ENS") then out[#out + 1] = { "ens", action, group } end
      end
    end
  end
  f:close()
  return out
end

describe("emulator coverage", function()
  it("emulates every action of the required groups of ACTIONS.md", function()
    local list = required_actions()
    if not list then pending(ACTIONS_MD .. " is not beside this checkout") return end
    assert.is_true(#list > 150)
    local emu = emulator.new()
    local have = { ecs = {}, ens = {} }
    for _, p in ipairs { "ecs", "ens" } do
      for _, a in ipairs(emu:actions(p)) do have[p][a] = true end
    end
    local missing = {}
    for _, x in ipairs(list) do
      if not have[x[1]][x[2]] then missing[#missing + 1] = x[1] .. " " .. x[2] .. " (" .. x[3] .. ")" end
    end
    assert.are.same({}, missing)
  end)

  it("honours Tag and ResourceGroupId on every Describe and List that takes them", function()
    local t = coverage.table()
    local refused = {}
    for _, product in ipairs { "ecs", "ens" } do
      for _, row in ipairs(t[product]) do
        if row.action:match("^Describe") or row.action:match("^List") then
          for _, name in ipairs(row.refuses) do
            if name == "ResourceGroupId" or name:match("^Tag%.") or name == "Tag" then
              refused[#refused + 1] = product .. " " .. row.action .. " " .. name
            end
          end
        end
      end
    end
    assert.are.same({}, refused)
  end)

  it("is printed by bin/aliyun-emulator --coverage", function()
    local out = shell.run("sh bin/aliyun-emulator --coverage")
    assert.are.equal(coverage.markdown() .. "\n", out)
    assert.matches("| RunInstances | instance |", out, 1, true)
  end)
end)
