-- One-time warnings about settings that put credentials at risk: verify_tls = false, and a
-- credentials or config file that its group or other users may read or write (as ssh
-- refuses private keys that are). Each is said once, to the client's `warn` function or to
-- stderr.
local aliyun = require "aliyun"
local json = require "aliyun.json"

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local dirs = {}
local function tmpdir()
  local d = assert(io.popen("mktemp -d /tmp/aliyun-warn.XXXXXX")):read("l")
  dirs[#dirs + 1] = d
  return d
end

teardown(function()
  for _, d in ipairs(dirs) do
    if d:match("^/tmp/aliyun%-warn%.") then os.execute("rm -rf " .. quote(d)) end
  end
end)

local function write(path, text, mode)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  assert(os.execute("chmod " .. mode .. " " .. quote(path)))
end

local function collector()
  local lines = {}
  return lines, function(line) lines[#lines + 1] = line end
end

local NOWHERE = function() return nil end -- an empty environment

describe("a warning", function()
  it("for verify_tls = false, once", function()
    local lines, warn = collector()
    aliyun.ecs { verify_tls = false, warn = warn }
    aliyun.ecs { verify_tls = false, warn = warn }
    aliyun.ecs { verify_tls = true, warn = warn }
    assert.are.equal(1, #lines)
    assert.matches("^aliyun: warning: verify_tls = false: server certificates are not checked", lines[1])
    local other_lines, other = collector()
    aliyun.ecs { warn = other }
    assert.are.equal(0, #other_lines)
  end)

  it("goes to stderr once per process when no warn function is given", function()
    local code = string.format("package.path = %q; package.cpath = %q; ", package.path, package.cpath) .. [[
      local aliyun = require "aliyun"
      for _ = 1, 3 do aliyun.ecs { verify_tls = false } end
      io.stdout:write("done")
    ]]
    local errfile = tmpdir() .. "/stderr"
    local p = assert(io.popen("lua5.4 -e " .. quote(code) .. " 2>" .. quote(errfile)))
    assert.are.equal("done", p:read("a"))
    p:close()
    local err = assert(io.open(errfile)):read("a")
    local n = select(2, err:gsub("verify_tls = false", ""))
    assert.are.equal(1, n, err)
  end)

  for _, case in ipairs {
    { mode = "644", says = "readable by its group and other users %(mode 0644%)" },
    { mode = "660", says = "readable and writable by its group %(mode 0660%)" },
    { mode = "602", says = "is writable by other users %(mode 0602%)" },
  } do
    it("for a config file of mode " .. case.mode .. ", once, naming it", function()
      local dir = tmpdir()
      local path = dir .. "/config.json"
      write(path, json.encode { current = "p", profiles = { { name = "p", mode = "AK", access_key_id = "LTAIwarn",
        access_key_secret = "warn-secret-value" } } }, case.mode)
      local lines, warn = collector()
      for _ = 1, 2 do
        local ecs = aliyun.ecs { getenv = NOWHERE, config_file = path, warn = warn, dry_run = true,
          region = "cn-hangzhou" }
        assert(ecs:DescribeRegions {})
      end
      assert.are.equal(1, #lines)
      assert.matches(case.says, lines[1])
      assert.truthy(lines[1]:find(path .. " holds credentials", 1, true))
      assert.truthy(lines[1]:find("chmod 600 " .. path, 1, true))
      assert.is_nil(lines[1]:find("warn-secret-value", 1, true))
    end)
  end

  it("for a credentials.ini open to others, and none for files of mode 600 or 400", function()
    local dir = tmpdir()
    local ini = dir .. "/credentials.ini"
    write(ini, "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = ini-secret-value\n", "604")
    local lines, warn = collector()
    assert(aliyun.ecs({ getenv = NOWHERE, home = dir, credentials_file = ini, warn = warn, dry_run = true,
      region = "cn-hangzhou" }):DescribeRegions {})
    assert.are.equal(1, #lines)
    assert.matches("credentials%.ini holds credentials and is readable by other users %(mode 0604%)", lines[1])
    for _, mode in ipairs { "600", "400" } do
      local d2 = tmpdir()
      write(d2 .. "/credentials.ini", "[default]\ntype = access_key\naccess_key_id = LTAIini\n"
        .. "access_key_secret = ini-secret-value\n", mode)
      write(d2 .. "/config.json", json.encode { current = "p", profiles = { { name = "p", mode = "AK",
        access_key_id = "LTAIwarn", access_key_secret = "warn-secret-value" } } }, mode)
      local quiet, w2 = collector()
      assert(aliyun.ecs({ getenv = NOWHERE, credentials_file = d2 .. "/credentials.ini", warn = w2,
        dry_run = true, region = "cn-hangzhou" }):DescribeRegions {})
      assert(aliyun.ecs({ getenv = NOWHERE, config_file = d2 .. "/config.json", warn = w2,
        dry_run = true, region = "cn-hangzhou" }):DescribeRegions {})
      assert.are.same({}, quiet)
    end
  end)
end)
