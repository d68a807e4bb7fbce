-- Every example runs, against the emulator, and exits 0: examples that rot are worse than
-- none. Each runs in its own process as a user would run it.
local nginx = require "support.nginx"

local ROOT = nginx.ROOT

local function run(path)
  local cmd = string.format("cd %s && %s %s 2>&1; echo \"exit=$?\"", ROOT, "lua5.4", path)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local EXPECT = {
  ["examples/helpers/pages.lua"] = "%d+ disks in cn%-hangzhou, %d+ pages of 10",
  ["examples/helpers/wait.lua"] = "d%-%w+ is Available",
  ["examples/helpers/batch.lua"] = "cn%-hangzhou\t%d+ zones",
  ["examples/helpers/dry_run.lua"] = "POST https://[^ ]+Action=CreateDisk[^ ]+Signature=",
  -- the main job's playbook, which starts the emulator in nginx itself
  ["examples/provision.lua"] = "done: everything provisioned, checked and cleaned up",
}

describe("the examples", function()
  for path, pattern in pairs(EXPECT) do
    it(path .. " runs against the emulator", function()
      local out = run(path)
      assert.matches("exit=0\n$", out, nil, nil, out)
      assert.matches(pattern, out, nil, nil, out)
    end)
  end

  it("are all listed here", function()
    -- (examples/openresty is run in nginx by spec/integration/gateway_spec.lua)
    local p = assert(io.popen("cd " .. ROOT .. " && ls examples/*.lua examples/helpers/*.lua"))
    for f in p:lines() do
      if not f:match("connect%.lua$") then assert.is_string(EXPECT[f], f .. " is not run by this spec") end
    end
    p:close()
  end)
end)
