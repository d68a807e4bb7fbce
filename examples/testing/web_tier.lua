-- A small playbook: a security group that lets HTTP in, a key pair, and N web servers in the
-- region's default vSwitch, tagged and waited for until Running. Run against the cloud with
-- credentials from the default chain; spec/testing_spec.lua tests it with aliyun.testing.
local aliyun = require "aliyun"

local playbook = {}

-- opts: region, zone, count, public_key, image, type. Returns the instance ids or nil, err.
function playbook.deploy(opts)
  local ecs = aliyun.ecs { region = opts.region }
  local R = opts.region
  local vsw
  for _, v in ipairs(assert(ecs:DescribeVSwitches { RegionId = R, ZoneId = opts.zone, IsDefault = true }).VSwitches.VSwitch) do
    vsw = vsw or v
  end
  if not vsw then return nil, "no default vSwitch in " .. opts.zone end
  local sg, err = ecs:CreateSecurityGroup { RegionId = R, VpcId = vsw.VpcId, SecurityGroupName = "web" }
  if not sg then return nil, err end
  local ok
  ok, err = ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg.SecurityGroupId,
    Permissions = { { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" } } }
  if not ok then return nil, err end
  ok, err = ecs:ImportKeyPair { RegionId = R, KeyPairName = "web-key", PublicKeyBody = opts.public_key }
  if not ok then return nil, err end
  local run
  run, err = ecs:RunInstances { RegionId = R, ImageId = opts.image, InstanceType = opts.type,
    SecurityGroupId = sg.SecurityGroupId, VSwitchId = vsw.VSwitchId, KeyPairName = "web-key",
    Amount = opts.count, InstanceName = "web-", UniqueSuffix = true, InternetMaxBandwidthOut = 10,
    Tag = { { Key = "tier", Value = "web" } } }
  if not run then return nil, err end
  local ids = run.InstanceIdSets.InstanceIdSet
  for _, id in ipairs(ids) do
    ok, err = ecs:wait_for("InstanceRunning", { RegionId = R, InstanceId = id }, { timeout = 300 })
    if not ok then return nil, err end
  end
  return ids
end

return playbook
