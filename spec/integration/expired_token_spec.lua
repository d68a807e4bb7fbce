-- An STS token the service calls expired, over real HTTP (the emulator in nginx on
-- 127.0.0.1): the client's common call (the fused V1 call on the direct path) and the
-- ordinary one (V3) make the provider fetch new credentials and send once more.
local aliyun = require "aliyun"
local refresh = require "aliyun.credentials.refresh"
local server = require "aliyun.emulator.server"
local value = require "aliyun.credentials.value"

describe("an expired STS token over HTTP #integration", function()
  local srv

  setup(function()
    srv = assert(server.start { strict = true, keys = {
      ["STS.old"] = { secret = "old-secret", security_token = "old-token", expiration = os.time() - 60 },
      ["STS.new"] = { secret = "new-secret", security_token = "new-token" },
    } })
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  -- A provider that hands out the old key first (its Expiration an hour ahead: only the
  -- service knows it is dead), then the new one.
  local function provider()
    local p
    p = refresh.new { name = "test source", fetch = function()
      local which = p.count == 0 and "old" or "new"
      return value.new { access_key_id = "STS." .. which, access_key_secret = which .. "-secret",
        security_token = which .. "-token", expiration = os.time() + 3600, source = "test" }
    end }
    return p
  end

  for _, case in ipairs { { "the fused V1 call", {} }, { "a V3 call", { signature_version = "v3" } } } do
    it("renews the credentials and succeeds: " .. case[1], function()
      local p = provider()
      local o = { endpoint = srv.url, credentials_provider = p }
      for k, v in pairs(case[2]) do o[k] = v end
      local ecs = aliyun.ecs(o)
      local res, err = ecs:DescribeRegions {}
      assert(res, tostring(err))
      assert.are.equal(2, p.count)
      assert(ecs:DescribeRegions {})
      assert.are.equal(2, p.count)
      ecs:close()
    end)
  end
end)
