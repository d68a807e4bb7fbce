-- Authentication and the request-level errors (section 4.5): every one through the client
-- or, where the client would never send such a request, through a hand-made one.
local support = require "support.emulator"

return function(world)
  describe(world.name .. " emulator: authentication and request errors", function()
    before_each(world.reset)

    local function expect_error(status, code, res, err)
      assert.is_nil(res)
      assert.are.equal("service", err.kind)
      assert.are.equal(code, err.code)
      assert.are.equal(status, err.status)
      assert.is_string(err.request_id)
      assert.is_truthy(err.host_id)
      assert.matches("troubleshoot", err.recommend)
      return err
    end

    for _, v in ipairs {
      { signature_version = "v1", method = "GET" }, { signature_version = "v1", method = "POST" },
      { signature_version = "v3", method = "GET" }, { signature_version = "v3", method = "POST" },
    } do
      it("accepts " .. v.signature_version .. " " .. v.method .. " signatures", function()
        local res, err = world.ecs(v):DescribeRegions {}
        assert.is_nil(err)
        assert.are.equal("cn-hangzhou", res.Regions.Region[1].RegionId)
        assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", res.RequestId)
      end)
    end

    it("accepts STS credentials with their token and refuses a wrong token", function()
      local res, err = world.ecs { access_key_id = "stsid", access_key_secret = "stssecret",
        security_token = "ststoken" }:DescribeRegions {}
      assert.is_nil(err)
      assert.is_table(res.Regions)
      expect_error(400, "InvalidSecurityToken.Mismatch", world.ecs { access_key_id = "stsid",
        access_key_secret = "stssecret", security_token = "other" }:DescribeRegions {})
    end)

    it("answers SignatureDoesNotMatch (400) with the server's string to sign, never the secret", function()
      local status, body = world.send(support.signed(world, { secret = "wrong-secret-123" }))
      assert.are.equal(400, status)
      assert.are.equal("SignatureDoesNotMatch", body.Code)
      assert.matches("string to sign is:GET&%%2F&AccessKeyId%%3Dtestid", body.Message)
      assert.is_nil(body.Message:find("wrong-secret-123", 1, true))
      for _, k in ipairs { "RequestId", "HostId", "Code", "Message", "Recommend" } do assert.is_string(body[k]) end
      local err = expect_error(400, "SignatureDoesNotMatch", world.ecs { access_key_secret = "wrong-secret-123" }
        :DescribeRegions {})
      assert.matches("AccessKeySecret is wrong", err.message) -- the client read the string to sign
      assert.is_nil(tostring(err):find("wrong-secret-123", 1, true))
    end)

    it("checks V3 signatures over the canonical request", function()
      local req = support.signed(world, { v3 = true, method = "POST", body = { Extra = "1" } })
      req.body = "Extra=2" -- the body hash no longer matches
      local status, body = world.send(req)
      assert.are.equal(400, status)
      assert.are.equal("SignatureDoesNotMatch", body.Code)
      expect_error(400, "SignatureDoesNotMatch", world.ecs { signature_version = "v3", access_key_secret = "nope" }
        :DescribeRegions {})
    end)

    it("answers InvalidAccessKeyId.NotFound (400) to an unknown key", function()
      expect_error(400, "InvalidAccessKeyId.NotFound", world.ecs { access_key_id = "nobody" }:DescribeRegions {})
    end)

    it("answers MissingParameter for a missing Signature and IncompleteSignature for a wrong method", function()
      local req = support.signed(world, {})
      local stripped = req.url:gsub("&Signature=[^&]*", "")
      local status, body = world.send { method = "GET", url = stripped, headers = req.headers, timeout = 10 }
      assert.are.equal(400, status)
      assert.are.equal("MissingParameter", body.Code)
      assert.matches("\"Signature\"", body.Message)
      req = support.signed(world, {})
      status, body = world.send { method = "GET", url = req.url:gsub("HMAC%-SHA1", "HMAC-MD5"), headers = req.headers,
        timeout = 10 }
      assert.are.equal(400, status)
      assert.are.equal("IncompleteSignature", body.Code)
    end)

    it("answers InvalidTimeStamp.Expired outside 15 minutes and InvalidTimeStamp.Format to a bad one", function()
      local status, body = world.send(support.signed(world, { timestamp = os.time() - 16 * 60 }))
      assert.are.equal(400, status)
      assert.are.equal("InvalidTimeStamp.Expired", body.Code)
      status, body = world.send(support.signed(world, { timestamp = os.time() - 14 * 60 }))
      assert.are.equal(200, status)
      assert.is_table(body.Regions)
      local req = support.signed(world, {})
      local ts = req.url:match("Timestamp=([^&]+)")
      status, body = world.send { method = "GET", url = req.url:gsub("Timestamp=[^&]+", "Timestamp=yesterday"),
        headers = req.headers, timeout = 10 }
      assert.is_string(ts)
      assert.are.equal(400, status)
      -- the signature covers the timestamp, so a changed one no longer matches
      assert.are.equal("SignatureDoesNotMatch", body.Code)
    end)

    it("lets the client correct its clock from the emulator's Date after InvalidTimeStamp.Expired", function()
      world.advance(20 * 60)
      local res, err = world.ecs():DescribeRegions {}
      assert.is_nil(err)
      assert.is_table(res.Regions)
    end)

    it("answers SignatureNonceUsed to a replayed request", function()
      local req = support.signed(world, { nonce = "replay-" .. world.name .. "-" .. os.time() })
      assert.are.equal(200, (world.send(req)))
      local status, body = world.send(req)
      assert.are.equal(400, status)
      assert.are.equal("SignatureNonceUsed", body.Code)
    end)

    it("answers InvalidParameter (400) to a parameter given twice, naming it", function()
      local req = support.signed(world, {})
      req.url = req.url .. "&Action=DescribeRegions"
      local status, _, resp = world.send(req)
      assert.are.equal(400, status)
      assert.matches("InvalidParameter", resp.body, 1, true)
      assert.matches("&quot;Action&quot; is given twice", resp.body, 1, true) -- (in XML: the Format could not be read)
    end)

    it("answers InvalidVersion to a version it does not serve", function()
      local status, body = world.send(support.signed(world, { version = "2099-01-01" }))
      assert.are.equal(400, status)
      assert.are.equal("InvalidVersion", body.Code)
      expect_error(400, "InvalidVersion", world.ecs { version = "2013-01-01" }:DescribeRegions {})
    end)

    it("answers InvalidAction.NotFound (404) to an action the product does not have", function()
      local status, body = world.send(support.signed(world, { action = "DescribeUnicorns" }))
      assert.are.equal(404, status)
      assert.are.equal("InvalidAction.NotFound", body.Code)
      -- an ENS action sent with the ECS version is not an ECS action
      expect_error(404, "InvalidAction.NotFound", world.ecs():call("RunServiceSchedule", {}, { validate = false }))
    end)

    it("says clearly that an action of the metadata is not emulated", function()
      local err = expect_error(400, "UnsupportedOperation.NotEmulated",
        world.ecs():call("AllocateDedicatedHosts", { RegionId = "cn-hangzhou" }, { validate = false }))
      assert.matches("AllocateDedicatedHosts exists in ECS 2014%-05%-26 but is not emulated", err.message)
      expect_error(400, "UnsupportedOperation.NotEmulated", world.ens():call("DescribeEnsRegions", {}))
    end)

    it("answers MissingParameter.<Name> for a missing required parameter", function()
      local err = expect_error(400, "MissingParameter.RegionId", world.ecs():call("CreateDisk", { Size = 20 },
        { validate = false }))
      assert.matches("\"RegionId\" that is mandatory", err.message)
      expect_error(400, "MissingParameter.InstanceId", world.ecs():call("InstallCloudAssistant",
        { RegionId = "cn-hangzhou" }, { validate = false }))
      expect_error(400, "MissingParameter.AppId", world.ens():call("RunServiceSchedule",
        { Uuid = "u", ClientIp = "1.2.3.4", ServiceAction = "Start" }, { validate = false }))
    end)

    it("answers InvalidParameter to a bad enumerated value or a value of the wrong type", function()
      local err = expect_error(400, "InvalidParameter", world.ecs():DescribeRegions { AcceptLanguage = "tlh" })
      assert.matches("AcceptLanguage", err.message)
      expect_error(400, "InvalidParameter", world.ecs():call("CreateDisk", { RegionId = "cn-hangzhou",
        ZoneId = "cn-hangzhou-h", Size = "twenty" }, { validate = false }))
      expect_error(400, "InvalidParameter", world.ecs():call("DescribeDisks", { RegionId = "cn-hangzhou",
        Portable = "maybe" }, { validate = false }))
      expect_error(400, "InvalidParameter.ServiceAction", world.ens():RunServiceSchedule { AppId = "a", Uuid = "u",
        ClientIp = "1.2.3.4", ServiceAction = "Launch" })
    end)

    it("answers V1 requests in XML unless they ask for JSON, as section 4.5 says", function()
      local core = require "aliyun.core"
      local params = { Action = "DescribeRegions", Version = "2014-05-26", AccessKeyId = "testid",
        SignatureMethod = "HMAC-SHA1", SignatureVersion = "1.0", SignatureNonce = core.nonce(),
        Timestamp = core.timestamp() }
      local sig, _, canonical = core.v1_sign("GET", params, "testsecret")
      local req = { method = "GET", url = world.url .. "/?" .. canonical .. "&Signature=" .. core.percent_encode(sig),
        headers = {}, timeout = 10 }
      local resp = assert(world.transport.send(req))
      assert.are.equal(200, resp.status)
      assert.matches("^text/xml", resp.headers["content-type"])
      assert.matches("<DescribeRegionsResponse><Regions><Region><LocalName>China %(Hangzhou%)</LocalName>", resp.body)
      assert.matches("</Region><Region>", resp.body)
      assert.matches("<RequestId>[%x%-]+</RequestId></DescribeRegionsResponse>$", resp.body)
    end)

    it("answers UnsupportedHTTPMethod (403) to GET on a POST-only action", function()
      local status, body = world.send(support.signed(world, { product = "ens", action = "BatchEventRedeployInstance",
        method = "GET", params = { EventInfos = "[]" } }))
      assert.are.equal(403, status)
      assert.are.equal("UnsupportedHTTPMethod", body.Code)
    end)

    it("answers InvalidRegionId.NotFound (404) to an unknown region", function()
      expect_error(404, "InvalidRegionId.NotFound", world.ecs():DescribeZones { RegionId = "mars-north-1" })
    end)
  end)
end
