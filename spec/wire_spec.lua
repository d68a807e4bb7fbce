-- Wire specs: every action documented in the seeds, called the natural Lua way with the
-- document's own request example, through the real client; the request the transport
-- receives is taken apart again and its parameters compared exactly.
--
-- ECS: the request examples of sections 6-9 of seeds/002_e05a04530884660d.txt (OCR text:
-- names are spelt as ../shared/api-meta spells them, values de-garbled) and DescribeRegions
-- (section 4.4). ENS: the per-parameter examples of seeds 000, 001, 003 and 004.
local cjson = require "cjson"
local core = require "aliyun.core"
local wire = require "support.wire"

local VERSION = { ecs = "2014-05-26", ens = "2017-11-10" }

-- One documented call: product, action, the Lua call, the exact wire parameters (without
-- the common ones), and which of them travel in the form body.
local CASES = {}

local function case(t)
  CASES[#CASES + 1] = t
end

------------------------------------------------------------------------------------------
-- ECS 6.x launch templates

case {
  product = "ecs", action = "CreateLaunchTemplate", doc = "6.1",
  call = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", InstanceType = "ecs.cm4.6xlarge",
    SecurityGroupId = "sg-securitygroupid" },
  wire = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", InstanceType = "ecs.cm4.6xlarge",
    SecurityGroupId = "sg-securitygroupid" },
}

-- the same page's parameter table: disks, interfaces, tags, security groups
case {
  product = "ecs", action = "CreateLaunchTemplate", doc = "6.1, with lists and nested fields",
  call = {
    RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", InstanceType = "ecs.cm4.6xlarge",
    ImageId = "m-myimage1",
    SecurityGroupIds = { "sg-securitygroupid", "sg-second" },
    SystemDisk = { Category = "cloud_essd", Size = 40, PerformanceLevel = "PL1", DeleteWithInstance = true },
    DataDisk = {
      { Category = "cloud_efficiency", Size = 100, DeleteWithInstance = false, Device = "/dev/xvdb" },
      { SnapshotId = "s-snapshot1", Size = 2000.0, Encrypted = "true", ProvisionedIops = 50000 },
    },
    NetworkInterface = {
      { VSwitchId = "vsw-1", SecurityGroupIds = { "sg-1", "sg-2" }, PrimaryIpAddress = "192.168.1.10" },
      { VSwitchId = "vsw-2", SecurityGroupId = "sg-3", NetworkInterfaceName = "eni-two" },
    },
    Tag = { { Key = "env", Value = "prod" }, { Key = "team", Value = "core" } },
    InternetMaxBandwidthOut = 10, SpotPriceLimit = 0.97, SpotStrategy = "SpotWithPriceLimit",
  },
  wire = {
    RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", InstanceType = "ecs.cm4.6xlarge",
    ImageId = "m-myimage1",
    ["SecurityGroupIds.1"] = "sg-securitygroupid", ["SecurityGroupIds.2"] = "sg-second",
    ["SystemDisk.Category"] = "cloud_essd", ["SystemDisk.Size"] = "40", ["SystemDisk.PerformanceLevel"] = "PL1",
    ["SystemDisk.DeleteWithInstance"] = "true",
    ["DataDisk.1.Category"] = "cloud_efficiency", ["DataDisk.1.Size"] = "100",
    ["DataDisk.1.DeleteWithInstance"] = "false", ["DataDisk.1.Device"] = "/dev/xvdb",
    ["DataDisk.2.SnapshotId"] = "s-snapshot1", ["DataDisk.2.Size"] = "2000", ["DataDisk.2.Encrypted"] = "true",
    ["DataDisk.2.ProvisionedIops"] = "50000",
    ["NetworkInterface.1.VSwitchId"] = "vsw-1",
    ["NetworkInterface.1.SecurityGroupIds.1"] = "sg-1", ["NetworkInterface.1.SecurityGroupIds.2"] = "sg-2",
    ["NetworkInterface.1.PrimaryIpAddress"] = "192.168.1.10",
    ["NetworkInterface.2.VSwitchId"] = "vsw-2", ["NetworkInterface.2.SecurityGroupId"] = "sg-3",
    ["NetworkInterface.2.NetworkInterfaceName"] = "eni-two",
    ["Tag.1.Key"] = "env", ["Tag.1.Value"] = "prod", ["Tag.2.Key"] = "team", ["Tag.2.Value"] = "core",
    InternetMaxBandwidthOut = "10", SpotPriceLimit = "0.97", SpotStrategy = "SpotWithPriceLimit",
  },
}

case {
  product = "ecs", action = "CreateLaunchTemplateVersion", doc = "6.2",
  call = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", InstanceType = "ecs.cm4.6xlarge",
    SecurityGroupId = "sg-securitygroupid" },
  wire = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", InstanceType = "ecs.cm4.6xlarge",
    SecurityGroupId = "sg-securitygroupid" },
}

case {
  product = "ecs", action = "DeleteLaunchTemplate", doc = "6.3",
  call = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1" },
  wire = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1" },
}

case {
  product = "ecs", action = "DeleteLaunchTemplateVersion", doc = "6.4",
  call = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", DeleteVersion = { 1 } },
  wire = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", ["DeleteVersion.1"] = "1" },
}

case {
  product = "ecs", action = "DescribeLaunchTemplates", doc = "6.5",
  call = { RegionId = "cn-hangzhou" },
  wire = { RegionId = "cn-hangzhou" },
}

case {
  product = "ecs", action = "DescribeLaunchTemplateVersions", doc = "6.6",
  call = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1" },
  wire = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1" },
}

case {
  product = "ecs", action = "ModifyLaunchTemplateDefaultVersion", doc = "6.7",
  call = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", DefaultVersionNumber = 2 },
  wire = { RegionId = "cn-hangzhou", LaunchTemplateName = "lt-name1", DefaultVersionNumber = "2" },
}

------------------------------------------------------------------------------------------
-- ECS 7.x disks

case {
  product = "ecs", action = "CreateDisk", doc = "7.1",
  call = { RegionId = "cn-qingdao", ZoneId = "cn-qingdao-b", Size = 200, DiskName = "ThisIsDiskName",
    Description = "ThisIsDescription" },
  wire = { RegionId = "cn-qingdao", ZoneId = "cn-qingdao-b", Size = "200", DiskName = "ThisIsDiskName",
    Description = "ThisIsDescription" },
}

case {
  product = "ecs", action = "DeleteDisk", doc = "7.2",
  call = { DiskId = "d-23jbf2v5m" },
  wire = { DiskId = "d-23jbf2v5m" },
}

case {
  product = "ecs", action = "DescribeDisks", doc = "7.3",
  call = { RegionId = "cn-qingdao", PageNumber = 1, ZoneId = "cn-qingdao-b" },
  wire = { RegionId = "cn-qingdao", PageNumber = "1", ZoneId = "cn-qingdao-b" },
}

case {
  product = "ecs", action = "AttachDisk", doc = "7.4",
  call = { InstanceId = "i-23jggx34b", DiskId = "d-23jbf2v5m" },
  wire = { InstanceId = "i-23jggx34b", DiskId = "d-23jbf2v5m" },
}

case {
  product = "ecs", action = "DetachDisk", doc = "7.5",
  call = { InstanceId = "i-23jggx34b", DiskId = "d-23jbf2v5m" },
  wire = { InstanceId = "i-23jggx34b", DiskId = "d-23jbf2v5m" },
}

-- DiskIds is a String holding a JSON array: written as a Lua list
case {
  product = "ecs", action = "ModifyDiskChargeType", doc = "7.6",
  call = { RegionId = "cn-hangzhou", DiskIds = { "d-xxxxx1", "d-xxxxx2" }, InstanceId = "i-xxxxx1",
    AutoPay = false, ClientToken = "XXXXXXXXXXXXXX" },
  wire = { RegionId = "cn-hangzhou", DiskIds = '["d-xxxxx1","d-xxxxx2"]', InstanceId = "i-xxxxx1",
    AutoPay = "false", ClientToken = "XXXXXXXXXXXXXX" },
}

case {
  product = "ecs", action = "ModifyDiskAttribute", doc = "7.7",
  call = { DiskId = "d-23jbf2v5m", DiskName = "MyDiskName" },
  wire = { DiskId = "d-23jbf2v5m", DiskName = "MyDiskName" },
}

case {
  product = "ecs", action = "ReplaceSystemDisk", doc = "7.8",
  call = { InstanceId = "i-23jggx34b", ImageId = "m-myimage1" },
  wire = { InstanceId = "i-23jggx34b", ImageId = "m-myimage1" },
}

case {
  product = "ecs", action = "ReInitDisk", doc = "7.9",
  call = { DiskId = "d-23jbf2v5m" },
  wire = { DiskId = "d-23jbf2v5m" },
}

case {
  product = "ecs", action = "ResetDisk", doc = "7.10",
  call = { DiskId = "d-23jbf2v5m", SnapshotId = "s-snapshot1" },
  wire = { DiskId = "d-23jbf2v5m", SnapshotId = "s-snapshot1" },
}

case {
  product = "ecs", action = "ResizeDisk", doc = "7.11",
  call = { DiskId = "d-xxx", NewSize = 1024 },
  wire = { DiskId = "d-xxx", NewSize = "1024" },
}

------------------------------------------------------------------------------------------
-- ECS 8.x monitoring

-- the example omits RegionId, which the metadata says is required
case {
  product = "ecs", action = "DescribeEniMonitorData", doc = "8.1 (plus the required RegionId)",
  call = { RegionId = "cn-hangzhou", EniId = "eni-myENI", InstanceId = "myInstance",
    StartTime = "2018-05-21T12:19:00Z", EndTime = "2018-05-21T12:22:00Z" },
  wire = { RegionId = "cn-hangzhou", EniId = "eni-myENI", InstanceId = "myInstance",
    StartTime = "2018-05-21T12:19:00Z", EndTime = "2018-05-21T12:22:00Z" },
}

case {
  product = "ecs", action = "DescribeDiskMonitorData", doc = "8.2",
  call = { DiskId = "d-mydisk001", StartTime = "2014-07-23T12:07:00Z", EndTime = "2014-07-23T12:09:00Z" },
  wire = { DiskId = "d-mydisk001", StartTime = "2014-07-23T12:07:00Z", EndTime = "2014-07-23T12:09:00Z" },
}

case {
  product = "ecs", action = "DescribeInstancesFullStatus", doc = "8.3",
  call = { RegionId = "cn-hangzhou" },
  wire = { RegionId = "cn-hangzhou" },
}

case {
  product = "ecs", action = "DescribeInstanceHistoryEvents", doc = "8.4",
  call = { RegionId = "cn-hangzhou", InstanceId = "i-2ze3tphugvc93cixxxx3" },
  wire = { RegionId = "cn-hangzhou", InstanceId = "i-2ze3tphugvc93cixxxx3" },
}

case {
  product = "ecs", action = "DescribeInstanceMonitorData", doc = "8.5",
  call = { InstanceId = "i-instance1", StartTime = "2014-10-29T23:00:00Z", EndTime = "2014-10-30T08:00:00Z" },
  wire = { InstanceId = "i-instance1", StartTime = "2014-10-29T23:00:00Z", EndTime = "2014-10-30T08:00:00Z" },
}

case {
  product = "ecs", action = "DescribeInstanceMonitorData", doc = "8.5, with Period",
  call = { InstanceId = "i-instance1", StartTime = "2014-10-29T23:00:00Z", EndTime = "2014-10-30T08:00:00Z",
    Period = 3600 },
  wire = { InstanceId = "i-instance1", StartTime = "2014-10-29T23:00:00Z", EndTime = "2014-10-30T08:00:00Z",
    Period = "3600" },
}

case {
  product = "ecs", action = "GetInstanceScreenshot", doc = "8.6",
  call = { RegionId = "cn-shenzhen", InstanceId = "i-j5e42sbbthlokkalleci", WakeUp = false },
  wire = { RegionId = "cn-shenzhen", InstanceId = "i-j5e42sbbthlokkalleci", WakeUp = "false" },
}

case {
  product = "ecs", action = "GetInstanceConsoleOutput", doc = "8.7",
  call = { RegionId = "cn-shenzhen-finance-1", InstanceId = "i-j5e42sbbthlokkalleci" },
  wire = { RegionId = "cn-shenzhen-finance-1", InstanceId = "i-j5e42sbbthlokkalleci" },
}

------------------------------------------------------------------------------------------
-- ECS 9.x cloud assistant

case {
  product = "ecs", action = "CreateCommand", doc = "9.1",
  call = { RegionId = "cn-hangzhou", Name = "Test", Type = "RunShellScript", CommandContent = "ZWNobyAxMjM=" },
  wire = { RegionId = "cn-hangzhou", Name = "Test", Type = "RunShellScript", CommandContent = "ZWNobyAxMjM=" },
}

-- the document's InstanceIds JSON array is the metadata's InstanceId list
case {
  product = "ecs", action = "InstallCloudAssistant", doc = "9.2",
  call = { RegionId = "cn-hangzhou", InstanceId = { "i-bp11f7trr4hbi1xxxxxx", "i-bp1iudwa5b1tgaxxxxxx" } },
  wire = { RegionId = "cn-hangzhou", ["InstanceId.1"] = "i-bp11f7trr4hbi1xxxxxx",
    ["InstanceId.2"] = "i-bp1iudwa5b1tgaxxxxxx" },
}

case {
  product = "ecs", action = "InvokeCommand", doc = "9.3",
  call = { RegionId = "cn-hangzhou", InstanceId = { "i-bp185dy2o3o6nXXXXXXX" },
    CommandId = "c-e996287206324975b5fbe1dXXXXXXXXX", Timed = true, Frequency = "0 0-5 14 * * ?" },
  wire = { RegionId = "cn-hangzhou", ["InstanceId.1"] = "i-bp185dy2o3o6nXXXXXXX",
    CommandId = "c-e996287206324975b5fbe1dXXXXXXXXX", Timed = "true", Frequency = "0 0-5 14 * * ?" },
}

-- Parameters is a String holding a JSON object: written as a Lua table
case {
  product = "ecs", action = "InvokeCommand", doc = "9.3, with two instances and Parameters",
  call = { RegionId = "cn-hangzhou", InstanceId = { "i-bp185dy2o3o6nXXXXXXX", "i-bp185dy2o3o6nYYYYYYY" },
    CommandId = "c-e996287206324975b5fbe1dXXXXXXXXX", Parameters = { name = "Jack", retries = 3, dirs = { "/a", "/b" } },
    Timeout = 60 },
  wire = { RegionId = "cn-hangzhou", ["InstanceId.1"] = "i-bp185dy2o3o6nXXXXXXX",
    ["InstanceId.2"] = "i-bp185dy2o3o6nYYYYYYY", CommandId = "c-e996287206324975b5fbe1dXXXXXXXXX",
    Parameters = '{"dirs":["/a","/b"],"name":"Jack","retries":3}', Timeout = "60" },
}

case {
  product = "ecs", action = "StopInvocation", doc = "9.4",
  call = { RegionId = "cn-hangzhou", InvokeId = "t-1fad2a8876de47068cc734d57703aa76" },
  wire = { RegionId = "cn-hangzhou", InvokeId = "t-1fad2a8876de47068cc734d57703aa76" },
}

-- the example writes InvokeId; the page and the metadata say CommandId
case {
  product = "ecs", action = "DeleteCommand", doc = "9.5",
  call = { RegionId = "cn-hangzhou", CommandId = "c-f0902c0972984e31aaf2129fd48a9c6d" },
  wire = { RegionId = "cn-hangzhou", CommandId = "c-f0902c0972984e31aaf2129fd48a9c6d" },
}

case {
  product = "ecs", action = "DescribeCloudAssistantStatus", doc = "9.6",
  call = { RegionId = "cn-hangzhou", InstanceId = { "i-bp11f7trr4hbi1xxxxxx", "i-bp1iudwa5b1tgaxxxxxx" } },
  wire = { RegionId = "cn-hangzhou", ["InstanceId.1"] = "i-bp11f7trr4hbi1xxxxxx",
    ["InstanceId.2"] = "i-bp1iudwa5b1tgaxxxxxx" },
}

case {
  product = "ecs", action = "DescribeCommands", doc = "9.7",
  call = { RegionId = "cn-hangzhou" },
  wire = { RegionId = "cn-hangzhou" },
}

case {
  product = "ecs", action = "DescribeInvocations", doc = "9.8",
  call = { RegionId = "cn-hangzhou" },
  wire = { RegionId = "cn-hangzhou" },
}

case {
  product = "ecs", action = "DescribeInvocationResults", doc = "9.9",
  call = { RegionId = "cn-hangzhou" },
  wire = { RegionId = "cn-hangzhou" },
}

case {
  product = "ecs", action = "ModifyCommand", doc = "9.10",
  call = { RegionId = "cn-hangzhou", CommandId = "c-e996287206324975b5fbe1dXXXXXXXXX", Name = "Test",
    Timeout = 120 },
  wire = { RegionId = "cn-hangzhou", CommandId = "c-e996287206324975b5fbe1dXXXXXXXXX", Name = "Test",
    Timeout = "120" },
}

------------------------------------------------------------------------------------------
-- ECS 4.4: DescribeRegions takes no parameters of its own

case {
  product = "ecs", action = "DescribeRegions", doc = "4.4",
  call = {},
  wire = {},
}

case {
  product = "ecs", action = "DescribeRegions", doc = "4.4, with AcceptLanguage",
  call = { AcceptLanguage = "en-US" },
  wire = { AcceptLanguage = "en-US" },
}

------------------------------------------------------------------------------------------
-- ENS

-- seed 000: ServiceCommands, ScheduleStrategy and Directorys are Strings holding JSON
local DOC_SERVICE_COMMANDS = [[[{"containerName": "android", "commands":["cat /tmp/token.json"] }, ]]
  .. [[{ "commands":["ls -l /data/data"] }]
]]
local DOC_SCHEDULE_STRATEGY = [[{"selectLevel": "RegionId", "values": ["cn-chengdu-telecom-2"] }]]
local DOC_DIRECTORYS = [=[["/data/app01", "/data/user"]]=]

case {
  product = "ens", action = "RunServiceSchedule", doc = "seed 000",
  call = {
    AppId = "474bdef0-d149-4695-abfb-52912d9143f0", Uuid = "hdm_d4f1059a8e1afc0956bd71b497faa433",
    ClientIp = "180.166.45.146", ServiceAction = "Start", PodConfigName = "android", PreLockedTimeout = 300,
    Directorys = { "/data/app01", "/data/user" },
    ServiceCommands = {
      { containerName = "android", commands = { "cat /tmp/token.json" } },
      { commands = { "ls -l /data/data" } },
    },
    ScheduleStrategy = { selectLevel = "RegionId", values = { "cn-chengdu-telecom-2" } },
  },
  wire = {
    AppId = "474bdef0-d149-4695-abfb-52912d9143f0", Uuid = "hdm_d4f1059a8e1afc0956bd71b497faa433",
    ClientIp = "180.166.45.146", ServiceAction = "Start", PodConfigName = "android", PreLockedTimeout = "300",
    Directorys = '["/data/app01","/data/user"]',
    ServiceCommands = '[{"commands":["cat /tmp/token.json"],"containerName":"android"},{"commands":["ls -l /data/data"]}]',
    ScheduleStrategy = '{"selectLevel":"RegionId","values":["cn-chengdu-telecom-2"]}',
  },
  same_json = { ServiceCommands = DOC_SERVICE_COMMANDS, ScheduleStrategy = DOC_SCHEDULE_STRATEGY,
    Directorys = DOC_DIRECTORYS },
}

-- seed 001: ResourceSelector and ResourceInfo are Body parameters holding JSON
local DOC_RESOURCE_SELECTOR = [[[{"regionCode": "cn-wuxi-telecom_unicom_cmcc-3", "ispCode": "telecom", ]]
  .. [["count": 2 },{ "regionCode": "cn-shanghai-cmcc", "count": 4 }]
]]
local DOC_RESOURCE_INFO = [[{"imageId":"m-5s4z4c10avgwvwtn33gl2vgob","ipType":2,"specName":"ens.pfb-c3m7.medium"}]]

local RESOURCE_SELECTOR = {
  { regionCode = "cn-wuxi-telecom_unicom_cmcc-3", ispCode = "telecom", count = 2 },
  { regionCode = "cn-shanghai-cmcc", count = 4 },
}
local RESOURCE_SELECTOR_WIRE = '[{"count":2,"ispCode":"telecom","regionCode":"cn-wuxi-telecom_unicom_cmcc-3"},'
  .. '{"count":4,"regionCode":"cn-shanghai-cmcc"}]'

case {
  product = "ens", action = "RescaleDeviceService", doc = "seed 001",
  call = {
    RescaleType = "Add", RescaleLevel = "RegionId", Timeout = 1800, ServiceId = "service-01c6dd6e93f040698566",
    ResourceSelector = RESOURCE_SELECTOR, ResourceSpec = "ens.a6e.large", IpType = 1,
    AppId = "7aedc50b-b1cb-4a7c-9e3d-4cf3c9ee55a4", ImageId = "m-5rynw9g1ow1e928lb83bqmbnf",
    ResourceInfo = { imageId = "m-5s4z4c10avgwvwtn33gl2vgob", ipType = 2, specName = "ens.pfb-c3m7.medium" },
  },
  wire = {
    RescaleType = "Add", RescaleLevel = "RegionId", Timeout = "1800", ServiceId = "service-01c6dd6e93f040698566",
    ResourceSelector = RESOURCE_SELECTOR_WIRE, ResourceSpec = "ens.a6e.large", IpType = "1",
    AppId = "7aedc50b-b1cb-4a7c-9e3d-4cf3c9ee55a4", ImageId = "m-5rynw9g1ow1e928lb83bqmbnf",
    ResourceInfo = DOC_RESOURCE_INFO,
  },
  body = { "ResourceSelector", "ResourceInfo" },
  method = "POST",
  same_json = { ResourceSelector = DOC_RESOURCE_SELECTOR, ResourceInfo = DOC_RESOURCE_INFO },
}

-- seed 003: EventInfos is Json: one JSON string; the action is POST only
case {
  product = "ens", action = "BatchEventRedeployInstance", doc = "seed 003",
  call = { EventInfos = {
    { EventId = "e-d71ff150945b9c02eb6ebc0016328468", ResourceId = "i-55qi8m11rr53c4i964md8a00l",
      OpsType = "scheduled", PlanTime = 1742452232000 },
  } },
  wire = { EventInfos = '[{"EventId":"e-d71ff150945b9c02eb6ebc0016328468","OpsType":"scheduled",'
    .. '"PlanTime":1742452232000,"ResourceId":"i-55qi8m11rr53c4i964md8a00l"}]' },
  method = "POST",
}

-- seed 004: ResourceSelector is a Query parameter here
case {
  product = "ens", action = "RescaleApplication", doc = "seed 004",
  call = { AppId = "474bdef0-d149-4695-abfb-52912d9143f0", RescaleType = "Add", RescaleLevel = "RegionId",
    ResourceSelector = RESOURCE_SELECTOR, ToAppVersion = "v2", Timeout = 1800 },
  wire = { AppId = "474bdef0-d149-4695-abfb-52912d9143f0", RescaleType = "Add", RescaleLevel = "RegionId",
    ResourceSelector = RESOURCE_SELECTOR_WIRE, ToAppVersion = "v2", Timeout = "1800" },
  same_json = { ResourceSelector = DOC_RESOURCE_SELECTOR },
}

------------------------------------------------------------------------------------------

local function set_of(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[v] = true end
  return s
end

-- Sends c's call and returns the captured request.
local function send(product, action, call, opts, call_opts)
  local c, last = wire.client(product, opts)
  local res, err = c[action](c, call, call_opts)
  assert(res, tostring(err))
  assert.are.equal("x", res.RequestId)
  return assert(last(), "nothing was sent")
end

local api = require "aliyun.api"

-- The client fills in a ClientToken (a UUID) for actions that take one when the call gives
-- none, so that a retried create is not a second create. Checks it and takes it out.
local function strip_client_token(sent, c)
  if c.wire.ClientToken ~= nil then return end
  local token = sent.params.ClientToken
  if api.index(api.find(c.product, c.action)).by_name.ClientToken then
    assert(token and token:match("^%x+%-%x+%-%x+%-%x+%-%x+$"), "a generated ClientToken, got " .. tostring(token))
    sent.params.ClientToken = nil
  else
    assert.is_nil(token)
  end
end

local function check_common(sent, product, action)
  local common = sent.common
  assert.are.equal(action, common.Action)
  assert.are.equal(VERSION[product], common.Version)
  assert.are.equal("JSON", common.Format)
  assert.are.equal("testid", common.AccessKeyId)
  assert.are.equal("HMAC-SHA1", common.SignatureMethod)
  assert.are.equal("1.0", common.SignatureVersion)
  assert.truthy(common.SignatureNonce and #common.SignatureNonce >= 16, "SignatureNonce")
  assert.truthy(common.Timestamp:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), "Timestamp " .. tostring(common.Timestamp))
  assert.truthy(common.Signature and common.Signature:match("^[%w+/]+=*$"), "Signature")
  -- the common parameters travel in the query, never in the body
  for _, k in ipairs(wire.COMMON) do assert.is_nil(sent.body[k], k .. " in the body") end
end

describe("wire form of the documented calls", function()
  for _, c in ipairs(CASES) do
    describe(c.product .. " " .. c.action .. " (" .. c.doc .. ")", function()
      it("sends exactly the documented parameters, signed", function()
        local req = send(c.product, c.action, c.call)
        local sent = wire.split(req)
        strip_client_token(sent, c)
        assert.are.same(c.wire, sent.params)
        check_common(sent, c.product, c.action)
        -- the client's default is POST; every documented action allows it
        assert.are.equal(c.method or "POST", req.method)
        -- Body parameters in the form body, the rest in the query
        local in_body = set_of(c.body)
        for k in pairs(c.wire) do
          if in_body[k] then
            assert(sent.body[k] ~= nil and sent.query[k] == nil, k .. " belongs in the body")
          else
            assert(sent.query[k] ~= nil and sent.body[k] == nil, k .. " belongs in the query")
          end
        end
        if next(in_body) then
          assert.are.equal("application/x-www-form-urlencoded", req.headers["Content-Type"])
        end
        local ok, want, got = wire.v1_verifies(req, "testsecret")
        assert(ok, "signature " .. tostring(got) .. " does not verify (expected " .. tostring(want) .. ")")
        for name, doc_text in pairs(c.same_json or {}) do
          assert.are.same(cjson.decode(doc_text), cjson.decode(sent.params[name]))
        end
      end)

      it("sends the same parameters with method = \"GET\" where the action allows it", function()
        local req = send(c.product, c.action, c.call, { method = "GET" })
        local sent = wire.split(req)
        strip_client_token(sent, c)
        assert.are.same(c.wire, sent.params)
        local post_only = c.method == "POST" and not c.body
        if c.body or post_only then
          assert.are.equal("POST", req.method)
        else
          assert.are.equal("GET", req.method)
          assert.is_nil(req.body)
          assert.are.same({}, sent.body)
        end
        assert.truthy(wire.v1_verifies(req, "testsecret"))
      end)
    end)
  end
end)

describe("wire specs cover", function()
  local covered = {}
  for _, c in ipairs(CASES) do covered[c.product .. ":" .. c.action] = true end

  it("every action of sections 6-9 of the ECS reference, DescribeRegions and the ENS seeds", function()
    local ecs_pages = {
      "CreateLaunchTemplate", "CreateLaunchTemplateVersion", "DeleteLaunchTemplate", "DeleteLaunchTemplateVersion",
      "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "ModifyLaunchTemplateDefaultVersion",
      "CreateDisk", "DeleteDisk", "DescribeDisks", "AttachDisk", "DetachDisk", "ModifyDiskChargeType",
      "ModifyDiskAttribute", "ReplaceSystemDisk", "ReInitDisk", "ResetDisk", "ResizeDisk",
      "DescribeEniMonitorData", "DescribeDiskMonitorData", "DescribeInstancesFullStatus",
      "DescribeInstanceHistoryEvents", "DescribeInstanceMonitorData", "GetInstanceScreenshot",
      "GetInstanceConsoleOutput",
      "CreateCommand", "InstallCloudAssistant", "InvokeCommand", "StopInvocation", "DeleteCommand",
      "DescribeCloudAssistantStatus", "DescribeCommands", "DescribeInvocations", "DescribeInvocationResults",
      "ModifyCommand",
      "DescribeRegions",
    }
    assert.are.equal(36, #ecs_pages)
    for _, a in ipairs(ecs_pages) do assert(covered["ecs:" .. a], "no wire spec for ECS " .. a) end
    for _, a in ipairs { "RunServiceSchedule", "RescaleDeviceService", "BatchEventRedeployInstance", "RescaleApplication" } do
      assert(covered["ens:" .. a], "no wire spec for ENS " .. a)
    end
  end)
end)

describe("wire details", function()
  it("the document's DescribeRegions signature example holds", function()
    local params = {
      Timestamp = "2016-02-23T12:46:24Z", Format = "XML", AccessKeyId = "testid", Action = "DescribeRegions",
      SignatureMethod = "HMAC-SHA1", SignatureNonce = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
      Version = "2014-05-26", SignatureVersion = "1.0",
    }
    assert.are.equal("OLeaidS1JvxuMvnyHOwuJ+uX5qY=", (core.v1_sign("GET", params, "testsecret")))
  end)

  it("sends a GET-only action with GET even when POST is the client's choice", function()
    local req = send("ens", "CopySDG", { SDGId = "sdg-1", DestinationRegionIds = { "cn-hangzhou-1" } })
    assert.are.equal("GET", req.method)
    assert.are.same({ SDGId = "sdg-1", DestinationRegionIds = '["cn-hangzhou-1"]' }, wire.split(req).params)
    assert.truthy(wire.v1_verifies(req, "testsecret"))
  end)

  it("sends a POST-only action with POST even when GET is asked for", function()
    local req = send("ens", "BatchEventRedeployInstance", { EventInfos = {} }, nil, { method = "GET" })
    assert.are.equal("POST", req.method)
    assert.are.same({ EventInfos = "[]" }, wire.split(req).params)
  end)

  it("percent-encodes values the RFC 3986 way, spaces as %20", function()
    local req = send("ecs", "InvokeCommand", { RegionId = "cn-hangzhou", CommandId = "c-1", InstanceId = { "i-1" },
      Frequency = "0 0-5 14 * * ?", Parameters = { path = "/tmp/a b", note = "é~" } })
    assert.truthy(req.url:find("Frequency=0%20", 1, true))
    assert.is_nil(req.url:find("+", 1, true))
    assert.are.equal('{"note":"é~","path":"/tmp/a b"}', wire.split(req).params.Parameters)
  end)

  it("signs Body parameters together with the query", function()
    local req = send("ens", "RescaleDeviceService", { RescaleType = "Add", RescaleLevel = "RegionId",
      ResourceSelector = RESOURCE_SELECTOR })
    local sent = wire.split(req)
    assert.are.same({ ResourceSelector = RESOURCE_SELECTOR_WIRE }, sent.body)
    assert.truthy(wire.v1_verifies(req, "testsecret"))
    -- and a signature over the query alone does not verify
    local query_only = {}
    for k, v in pairs(sent.query) do
      if k ~= "Signature" then query_only[k] = v end
    end
    assert.are_not.equal(sent.query.Signature, core.v1_sign("POST", query_only, "testsecret"))
  end)

  it("reports a documented call with a misspelt parameter before sending anything", function()
    local c, last = wire.client("ecs")
    local res, err = c:DescribeInstanceMonitorData { InstanceId = "i-1", StartTime = "2014-10-29T23:00:00Z",
      EndTime = "2014-10-30T08:00:00Z", Peroid = 60 }
    assert.is_nil(res)
    assert.are.equal("validation", err.kind)
    assert.truthy(err.message:find("did you mean Period", 1, true))
    assert.is_nil(last())
  end)
end)
