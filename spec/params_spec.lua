-- aliyun.params: validation and serialisation of action parameters, driven by the API tables.
local api = require "aliyun.api"
local params = require "aliyun.params"
local json = require "aliyun.json"
local wire = require "support.wire"

local function prep(product, action, values, opts)
  return params.prepare(product, action, api.find(product, action), values, opts)
end

-- The query and body of a call that must succeed.
local function ok(product, action, values, opts)
  local w, err = prep(product, action, values, opts)
  assert(w, tostring(err))
  return w.query, w.body
end

-- The error of a call that must fail validation.
local function bad(product, action, values, opts)
  local w, err = prep(product, action, values, opts)
  assert.is_nil(w)
  assert.is_table(err)
  assert.are.equal("validation", err.kind)
  assert.are.equal(action, err.action)
  return err
end

-- CreateLaunchTemplate needs these two; the rest of a test adds to them.
local function clt(extra)
  local t = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt" }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local function clt_query(extra)
  local q = ok("ecs", "CreateLaunchTemplate", clt(extra))
  q.RegionId, q.LaunchTemplateName = nil, nil
  return q
end

local function assert_message(err, ...)
  local msg = err.message
  for i = 1, select("#", ...) do
    local want = select(i, ...)
    assert(msg:find(want, 1, true), "message '" .. msg .. "' lacks '" .. want .. "'")
  end
end

describe("params serialisation", function()
  it("sends a RepeatList of objects as Name.N.Field", function()
    assert.are.same({
      ["Tag.1.Key"] = "env", ["Tag.1.Value"] = "prod",
      ["Tag.2.Key"] = "team", ["Tag.2.Value"] = "core",
    }, clt_query { Tag = { { Key = "env", Value = "prod" }, { Key = "team", Value = "core" } } })
  end)

  it("sends a RepeatList of scalars as Name.N", function()
    assert.are.same({ ["SecurityGroupIds.1"] = "sg-1", ["SecurityGroupIds.2"] = "sg-2" },
      clt_query { SecurityGroupIds = { "sg-1", "sg-2" } })
  end)

  it("sends a list inside a list item as Name.N.Field.M", function()
    assert.are.same({
      ["NetworkInterface.1.VSwitchId"] = "vsw-1",
      ["NetworkInterface.1.SecurityGroupIds.1"] = "sg-1",
      ["NetworkInterface.1.SecurityGroupIds.2"] = "sg-2",
      ["NetworkInterface.2.SecurityGroupIds.1"] = "sg-3",
    }, clt_query { NetworkInterface = {
      { VSwitchId = "vsw-1", SecurityGroupIds = { "sg-1", "sg-2" } },
      { SecurityGroupIds = { "sg-3" } },
    } })
  end)

  it("types the fields of list items: integers, booleans, longs", function()
    assert.are.same({
      ["DataDisk.1.Size"] = "40", ["DataDisk.1.DeleteWithInstance"] = "true",
      ["DataDisk.1.ProvisionedIops"] = "50000", ["DataDisk.2.Size"] = "2000",
    }, clt_query { DataDisk = { { Size = 40, DeleteWithInstance = true, ProvisionedIops = 50000 }, { Size = 2000.0 } } })
  end)

  it("sends nothing for an empty optional list", function()
    assert.are.same({}, clt_query { Tag = {}, SecurityGroupIds = {} })
  end)

  it("accepts dotted names flat and nested, with the same result", function()
    local flat = clt_query { ["SystemDisk.Category"] = "cloud_essd", ["SystemDisk.Size"] = 40 }
    local nested = clt_query { SystemDisk = { Category = "cloud_essd", Size = 40 } }
    assert.are.same({ ["SystemDisk.Category"] = "cloud_essd", ["SystemDisk.Size"] = "40" }, flat)
    assert.are.same(flat, nested)
  end)

  it("matches nested tables at any depth of a dotted name", function()
    local q = ok("ecs", "CreateAutoProvisioningGroup", {
      RegionId = "cn-hangzhou", TotalTargetCapacity = "4",
      LaunchConfiguration = {
        ImageId = "m-1", SecurityGroupIds = { "sg-1" },
        DataDisk = { { Size = 40, Category = "cloud" } },
        SystemDisk = { Category = "cloud_essd" },
        Tag = { { Key = "k", Value = "v" } },
      },
    })
    assert.are.same({
      RegionId = "cn-hangzhou", TotalTargetCapacity = "4",
      ["LaunchConfiguration.ImageId"] = "m-1",
      ["LaunchConfiguration.SecurityGroupIds.1"] = "sg-1",
      ["LaunchConfiguration.DataDisk.1.Size"] = "40",
      ["LaunchConfiguration.DataDisk.1.Category"] = "cloud",
      ["LaunchConfiguration.SystemDisk.Category"] = "cloud_essd",
      ["LaunchConfiguration.Tag.1.Key"] = "k",
      ["LaunchConfiguration.Tag.1.Value"] = "v",
    }, q)
  end)

  it("takes numbered dotted names (Filter.1.Key) from an array", function()
    local q = ok("ecs", "DescribeDisks", { RegionId = "r", Filter = { { Key = "a", Value = "b" }, { Key = "c" } } })
    assert.are.same({ RegionId = "r", ["Filter.1.Key"] = "a", ["Filter.1.Value"] = "b", ["Filter.2.Key"] = "c" }, q)
  end)

  it("types the dotted parameters under a Struct of the same name", function()
    -- CreateInstance has both SystemDisk (Struct) and SystemDisk.Category, SystemDisk.Size, ...
    local q = ok("ecs", "CreateInstance", { RegionId = "r", InstanceType = "t", ImageId = "m",
      SystemDisk = { Category = "cloud_essd", Size = 40.0, FutureField = true } })
    assert.are.same({ RegionId = "r", InstanceType = "t", ImageId = "m", ["SystemDisk.Category"] = "cloud_essd",
      ["SystemDisk.Size"] = "40", ["SystemDisk.FutureField"] = "true" }, q)
    local err = bad("ecs", "CreateInstance", { RegionId = "r", InstanceType = "t", SystemDisk = { Size = 40.5 } })
    assert_message(err, "parameter SystemDisk.Size", "fractional")
  end)

  it("flattens a Struct the metadata lists no fields for", function()
    assert.are.same({
      ["ImageOptions.LoginAsNonRoot"] = "true",
      ["SecurityOptions.TrustedSystemMode"] = "vTPM",
      ["SecurityOptions.Deep.Level"] = "2",
      ["SecurityOptions.List.1"] = "a",
      ["SecurityOptions.List.2.X"] = "y",
    }, clt_query {
      ImageOptions = { LoginAsNonRoot = true },
      SecurityOptions = { TrustedSystemMode = "vTPM", Deep = { Level = 2 }, List = { "a", { X = "y" } } },
    })
  end)

  it("sends a Json parameter given as a table as one JSON string", function()
    local q = ok("ens", "BatchEventRedeployInstance", {
      EventInfos = { { EventId = "e-1", ResourceId = "i-1", OpsType = "executeImmediately" } },
    })
    assert.are.same({ EventInfos = '[{"EventId":"e-1","OpsType":"executeImmediately","ResourceId":"i-1"}]' }, q)
  end)

  it("passes a json-style parameter given as JSON text as is, and refuses text that is not JSON", function()
    local q = ok("ens", "BatchEventRedeployInstance", { EventInfos = '[{"EventId":"e-1"}]' })
    assert.are.same({ EventInfos = '[{"EventId":"e-1"}]' }, q)
    local err = bad("ens", "BatchEventRedeployInstance", { EventInfos = "e-1" })
    assert_message(err, "parameter EventInfos", "not JSON")
    -- validation off: the text goes as given
    q = ok("ens", "BatchEventRedeployInstance", { EventInfos = "e-1" }, { validate = false })
    assert.are.same({ EventInfos = "e-1" }, q)
  end)

  it("sends an Array parameter flat, as the official SDKs do (Permissions.1.IpProtocol)", function()
    local q = ok("ecs", "AuthorizeSecurityGroup", {
      RegionId = "r", SecurityGroupId = "sg",
      Permissions = { { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" }, { IpProtocol = "icmp" } },
    })
    assert.are.same({ RegionId = "r", SecurityGroupId = "sg", ["Permissions.1.IpProtocol"] = "tcp",
      ["Permissions.1.PortRange"] = "22/22", ["Permissions.1.SourceCidrIp"] = "10.0.0.0/8",
      ["Permissions.2.IpProtocol"] = "icmp" }, q)
    q = ok("ens", "DescribeVSwitches", { EnsRegionIds = { "cn-a", "cn-b" }, VSwitchIds = {} })
    assert.are.same({ ["EnsRegionIds.1"] = "cn-a", ["EnsRegionIds.2"] = "cn-b" }, q)
  end)

  it("refuses JSON text for a flat parameter, saying how it travels", function()
    local err = bad("ecs", "AuthorizeSecurityGroup", { RegionId = "r", SecurityGroupId = "sg", Permissions = "[]" })
    assert_message(err, "parameter Permissions", "an Array", "Name.1", "not as JSON text")
    err = bad("ens", "DescribeVSwitches", { EnsRegionIds = '["cn-a"]' })
    assert_message(err, "parameter EnsRegionIds", "not as JSON text")
  end)

  it("joins a simple-style list with commas (ENS DescribeHistoryEvents)", function()
    local q = ok("ens", "DescribeHistoryEvents", { EventTypes = { "a", "b" }, EventLevels = { "CRITICAL" },
      ResourceIds = {}, PageSize = 10 })
    assert.are.same({ EventTypes = "a,b", EventLevels = "CRITICAL", PageSize = "10" }, q)
    assert_message(bad("ens", "DescribeHistoryEvents", { EventTypes = { { "a" } } }), "parameter EventTypes.1",
      "comma-joined")
    assert_message(bad("ens", "DescribeHistoryEvents", { EventTypes = "a" }), "parameter EventTypes",
      "comma-joined string")
  end)

  it("sends a table given for a String parameter as its JSON text", function()
    local q = ok("ecs", "DescribeDisks", { RegionId = "r", DiskIds = { "d-1", "d-2" } })
    assert.are.equal('["d-1","d-2"]', q.DiskIds)
    q = ok("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c-1", InstanceId = { "i-1" },
      Parameters = { name = "Jack", count = 3 } })
    assert.are.equal('{"count":3,"name":"Jack"}', q.Parameters)
    assert.are.equal("i-1", q["InstanceId.1"])
    -- json markers decide the shape of empty tables
    q = ok("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c-1", Parameters = json.object {} })
    assert.are.equal("{}", q.Parameters)
  end)

  it("sends numbers and booleans given for a String parameter as text", function()
    local q = ok("ecs", "DescribeDisks", { RegionId = "r", DiskName = 12, ZoneId = true, Category = 1.5 })
    assert.are.same({ RegionId = "r", DiskName = "12", ZoneId = "true", Category = "1.5" }, q)
  end)

  it("sends Booleans as true/false and takes those two strings", function()
    local q = ok("ecs", "DescribeDisks", { RegionId = "r", Portable = true, Encrypted = false, DryRun = "true",
      EnableShared = "false" })
    assert.are.same({ RegionId = "r", Portable = "true", Encrypted = "false", DryRun = "true", EnableShared = "false" }, q)
  end)

  it("sends Integer and Long without a fraction", function()
    local q = ok("ecs", "DescribeDisks", { RegionId = "r", PageSize = 50.0, PageNumber = "7", MaxResults = 2 ^ 53 })
    assert.are.same({ RegionId = "r", PageSize = "50", PageNumber = "7", MaxResults = "9007199254740992" }, q)
    local mi = math.tointeger and math.tointeger(2 ^ 62)
    if mi then -- Lua 5.3+: a 64-bit integer goes out exactly
      q = ok("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c", Timeout = mi })
      assert.are.equal("4611686018427387904", q.Timeout)
    end
    q = ok("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c", Timeout = -3 })
    assert.are.equal("-3", q.Timeout)
  end)

  it("sends Float and Double in the shortest form that reads back the same", function()
    local cases = {
      { 0.1, "0.1" }, { 2.0, "2" }, { 1 / 3, "0.3333333333333333" }, { 1e-7, "1e-07" },
      { 123.456, "123.456" }, { -0.5, "-0.5" }, { 0.30000000000000004, "0.30000000000000004" },
    }
    for _, c in ipairs(cases) do
      local q = clt_query { SpotPriceLimit = c[1] }
      assert.are.equal(c[2], q.SpotPriceLimit)
      assert.are.equal(c[1], tonumber(q.SpotPriceLimit))
    end
    assert.are.equal("1.5e3", clt_query { SpotPriceLimit = "1.5e3" }.SpotPriceLimit)
    -- Double inside list items
    local q = ok("ecs", "CreateAutoProvisioningGroup", { RegionId = "r", TotalTargetCapacity = "1",
      LaunchTemplateConfig = { { InstanceType = "ecs.g6.large", MaxPrice = 0.25, WeightedCapacity = 2 } } })
    assert.are.equal("0.25", q["LaunchTemplateConfig.1.MaxPrice"])
    assert.are.equal("2", q["LaunchTemplateConfig.1.WeightedCapacity"])
  end)

  it("round-trips number_text for awkward values", function()
    for _, n in ipairs { 0.1, 1e300, -1e-300, 5e-324, 2 ^ 60 + 0.0, 1e21, 9007199254740993 / 3 } do
      assert.are.equal(n, tonumber(params.number_text(n)))
      assert.is_nil(params.number_text(n):find("%.0$"))
    end
  end)

  it("puts Body parameters in the body and the rest in the query", function()
    local q, b = ok("ens", "RescaleDeviceService", {
      RescaleLevel = "AreaIspCode", RescaleType = "Add", ServiceId = "s-1", Timeout = 30,
      ResourceSelector = { { regionCode = "cn-shanghai", count = 1 } },
      ResourceInfo = "{}",
    })
    assert.are.same({ RescaleLevel = "AreaIspCode", RescaleType = "Add", ServiceId = "s-1", Timeout = "30" }, q)
    assert.are.same({ ResourceSelector = '[{"count":1,"regionCode":"cn-shanghai"}]', ResourceInfo = "{}" }, b)
    q, b = ok("ens", "ReinitInstance", { InstanceId = "i-1", ImageId = "m-1" })
    assert.are.same({}, q)
    assert.are.same({ InstanceId = "i-1", ImageId = "m-1" }, b)
  end)

  it("is deterministic", function()
    local values = clt { Tag = { { Key = "a", Value = "b" } }, ImageOptions = { Z = 1, A = { 2, 3 } },
      UserData = { x = { 1, 2 }, a = "b" } }
    local q1 = ok("ecs", "CreateLaunchTemplate", values)
    for _ = 1, 5 do assert.are.same(q1, ok("ecs", "CreateLaunchTemplate", values)) end
    assert.are.equal('{"a":"b","x":[1,2]}', q1.UserData)
    -- with several problems, the same one is reported every time (keys are walked sorted)
    local e1 = bad("ecs", "CreateLaunchTemplate", clt { Zzz = 1, Aaa = 2, Mmm = 3 })
    for _ = 1, 5 do
      assert.are.equal(e1.message, bad("ecs", "CreateLaunchTemplate", clt { Zzz = 1, Aaa = 2, Mmm = 3 }).message)
    end
    assert_message(e1, "Aaa")
  end)

  it("does not change the caller's table", function()
    local values = clt { Tag = { { Key = "a" } }, SystemDisk = { Size = 40 } }
    ok("ecs", "CreateLaunchTemplate", values)
    assert.are.same(clt { Tag = { { Key = "a" } }, SystemDisk = { Size = 40 } }, values)
  end)

  describe("for an action the tables do not know", function()
    it("flattens everything generically into the query", function()
      local w = assert(params.prepare("ecs", "BrandNewAction", nil, {
        S = "x", B = false, I = 3, F = 4.0, R = 0.5,
        L = { "a", "b" }, T = { { Key = "k" } }, M = { Inner = { Deep = 1 } },
      }))
      assert.are.same({
        S = "x", B = "false", I = "3", F = "4", R = "0.5",
        ["L.1"] = "a", ["L.2"] = "b", ["T.1.Key"] = "k", ["M.Inner.Deep"] = "1",
      }, w.query)
      assert.are.same({}, w.body)
    end)

    it("still refuses what has no wire form", function()
      local w, err = params.prepare("ecs", "BrandNewAction", nil, { F = function() end })
      assert.is_nil(w)
      assert.are.equal("validation", err.kind)
      assert_message(err, "parameter F", "function")
      w, err = params.prepare("ecs", "BrandNewAction", nil, { N = 0 / 0 })
      assert.is_nil(w)
      assert_message(err, "parameter N", "NaN")
    end)
  end)
end)

describe("params validation", function()
  it("names the action and the parameter in every error", function()
    local err = bad("ecs", "CreateLaunchTemplate", clt { DataDisk = { { Size = 40 }, { Size = "big" } } })
    assert.are.equal("DataDisk.2.Size", err.details.parameter)
    assert.is_string(err.details.expected)
    assert_message(err, "DataDisk.2.Size", "Integer", '"big"')
    assert.truthy(tostring(err):find("CreateLaunchTemplate", 1, true))
    assert.truthy(tostring(err):find("validation", 1, true))
  end)

  describe("unknown parameters", function()
    it("suggests the nearest names", function()
      local err = bad("ecs", "DescribeDisks", { RegionId = "r", PageSise = 10 })
      assert_message(err, "unknown parameter PageSise", "did you mean PageSize")
      err = bad("ecs", "DescribeDisks", { regionid = "r" })
      assert_message(err, "unknown parameter regionid", "did you mean RegionId")
      assert.are.equal("regionid", err.details.parameter)
    end)

    it("suggests a dotted name's prefix", function()
      local err = bad("ecs", "CreateLaunchTemplate", clt { SystemDisc = { Category = "x" } })
      assert_message(err, "unknown parameter SystemDisc", "did you mean SystemDisk")
    end)

    it("lists the parameters when nothing is near and there are few", function()
      local err = bad("ecs", "DescribeRegions", { RegionId = "cn-hangzhou" })
      assert_message(err, "unknown parameter RegionId", "AcceptLanguage, InstanceChargeType, ResourceType")
    end)

    it("checks the fields of list items", function()
      local err = bad("ecs", "CreateLaunchTemplate", clt { DataDisk = { { Size = 1 }, { Sise = 40 } } })
      assert_message(err, "unknown parameter DataDisk.2.Sise", "did you mean DataDisk.2.Size")
      assert.are.equal("DataDisk.2.Sise", err.details.parameter)
    end)

    it("checks the fields of nested dotted names", function()
      local err = bad("ecs", "CreateLaunchTemplate", clt { SystemDisk = { Categroy = "cloud" } })
      assert_message(err, "unknown parameter SystemDisk.Categroy", "did you mean SystemDisk.Category")
      err = bad("ecs", "CreateLaunchTemplate", clt { ["SystemDisk.Categroy"] = "cloud" })
      assert_message(err, "unknown parameter SystemDisk.Categroy", "SystemDisk.Category")
    end)

    it("refuses a list index beyond what the metadata numbers", function()
      local err = bad("ecs", "DescribeDisks", { RegionId = "r", Filter = { {}, {}, { Key = "x" } } })
      assert_message(err, "unknown parameter Filter.3")
    end)
  end)

  describe("required parameters", function()
    it("reports a missing one with its type", function()
      local err = bad("ecs", "CreateLaunchTemplate", { RegionId = "r" })
      assert_message(err, "missing required parameter LaunchTemplateName (String)")
      assert.are.equal("LaunchTemplateName", err.details.parameter)
    end)

    it("takes a required dotted name flat or nested", function()
      ok("ecs", "DescribeCapacityReservationInstances", { RegionId = "r", ["PrivatePoolOptions.Id"] = "crp-1" })
      local q = ok("ecs", "DescribeCapacityReservationInstances", { RegionId = "r", PrivatePoolOptions = { Id = "crp-1" } })
      assert.are.equal("crp-1", q["PrivatePoolOptions.Id"])
      local err = bad("ecs", "DescribeCapacityReservationInstances", { RegionId = "r" })
      assert_message(err, "missing required parameter PrivatePoolOptions.Id")
    end)

    it("checks required fields in every list item", function()
      ok("ecs", "TagResources", { RegionId = "r", ResourceType = "instance", ResourceId = { "i-1" },
        Tag = { { Key = "a", Value = "1" } } })
      local err = bad("ecs", "TagResources", { RegionId = "r", ResourceType = "instance", ResourceId = { "i-1" },
        Tag = { { Key = "a", Value = "1" }, { Key = "b" } } })
      assert_message(err, "missing required parameter Tag.2.Value")
      assert.are.equal("Tag.2.Value", err.details.parameter)
    end)

    it("does not take an empty list for a required one", function()
      local err = bad("ecs", "TagResources", { RegionId = "r", ResourceType = "instance", ResourceId = {},
        Tag = { { Key = "a", Value = "1" } } })
      assert_message(err, "parameter ResourceId", "required")
    end)
  end)

  describe("wrong types", function()
    it("refuses a non-numeric string for Integer, Long, Float", function()
      assert_message(bad("ecs", "DescribeDisks", { RegionId = "r", PageSize = "ten" }),
        "parameter PageSize", "expected an Integer", '"ten"')
      assert_message(bad("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c", Timeout = "1h" }),
        "parameter Timeout", "Long")
      assert_message(bad("ecs", "CreateLaunchTemplate", clt { SpotPriceLimit = "cheap" }),
        "parameter SpotPriceLimit", "Float")
      for _, s in ipairs { "0x10", "inf", "nan", "1.5.2", "", " 1" } do
        bad("ecs", "CreateLaunchTemplate", clt { SpotPriceLimit = s })
      end
      for _, s in ipairs { "1.5", "1e3", "", "+" } do
        bad("ecs", "DescribeDisks", { RegionId = "r", PageSize = s })
      end
    end)

    it("refuses a fractional number for Integer and Long", function()
      local err = bad("ecs", "DescribeDisks", { RegionId = "r", PageSize = 10.5 })
      assert_message(err, "parameter PageSize", "Integer", "10.5", "fractional")
      bad("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c", Timeout = 0.1 })
    end)

    it("refuses NaN and infinities", function()
      assert_message(bad("ecs", "DescribeDisks", { RegionId = "r", PageSize = 0 / 0 }), "parameter PageSize", "NaN")
      assert_message(bad("ecs", "DescribeDisks", { RegionId = "r", PageSize = math.huge }), "parameter PageSize")
      assert_message(bad("ecs", "CreateLaunchTemplate", clt { SpotPriceLimit = -math.huge }), "SpotPriceLimit")
      assert_message(bad("ecs", "CreateLaunchTemplate", clt { SpotPriceLimit = 0 / 0 }), "SpotPriceLimit")
    end)

    it("refuses a float integer beyond 2^53 for Integer and Long", function()
      local err = bad("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c", Timeout = 2.0 ^ 60 })
      assert_message(err, "parameter Timeout", "2^53")
    end)

    it("refuses a non-boolean for Boolean", function()
      for _, v in ipairs { 1, 0, "yes", "True", "1", {} } do
        local err = bad("ecs", "DescribeDisks", { RegionId = "r", Portable = v })
        assert_message(err, "parameter Portable", "expected a Boolean")
      end
    end)

    it("refuses a non-table for RepeatList", function()
      local err = bad("ecs", "CreateLaunchTemplate", clt { SecurityGroupIds = "sg-1" })
      assert_message(err, "parameter SecurityGroupIds", "RepeatList", '"sg-1"')
      err = bad("ecs", "CreateLaunchTemplate", clt { NetworkInterface = { { SecurityGroupIds = "sg-1" } } })
      assert_message(err, "parameter NetworkInterface.1.SecurityGroupIds", "RepeatList")
    end)

    it("refuses a sparse or keyed table for RepeatList, naming the key", function()
      local err = bad("ecs", "CreateLaunchTemplate", clt { SecurityGroupIds = { "sg-1", nil, "sg-3" } })
      assert_message(err, "parameter SecurityGroupIds", "a hole at index 2")
      err = bad("ecs", "CreateLaunchTemplate", clt { Tag = { Key = "a", Value = "b" } })
      assert_message(err, "parameter Tag", "Lua array", '"Key"')
    end)

    it("refuses a list item that is not a table in a list of objects", function()
      local err = bad("ecs", "CreateLaunchTemplate", clt { DataDisk = { "cloud" } })
      assert_message(err, "parameter DataDisk.1", "expected a table with the fields", "Size")
    end)

    it("refuses a non-table for Struct and for a dotted prefix", function()
      assert_message(bad("ecs", "CreateLaunchTemplate", clt { ImageOptions = "x" }), "parameter ImageOptions", "Struct")
      assert_message(bad("ecs", "CreateLaunchTemplate", clt { SystemDisk = "cloud" }), "parameter SystemDisk",
        "Category")
    end)

    it("refuses a number or boolean for Json", function()
      assert_message(bad("ens", "BatchEventRedeployInstance", { EventInfos = 3 }), "parameter EventInfos", "JSON")
    end)

    it("refuses values with no wire form", function()
      assert_message(bad("ecs", "DescribeDisks", { RegionId = "r", DiskName = print }), "parameter DiskName")
      assert_message(bad("ecs", "DescribeDisks", { RegionId = "r", DiskIds = { print } }),
        "parameter DiskIds", "JSON")
      local t = {}
      t.self = t
      assert_message(bad("ecs", "CreateLaunchTemplate", clt { ImageOptions = t }), "ImageOptions", "contains itself")
    end)

    it("refuses the same wire name given flat and nested", function()
      local err = bad("ecs", "CreateLaunchTemplate", clt { SystemDisk = { Size = 40 }, ["SystemDisk.Size"] = 40 })
      assert_message(err, "parameter SystemDisk.Size", "twice")
    end)

    it("refuses parameter names that are not strings", function()
      local err = bad("ecs", "DescribeDisks", { "r" })
      assert_message(err, "parameter names must be strings")
    end)
  end)

  describe("values whose meaning Lua cannot tell", function()
    -- each is refused with validation on and off: what would go out is not what was meant
    local function refused(product, action, values, ...)
      for _, opts in ipairs { {}, { validate = false } } do
        local err = bad(product, action, values, opts)
        assert_message(err, ...)
      end
    end

    it("a list with holes, wherever it goes", function()
      refused("ecs", "DescribeDisks", { RegionId = "r", DiskIds = { "d-1", nil, "d-3" } },
        "parameter DiskIds", "hole at index 2")
      refused("ens", "BatchEventRedeployInstance", { EventInfos = { { EventId = "e" }, nil, { EventId = "f" } } },
        "parameter EventInfos", "hole at index 2")
      refused("ecs", "CreateLaunchTemplate", clt { Tag = { { Key = "a" }, [3] = { Key = "b" } } },
        "parameter Tag", "hole at index 2")
      refused("ens", "DescribeHistoryEvents", { EventTypes = { [2] = "x" } }, "parameter EventTypes", "hole at index 1")
      local err = bad("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c",
        Parameters = { list = { 1, nil, 3 } } })
      assert_message(err, "parameter Parameters.list", "hole at index 2")
      assert.are.equal("Parameters.list", err.details.parameter)
    end)

    it("a table whose entries come from metamethods", function()
      local proxy = setmetatable({}, { __index = function(_, i) if i == 1 then return "d-1" end end,
        __len = function() return 1 end })
      refused("ecs", "DescribeDisks", { RegionId = "r", DiskIds = proxy }, "parameter DiskIds", "metatable", "__index")
      refused("ecs", "CreateLaunchTemplate", clt { SecurityGroupIds = setmetatable({}, { __len = function() return 2 end }) },
        "parameter SecurityGroupIds", "__len")
      refused("ecs", "CreateLaunchTemplate", clt { Tag = { setmetatable({}, { __pairs = function() return next, {} end }) } },
        "parameter Tag.1", "__pairs")
      -- the parameter table itself: the required RegionId would seem present, and not be sent
      local values = setmetatable({ DiskName = "x" }, { __index = { RegionId = "r" } })
      refused("ecs", "DescribeDisks", values, "parameter table", "__index")
      -- a metatable that only names a shape is fine
      local q = ok("ecs", "InvokeCommand", { RegionId = "r", CommandId = "c", Parameters = json.object {} })
      assert.are.equal("{}", q.Parameters)
    end)

    it("a table that contains itself", function()
      local t = { Key = "a" }
      t.again = { t }
      refused("ecs", "DescribeDisks", { RegionId = "r", DiskIds = { t } }, "parameter DiskIds.1.again.1", "contains itself")
      local u = {}
      u[1] = u
      refused("ecs", "CreateLaunchTemplate", clt { SecurityGroupIds = u }, "parameter SecurityGroupIds.1", "contains itself")
      -- the same table twice is not a cycle
      local shared = { "sg-1" }
      ok("ecs", "CreateLaunchTemplate", clt { SecurityGroupIds = shared, NetworkInterface = { { SecurityGroupIds = shared } } })
    end)

    it("list items mixed with named fields, and keys that are neither", function()
      refused("ecs", "DescribeDisks", { RegionId = "r", DiskIds = { "d-1", Name = "x" } }, "parameter DiskIds",
        "mixes list items", '"Name"')
      refused("ecs", "DescribeDisks", { RegionId = "r", DiskIds = { [0] = "d-0" } }, "parameter DiskIds", "the key 0")
      refused("ecs", "DescribeDisks", { RegionId = "r", DiskIds = { [true] = "d" } }, "parameter DiskIds", "the key true")
    end)
  end)

  describe("validate = false", function()
    it("passes unknown names and wrong types through, serialised by type where it can", function()
      local q = ok("ecs", "CreateLaunchTemplate", {
        RegionId = "r", NotInTheTables = { 1, 2 }, PageSise = 3,
        SecurityGroupIds = "sg-1", DataDisk = { { Size = "big", Extra = true } },
        SystemDisk = { Category = "c", NewField = 1 },
        AutoRenewPeriod = 1.5, AutoRenew = "yes",
      }, { validate = false })
      assert.are.same({
        RegionId = "r", ["NotInTheTables.1"] = "1", ["NotInTheTables.2"] = "2", PageSise = "3",
        ["SecurityGroupIds.1"] = "sg-1", ["DataDisk.1.Size"] = "big", ["DataDisk.1.Extra"] = "true",
        ["SystemDisk.Category"] = "c", ["SystemDisk.NewField"] = "1",
        AutoRenewPeriod = "1.5", AutoRenew = "yes",
      }, q)
    end)

    it("does not require required parameters", function()
      local q = ok("ecs", "CreateLaunchTemplate", {}, { validate = false })
      assert.are.same({}, q)
    end)

    it("still puts Body parameters in the body", function()
      local _, b = ok("ens", "RescaleDeviceService", { ResourceSelector = { { a = 1 } } }, { validate = false })
      assert.are.same({ ResourceSelector = '[{"a":1}]' }, b)
    end)

    local function capture_client(opts)
      return wire.client("ecs", opts)
    end

    it("is honoured as a client option", function()
      local c, last = capture_client { validate = false }
      local res, err = c:DescribeDisks { RegionId = "cn-hangzhou", NewFilter = "x" }
      assert(res, tostring(err))
      local sent = wire.split(last())
      assert.are.equal("x", sent.params.NewFilter)
      -- and a call can turn it back on
      res, err = c:DescribeDisks({ RegionId = "cn-hangzhou", NewFilter = "x" }, { validate = true })
      assert.is_nil(res)
      assert.are.equal("validation", err.kind)
      assert.is_nil(last())
    end)

    it("is honoured as a call option", function()
      local c, last = capture_client()
      local res, err = c:DescribeDisks { RegionId = "cn-hangzhou", NewFilter = "x" }
      assert.is_nil(res)
      assert.are.equal("validation", err.kind)
      assert.are.equal("DescribeDisks", err.action)
      assert.is_nil(last(), "nothing is sent when validation fails")
      res, err = c:DescribeDisks({ RegionId = "cn-hangzhou", NewFilter = "x" }, { validate = false })
      assert(res, tostring(err))
      assert.are.equal("x", wire.split(last()).params.NewFilter)
      res, err = c:call("DescribeDisks", { RegionId = "cn-hangzhou", PageSize = "many" }, { validate = false })
      assert(res, tostring(err))
      assert.are.equal("many", wire.split(last()).params.PageSize)
    end)
  end)
end)

describe("params' flat fast path", function()
  -- Values of every scalar kind, and a few that must leave the fast path.
  local function sample(p, i)
    local t = p.type
    if t == "String" then return ({ "text", 42, true, "a b&c=d/é" })[i % 4 + 1] end
    if t == "Integer" or t == "Long" then return ({ 7, "123", "-5", "12x", 1.5 })[i % 5 + 1] end
    if t == "Boolean" then return ({ true, false, "true", "yes" })[i % 4 + 1] end
    if t == "Float" or t == "Double" then return ({ 1.25, "2.5" })[i % 2 + 1] end
    return nil
  end

  -- Compares prepare (fast path first) with the full walk: the same wire form, or the same
  -- error message.
  local function same(product, action, values, opts)
    local entry = api.find(product, action)
    local a, aerr = params.prepare(product, action, entry, values, opts)
    local b, berr = params.walk(product, action, entry, values, opts)
    assert.are.same(b, a, action)
    assert.are.equal(berr and berr.message, aerr and aerr.message, action)
  end

  it("gives what the full walk gives, for every action of both products", function()
    local n = 0
    for _, product in ipairs { "ecs", "ens" } do
      for _, action in ipairs(api.actions(product)) do
        local entry = api.find(product, action)
        for round = 0, 4 do
          local values = {}
          for i, p in ipairs(entry.params or {}) do
            -- every round leaves some parameters out, so that required ones go missing too
            if (i + round) % 3 ~= 0 and not p.name:find("%.") then values[p.name] = sample(p, i + round) end
          end
          same(product, action, values)
          same(product, action, values, { validate = false })
          n = n + 1
        end
      end
    end
    assert.is_true(n > 3000)
  end)

  it("leaves unknown names, tables and floats to the walk", function()
    same("ecs", "DescribeInstances", { RegionId = "cn-hangzhou", PageSize = 2.5 })
    same("ecs", "DescribeInstances", { RegionId = "cn-hangzhou", Regionid = "x" })
    same("ecs", "DescribeInstances", { RegionId = "cn-hangzhou", Tag = { { Key = "k", Value = "v" } } })
    same("ecs", "DescribeInstances", { RegionId = "cn-hangzhou", PageSize = 0 / 0 })
  end)
end)

-- #core: also run under LuaJIT (make test-luajit), whose numbers are all doubles.
describe("params.query_only #core", function()
  it("takes integral numbers on the fast path, under LuaJIT too", function()
    local entry = api.load("ecs").actions.DescribeInstances
    local q = params.query_only(entry, { RegionId = "cn-hangzhou", PageSize = 100 })
    assert.are.same({ RegionId = "cn-hangzhou", PageSize = "100" }, q)
    assert.is_nil(params.query_only(entry, { RegionId = "cn-hangzhou", PageSize = 100.5 }))
  end)
end)
