-- What the emulator emulates: Tag and ResourceGroupId honoured by every Describe that takes
-- them, and `bin/aliyun-emulator --coverage` printing the same table as the module.
local coverage = require "aliyun.emulator.coverage"
local shell = require "support.shell"

describe("emulator coverage", function()
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
