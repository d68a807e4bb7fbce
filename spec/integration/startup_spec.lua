-- What a fresh process compiles for `require "aliyun"`, a client and one plain call (the
-- start-up figure of bench/startup.lua): the modules that only other calls need are loaded
-- when such a call comes, and then do their work. Against real nginx on loopback.
local nginx = require "support.nginx"
local shell = require "support.shell"

local BODY = '{"RequestId":"r-1","Regions":{"Region":[{"RegionId":"cn-hangzhou","LocalName":"x"}]}}'

-- Modules a plain call does not need: the parameters' full walk (lists, objects, messages),
-- the masking of secrets in what is shown and the error objects.
local COLD = { "aliyun.params.walk", "aliyun.mask", "aliyun.errors" }

describe("a fresh process's first call #integration", function()
  local server

  setup(function()
    server = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          location = / {
            default_type application/json;
            if ($arg_Action = "DescribeRegions") { return 200 ']] .. BODY .. [['; }
            # any other action: an error that shows the InstanceIds it got (as sent, URL-encoded)
            # and a secret that must not be shown
            return 400 '{"RequestId":"r-2","Code":"InvalidParameter","Message":"got $arg_InstanceIds; AccessKeySecret=s3cr3t"}';
          }
        }
      ]],
    }
  end)

  teardown(function()
    if server then server.stop() end
  end)

  -- Runs code after a plain DescribeRegions call in a fresh interpreter; prints whether each
  -- cold module was loaded after the call, then whatever code writes.
  local function fresh(code)
    local script = string.format([[
      local aliyun = require "aliyun"
      local ecs = aliyun.ecs { endpoint = %q, access_key_id = "testid", access_key_secret = "testsecret",
        region = "cn-hangzhou", method = "GET" }
      local r = assert(ecs:DescribeRegions { AcceptLanguage = "en-US" })
      assert(r.Regions.Region[1].RegionId == "cn-hangzhou")
      local cold = {}
      for _, name in ipairs { %q, %q, %q } do cold[#cold + 1] = tostring(package.loaded[name] ~= nil) end
      io.write(table.concat(cold, ","), ";")
    ]], server.url, COLD[1], COLD[2], COLD[3]) .. code
    return shell.run(shell.ENV .. " " .. shell.LUA .. " -e " .. shell.quote(script) .. " 2>&1")
  end

  it("loads neither the parameters' full walk, the masking nor the error objects", function()
    assert.are.equal("false,false,false;", fresh(""))
  end)

  it("loads the full walk for a list parameter, which it sends; the error objects for a failure, and the "
    .. "masking to show one", function()
    -- DescribeInstances' InstanceIds travels as one JSON string: the walk's work
    local out = fresh([[
      local r, err = ecs:DescribeInstances { InstanceIds = { "i-1", "i-2" } }
      io.write(tostring(r), ",", tostring(package.loaded["aliyun.params.walk"] ~= nil), ",",
        tostring(package.loaded["aliyun.mask"] ~= nil), ",", tostring(aliyun.errors.is_error(err)), ";", err.code, ";")
      io.write(tostring(err), ";", tostring(package.loaded["aliyun.mask"] ~= nil))
    ]])
    assert.are.equal("false,false,false;nil,true,false,true;InvalidParameter;aliyun DescribeInstances: service "
      .. "(HTTP 400) InvalidParameter: got %5B%22i-1%22%2C%22i-2%22%5D; AccessKeySecret=**** [RequestId r-2];true", out)
  end)
end)
