-- ENS networks, vSwitches, security groups with their rules, and key pairs: create,
-- describe with filters and paging, modify, delete, not-found, wrong states, dependents.
return function(world)
  describe(world.name .. " emulator: ENS networks, security groups and key pairs", function()
    before_each(world.reset)
    local N, N2 = "cn-chengdu-telecom-2", "cn-shanghai-cmcc"

    local expect = require("support.emulator").expect

    local function network(ens, cidr, node)
      local id = assert(ens:CreateNetwork { EnsRegionId = node or N, CidrBlock = cidr or "10.0.0.0/16" }).NetworkId
      world.advance(2)
      return id
    end

    local function vswitch(ens, net, cidr, node)
      local id = assert(ens:CreateVSwitch { EnsRegionId = node or N, NetworkId = net, CidrBlock = cidr }).VSwitchId
      world.advance(2)
      return id
    end

    it("makes a network that is Pending, then Available, and finds it by node, id and name", function()
      local ens = world.ens()
      local id = assert(ens:CreateNetwork { EnsRegionId = N, CidrBlock = "10.0.0.0/16", NetworkName = "edge-net",
        Description = "for specs", Tag = { { Key = "env", Value = "test" } } }).NetworkId
      assert.matches("^n%-", id)
      local n = assert(ens:DescribeNetworks { NetworkId = id }).Networks.Network[1]
      assert.are.same({ "Pending", "edge-net", "10.0.0.0/16", N, "for specs" },
        { n.Status, n.NetworkName, n.CidrBlock, n.EnsRegionId, n.Description })
      assert.are.same({ { Key = "env", Value = "test", TagKey = "env", TagValue = "test" } }, n.Tags.Tag)
      world.advance(2)
      assert.are.equal("Available", assert(ens:DescribeNetworks { NetworkId = id }).Networks.Network[1].Status)
      network(ens, "192.168.0.0/16", N2)
      assert.are.equal(1, assert(ens:DescribeNetworks { EnsRegionId = N }).TotalCount)
      assert.are.equal(2, assert(ens:DescribeNetworks { EnsRegionIds = { N, N2 } }).TotalCount)
      assert.are.equal(1, assert(ens:DescribeNetworks { NetworkName = "edge-net" }).TotalCount)
      assert.are.equal(1, assert(ens:DescribeNetworks { NetworkIds = { id } }).TotalCount)
      local page = assert(ens:DescribeNetworks { PageSize = 1, PageNumber = 2 })
      assert.are.same({ 2, 1, 2, 1 }, { page.TotalCount, #page.Networks.Network, page.PageNumber, page.PageSize })
    end)

    it("checks the node, the block and the names of a network", function()
      local ens = world.ens()
      expect(400, "InvalidParameter.EnsRegionId", ens:CreateNetwork { EnsRegionId = "mars-1", CidrBlock = "10.0.0.0/16" })
      expect(400, "InvalidParameter.CidrBlock", ens:CreateNetwork { EnsRegionId = N, CidrBlock = "8.8.0.0/16" })
      expect(400, "InvalidParameter.CidrBlock", ens:CreateNetwork { EnsRegionId = N, CidrBlock = "10.0.0/16" })
      expect(400, "InvalidParameter.NetworkName", ens:CreateNetwork { EnsRegionId = N, CidrBlock = "10.0.0.0/16",
        NetworkName = "http://x" })
    end)

    it("modifies and deletes a network; refuses one that is Pending, missing or has vSwitches", function()
      local ens = world.ens()
      local id = assert(ens:CreateNetwork { EnsRegionId = N, CidrBlock = "10.0.0.0/16" }).NetworkId
      expect(400, "IncorrectNetworkStatus", ens:DeleteNetwork { NetworkId = id })
      expect(400, "IncorrectNetworkStatus", ens:ModifyNetworkAttribute { NetworkId = id, NetworkName = "x2" })
      world.advance(2)
      assert(ens:ModifyNetworkAttribute { NetworkId = id, NetworkName = "renamed", Description = "new words" })
      local n = assert(ens:DescribeNetworks { NetworkId = id }).Networks.Network[1]
      assert.are.same({ "renamed", "new words" }, { n.NetworkName, n.Description })
      local vsw = vswitch(ens, id, "10.0.1.0/24")
      assert.are.same({ vsw }, assert(ens:DescribeNetworks { NetworkId = id }).Networks.Network[1].VSwitchIds.VSwitchId)
      expect(400, "DependencyViolation.VSwitch", ens:DeleteNetwork { NetworkId = id })
      assert(ens:DeleteVSwitch { VSwitchId = vsw })
      assert(ens:DeleteNetwork { NetworkId = id })
      expect(400, "InvalidNetworkId.NotFound", ens:DeleteNetwork { NetworkId = id })
      expect(400, "InvalidNetworkId.NotFound", ens:ModifyNetworkAttribute { NetworkId = id, NetworkName = "again" })
      assert.are.equal(0, assert(ens:DescribeNetworks { NetworkId = id }).TotalCount)
    end)

    it("makes vSwitches inside their network's block, on its node, without overlaps", function()
      local ens = world.ens()
      local net = network(ens)
      local id = assert(ens:CreateVSwitch { EnsRegionId = N, NetworkId = net, CidrBlock = "10.0.1.0/24",
        VSwitchName = "front" }).VSwitchId
      assert.matches("^vsw%-", id)
      local v = assert(ens:DescribeVSwitchAttributes { VSwitchId = id })
      assert.are.same({ "Pending", "front", net, N, 252 }, { v.Status, v.VSwitchName, v.NetworkId, v.EnsRegionId,
        v.AvailableIpAddressCount })
      world.advance(2)
      assert.are.equal("Available", assert(ens:DescribeVSwitchAttributes { VSwitchId = id }).Status)
      expect(400, "InvalidParameter.CidrBlock", ens:CreateVSwitch { EnsRegionId = N, NetworkId = net,
        CidrBlock = "10.0.1.128/25" })
      expect(400, "InvalidParameter.CidrBlock", ens:CreateVSwitch { EnsRegionId = N, NetworkId = net,
        CidrBlock = "10.1.0.0/24" })
      expect(400, "InvalidParameter.NetworkId", ens:CreateVSwitch { EnsRegionId = N2, NetworkId = net,
        CidrBlock = "10.0.2.0/24" })
      expect(400, "InvalidNetworkId.NotFound", ens:CreateVSwitch { EnsRegionId = N, NetworkId = "n-none",
        CidrBlock = "10.0.2.0/24" })
      expect(400, "MissingParameter.NetworkId", ens:CreateVSwitch { EnsRegionId = N, CidrBlock = "10.0.2.0/24" })
      assert(ens:ModifyVSwitchAttribute { VSwitchId = id, VSwitchName = "renamed", Description = "front door" })
      v = assert(ens:DescribeVSwitchAttributes { VSwitchId = id })
      assert.are.same({ "renamed", "front door" }, { v.VSwitchName, v.Description })
      assert(ens:DeleteVSwitch { VSwitchId = id })
      expect(400, "InvalidParameter.VSwitchId", ens:DescribeVSwitchAttributes { VSwitchId = id })
      expect(400, "InvalidParameter.VSwitchId", ens:DeleteVSwitch { VSwitchId = id })
    end)

    it("refuses to delete a vSwitch that is Pending or holds an instance", function()
      local ens = world.ens()
      local net = network(ens)
      local id = assert(ens:CreateVSwitch { EnsRegionId = N, NetworkId = net, CidrBlock = "10.0.1.0/24" }).VSwitchId
      expect(400, "IncorrectVSwitchStatus", ens:DeleteVSwitch { VSwitchId = id })
      world.advance(2)
      local inst = assert(ens:RunInstances { EnsRegionId = N, InstanceType = "ens.sn1.small",
        ImageId = "centos_7_9_x64_20G_alibase_20240101", ScheduleAreaLevel = "Region", NetWorkId = net, VSwitchId = id,
        InstanceChargeType = "PostPaid", InternetChargeType = "BandwidthByDay" }).InstanceIds[1]
      local v = assert(ens:DescribeVSwitchAttributes { VSwitchId = id })
      assert.are.same({ inst }, v.InstanceIds.InstanceId)
      assert.are.equal(251, v.AvailableIpAddressCount)
      expect(400, "InvalidParameter", ens:DeleteVSwitch { VSwitchId = id })
      expect(400, "DependencyViolation.VSwitch", ens:DeleteNetwork { NetworkId = net })
    end)

    it("makes security groups with rules, lists, renames and deletes them", function()
      local ens = world.ens()
      local id = assert(ens:CreateSecurityGroup { SecurityGroupName = "web", Description = "web servers",
        Permissions = { { Direction = "ingress", IpProtocol = "TCP", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0",
          Priority = 1, Policy = "Accept" } } }).SecurityGroupId
      assert.matches("^sg%-", id)
      assert(ens:CreateSecurityGroup { SecurityGroupName = "db" })
      local list = assert(ens:DescribeSecurityGroups {})
      assert.are.equal(2, list.TotalCount)
      local g = assert(ens:DescribeSecurityGroups { SecurityGroupName = "web" }).SecurityGroups.SecurityGroup[1]
      assert.are.same({ id, "web servers", 0 }, { g.SecurityGroupId, g.Description, g.InstanceCount })
      assert.are.equal(1, assert(ens:DescribeSecurityGroups { SecurityGroupId = id }).TotalCount)
      assert.are.equal(1, #assert(ens:DescribeSecurityGroups { PageSize = 1 }).SecurityGroups.SecurityGroup)
      local attr = assert(ens:DescribeSecurityGroupAttribute { SecurityGroupId = id })
      local r = attr.Permissions.Permission[1]
      assert.are.same({ "ingress", "TCP", "80/80", "0.0.0.0/0", 1, "Accept" },
        { r.Direction, r.IpProtocol, r.PortRange, r.SourceCidrIp, r.Priority, r.Policy })
      assert(ens:ModifySecurityGroupAttribute { SecurityGroupId = id, SecurityGroupName = "front" })
      assert.are.equal("front", assert(ens:DescribeSecurityGroupAttribute { SecurityGroupId = id }).SecurityGroupName)
      assert(ens:DeleteSecurityGroup { SecurityGroupId = id })
      expect(400, "InvalidSecurityGroupId.NotFound", ens:DescribeSecurityGroupAttribute { SecurityGroupId = id })
      expect(400, "InvalidSecurityGroupId.NotFound", ens:DeleteSecurityGroup { SecurityGroupId = id })
    end)

    it("adds and removes rules, refusing duplicates and malformed ones", function()
      local ens = world.ens()
      local id = assert(ens:CreateSecurityGroup { SecurityGroupName = "web" }).SecurityGroupId
      local ssh = { Direction = "ingress", IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8",
        Priority = 1, Policy = "Accept" }
      local out = { Direction = "egress", IpProtocol = "ALL", PortRange = "-1/-1", DestCidrIp = "0.0.0.0/0",
        Priority = 100, Policy = "Drop" }
      assert(ens:CreateSecurityGroupPermissions { SecurityGroupId = id, Permissions = { ssh, out } })
      assert.are.equal(2, #assert(ens:DescribeSecurityGroupAttribute { SecurityGroupId = id }).Permissions.Permission)
      expect(400, "SecurityGroupRuleConflict.Duplicated", ens:CreateSecurityGroupPermissions { SecurityGroupId = id,
        Permissions = { ssh } })
      local bad = { Direction = "ingress", IpProtocol = "TCP", PortRange = "0/99999", SourceCidrIp = "0.0.0.0/0",
        Priority = 1, Policy = "Accept" }
      expect(400, "InvalidParameter.Permissions", ens:CreateSecurityGroupPermissions { SecurityGroupId = id,
        Permissions = { bad } })
      bad.PortRange, bad.Direction = "1/2", "sideways"
      expect(400, "InvalidParameter.Permissions", ens:CreateSecurityGroupPermissions { SecurityGroupId = id,
        Permissions = { bad } })
      expect(400, "InvalidSecurityGroupId.NotFound", ens:CreateSecurityGroupPermissions { SecurityGroupId = "sg-none",
        Permissions = { ssh } })
      assert(ens:DeleteSecurityGroupPermissions { SecurityGroupId = id, Permissions = { ssh } })
      local left = assert(ens:DescribeSecurityGroupAttribute { SecurityGroupId = id }).Permissions.Permission
      assert.are.same({ "egress", "Drop" }, { left[1].Direction, left[1].Policy })
      assert.are.equal(1, #left)
    end)

    it("joins and leaves instances, and keeps a group with members", function()
      local ens = world.ens()
      local a = assert(ens:CreateSecurityGroup { SecurityGroupName = "group-a" }).SecurityGroupId
      local b = assert(ens:CreateSecurityGroup { SecurityGroupName = "group-b" }).SecurityGroupId
      local inst = assert(ens:RunInstances { EnsRegionId = N, InstanceType = "ens.sn1.small", SecurityId = a,
        ImageId = "centos_7_9_x64_20G_alibase_20240101", ScheduleAreaLevel = "Region", InstanceChargeType = "PostPaid",
        InternetChargeType = "BandwidthByDay" }).InstanceIds[1]
      local g = assert(ens:DescribeSecurityGroups { SecurityGroupId = a }).SecurityGroups.SecurityGroup[1]
      assert.are.same({ 1, { inst } }, { g.InstanceCount, g.InstanceIds.InstanceId })
      expect(400, "InvalidParameter", ens:DeleteSecurityGroup { SecurityGroupId = a })
      expect(400, "InvalidParameter", ens:LeaveSecurityGroup { SecurityGroupId = a, InstanceId = inst })
      assert(ens:JoinSecurityGroup { SecurityGroupId = b, InstanceId = inst })
      expect(400, "InvalidParameter", ens:JoinSecurityGroup { SecurityGroupId = b, InstanceId = inst })
      local i = assert(ens:DescribeInstances { InstanceId = inst }).Instances.Instance[1]
      assert.are.same({ a, b }, i.SecurityGroupIds.SecurityGroupId)
      assert.are.equal(1, assert(ens:DescribeInstances { SecurityGroupId = b }).TotalCount)
      assert(ens:LeaveSecurityGroup { SecurityGroupId = a, InstanceId = inst })
      assert(ens:DeleteSecurityGroup { SecurityGroupId = a })
      expect(400, "InstanceIdNotFound", ens:JoinSecurityGroup { SecurityGroupId = b, InstanceId = "i-none" })
      local _, err = ens:JoinSecurityGroup { SecurityGroupId = b, NetworkInterfaceId = "eni-1", InstanceId = inst }
      assert.are.equal("UnsupportedParameter.NotEmulated", err.code)
    end)

    it("makes key pairs with unique names, finds them and keeps one an instance uses", function()
      local ens = world.ens()
      local kp = assert(ens:CreateKeyPair { KeyPairName = "deploy" })
      assert.matches("^ssh%-", kp.KeyPairId)
      assert.matches("BEGIN RSA PRIVATE KEY", kp.PrivateKeyBody)
      assert.matches("^%x+$", kp.KeyPairFingerPrint)
      expect(400, "PubKeyNameExisted", ens:CreateKeyPair { KeyPairName = "deploy" })
      expect(400, "InvalidParameter.KeyPairName", ens:CreateKeyPair { KeyPairName = "9lives" })
      assert(ens:CreateKeyPair { KeyPairName = "spare" })
      local list = assert(ens:DescribeKeyPairs {})
      assert.are.equal(2, list.TotalCount)
      assert.is_nil(list.KeyPairs.KeyPair[1].PrivateKeyBody)
      assert.are.equal(1, assert(ens:DescribeKeyPairs { KeyPairName = "dep*" }).TotalCount)
      assert.are.equal(1, assert(ens:DescribeKeyPairs { KeyPairId = kp.KeyPairId }).TotalCount)
      assert.are.equal(1, #assert(ens:DescribeKeyPairs { PageSize = 1, PageNumber = 2 }).KeyPairs.KeyPair)
      local inst = assert(ens:RunInstances { EnsRegionId = N, InstanceType = "ens.sn1.small", KeyPairName = "deploy",
        ImageId = "centos_7_9_x64_20G_alibase_20240101", ScheduleAreaLevel = "Region", InstanceChargeType = "PostPaid",
        InternetChargeType = "BandwidthByDay" }).InstanceIds[1]
      expect(400, "PubKeyAttachedWithInstance", ens:DeleteKeyPairs { KeyPairName = "deploy" })
      world.advance(3)
      assert(ens:ReleasePostPaidInstance { InstanceId = inst })
      assert(ens:DeleteKeyPairs { KeyPairId = kp.KeyPairId })
      assert(ens:DeleteKeyPairs { KeyPairName = "spare" })
      expect(400, "InvalidParameter.KeyPairId", ens:DeleteKeyPairs { KeyPairId = kp.KeyPairId })
      expect(400, "InvalidParameter.KeyPairName", ens:DeleteKeyPairs { KeyPairName = "spare" })
      expect(400, "MissingParameter.KeyPairName", ens:DeleteKeyPairs {})
      assert.are.equal(0, assert(ens:DescribeKeyPairs {}).TotalCount)
    end)
  end)
end
