-- VPCs, vSwitches and security groups: the states on the clock, the CIDR rules, the rules of
-- a group in both directions and both forms (Permissions.N.* and the legacy parameters), and
-- the refusals clients branch on (DependencyViolation and its kind, not-found codes).
return function(world)
  describe(world.name .. " emulator: VPCs, vSwitches and security groups", function()
    before_each(world.reset)
    local R, Z = "cn-hangzhou", "cn-hangzhou-h"

    local function expect(status, code, res, err)
      assert.is_nil(res)
      assert.are.equal(code, err and err.code)
      assert.are.equal(status, err.status)
      return err
    end

    local function ready_vpc(ecs, cidr)
      local id = assert(ecs:CreateVpc { RegionId = R, CidrBlock = cidr or "10.0.0.0/16" }).VpcId
      world.advance(2)
      return id
    end

    it("has a default VPC, vSwitch per zone and security group in each region", function()
      local ecs = world.ecs()
      local vpcs = assert(ecs:DescribeVpcs { RegionId = R, IsDefault = true })
      assert.are.equal(1, vpcs.TotalCount)
      local v = vpcs.Vpcs.Vpc[1]
      assert.are.same({ "172.16.0.0/12", "Available", true }, { v.CidrBlock, v.Status, v.IsDefault })
      assert.are.equal(3, #v.VSwitchIds.VSwitchId)
      local vsw = assert(ecs:DescribeVSwitches { RegionId = R, VpcId = v.VpcId, ZoneId = Z }).VSwitches.VSwitch[1]
      assert.are.equal("172.16.0.0/20", vsw.CidrBlock)
      assert.is_true(vsw.AvailableIpAddressCount > 4000)
      local sg = assert(ecs:DescribeSecurityGroups { RegionId = R, VpcId = v.VpcId }).SecurityGroups.SecurityGroup[1]
      assert.are.equal(3, sg.EcsCount) -- the fixture's instances
    end)

    it("creates a VPC Pending then Available, and checks CIDR blocks", function()
      local ecs = world.ecs()
      local id = assert(ecs:CreateVpc { RegionId = R, CidrBlock = "192.168.0.0/16", VpcName = "main",
        Description = "for specs" }).VpcId
      assert.matches("^vpc%-", id)
      local function vpc() return assert(ecs:DescribeVpcs { RegionId = R, VpcId = id }).Vpcs.Vpc[1] end
      assert.are.equal("Pending", vpc().Status)
      expect(400, "IncorrectVpcStatus", ecs:CreateVSwitch { RegionId = R, VpcId = id, ZoneId = Z,
        CidrBlock = "192.168.1.0/24" })
      world.advance(2)
      assert.are.same({ "Available", "main", "for specs", false }, { vpc().Status, vpc().VpcName, vpc().Description,
        vpc().IsDefault })
      expect(400, "InvalidCidrBlock.Malformed", ecs:CreateVpc { RegionId = R, CidrBlock = "8.8.0.0/16" })
      expect(400, "InvalidCidrBlock.Malformed", ecs:CreateVpc { RegionId = R, CidrBlock = "10.0.0.0/33" })
      expect(400, "InvalidVpcName.Malformed", ecs:CreateVpc { RegionId = R, VpcName = "http://x" })
      expect(404, "InvalidRegionId.NotFound", ecs:CreateVpc { RegionId = "cn-nowhere" })
      assert(ecs:ModifyVpcAttribute { VpcId = id, VpcName = "renamed" })
      assert.are.equal("renamed", vpc().VpcName)
      expect(400, "NoAttributeToModify", ecs:ModifyVpcAttribute { VpcId = id })
      expect(404, "InvalidVpcId.NotFound", ecs:ModifyVpcAttribute { VpcId = "vpc-none", VpcName = "x" })
    end)

    it("keeps vSwitches inside their VPC, apart from each other and in its region's zones", function()
      local ecs = world.ecs()
      local vpc = ready_vpc(ecs)
      local vsw = assert(ecs:CreateVSwitch { RegionId = R, VpcId = vpc, ZoneId = Z, CidrBlock = "10.0.1.0/24",
        VSwitchName = "web" }).VSwitchId
      expect(400, "InvalidVSwitchCidr.Overlapped", ecs:CreateVSwitch { RegionId = R, VpcId = vpc, ZoneId = Z,
        CidrBlock = "10.0.1.128/25" })
      expect(400, "InvalidVSwitchCidr.Malformed", ecs:CreateVSwitch { RegionId = R, VpcId = vpc, ZoneId = Z,
        CidrBlock = "10.1.0.0/24" })
      expect(404, "InvalidZoneId.NotFound", ecs:CreateVSwitch { RegionId = R, VpcId = vpc, ZoneId = "cn-beijing-g",
        CidrBlock = "10.0.2.0/24" })
      expect(404, "InvalidVpcId.NotFound", ecs:CreateVSwitch { RegionId = R, VpcId = "vpc-none", ZoneId = Z,
        CidrBlock = "10.0.2.0/24" })
      world.advance(2)
      local list = assert(ecs:DescribeVSwitches { RegionId = R, VpcId = vpc })
      assert.are.equal(1, list.TotalCount)
      assert.are.same({ "web", "Available", 252 }, { list.VSwitches.VSwitch[1].VSwitchName,
        list.VSwitches.VSwitch[1].Status, list.VSwitches.VSwitch[1].AvailableIpAddressCount })
      assert.are.same({ vsw }, assert(ecs:DescribeVpcs { RegionId = R, VpcId = vpc }).Vpcs.Vpc[1].VSwitchIds.VSwitchId)
      -- a VPC with a vSwitch, or a security group, cannot be deleted
      expect(400, "DependencyViolation.VSwitch", ecs:DeleteVpc { RegionId = R, VpcId = vpc })
      assert(ecs:DeleteVSwitch { VSwitchId = vsw })
      local sg = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = vpc }).SecurityGroupId
      expect(400, "DependencyViolation.SecurityGroup", ecs:DeleteVpc { RegionId = R, VpcId = vpc })
      assert(ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = sg })
      assert(ecs:DeleteVpc { RegionId = R, VpcId = vpc })
      expect(404, "InvalidVpcId.NotFound", ecs:DeleteVpc { RegionId = R, VpcId = vpc })
    end)

    it("refuses to delete a vSwitch or a security group in use", function()
      local ecs = world.ecs()
      local inst = assert(ecs:DescribeInstances { RegionId = R, ZoneId = Z }).Instances.Instance[1]
      local err = expect(400, "DependencyViolation.Instance", ecs:DeleteVSwitch {
        VSwitchId = inst.VpcAttributes.VSwitchId })
      assert.is_string(err.message)
      expect(403, "DependencyViolation", ecs:DeleteSecurityGroup { RegionId = R,
        SecurityGroupId = inst.SecurityGroupIds.SecurityGroupId[1] })
      expect(404, "InvalidSecurityGroupId.NotFound", ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = "sg-none" })
    end)

    it("adds, lists, modifies and revokes rules in both directions", function()
      local ecs = world.ecs()
      local sg = assert(ecs:CreateSecurityGroup { RegionId = R, SecurityGroupName = "web", Description = "web tier" })
        .SecurityGroupId
      -- the list form, two at once
      assert(ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg, Permissions = {
        { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", Description = "http" },
        { IpProtocol = "TCP", PortRange = "443/443", SourceCidrIp = "10.0.0.0/8", Priority = "10" } } })
      -- the legacy form; the same rule again adds nothing
      assert(ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg, IpProtocol = "icmp", PortRange = "-1/-1",
        SourceCidrIp = "0.0.0.0/0" })
      assert(ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg, IpProtocol = "icmp", PortRange = "-1/-1",
        SourceCidrIp = "0.0.0.0/0" })
      assert(ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg, IpProtocol = "all",
        DestCidrIp = "0.0.0.0/0", Policy = "drop" })
      local attr = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg })
      assert.are.same({ "web", "web tier", "Accept" }, { attr.SecurityGroupName, attr.Description, attr.InnerAccessPolicy })
      assert.are.equal(4, #attr.Permissions.Permission)
      local http = attr.Permissions.Permission[1]
      assert.are.same({ "ingress", "TCP", "80/80", "0.0.0.0/0", "Accept", "1", "http" }, { http.Direction,
        http.IpProtocol, http.PortRange, http.SourceCidrIp, http.Policy, http.Priority, http.Description })
      assert.matches("^sgr%-", http.SecurityGroupRuleId)
      local egress = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg, Direction = "egress" })
      assert.are.same({ "egress", "ALL", "-1/-1", "Drop" }, { egress.Permissions.Permission[1].Direction,
        egress.Permissions.Permission[1].IpProtocol, egress.Permissions.Permission[1].PortRange,
        egress.Permissions.Permission[1].Policy })
      local g = assert(ecs:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).SecurityGroups.SecurityGroup[1]
      assert.are.same({ 4, 0 }, { g.RuleCount, g.EcsCount })
      -- paging of the rules
      local page = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg, MaxResults = 2 })
      assert.are.equal(2, #page.Permissions.Permission)
      assert.is_true(#page.NextToken > 0)
      -- modify by rule id, then revoke by rule id and by matching
      assert(ecs:ModifySecurityGroupRule { RegionId = R, SecurityGroupId = sg, SecurityGroupRuleId = http.SecurityGroupRuleId,
        Description = "plain http", PortRange = "8080/8080" })
      local after = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg, Direction = "ingress" })
      assert.are.same({ "plain http", "8080/8080" }, { after.Permissions.Permission[1].Description,
        after.Permissions.Permission[1].PortRange })
      assert(ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg, SecurityGroupRuleId = { http.SecurityGroupRuleId } })
      assert(ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg, IpProtocol = "icmp", PortRange = "-1/-1",
        SourceCidrIp = "0.0.0.0/0" })
      assert(ecs:RevokeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg, IpProtocol = "all", DestCidrIp = "0.0.0.0/0",
        Policy = "drop" })
      local left = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg })
      assert.are.equal(1, #left.Permissions.Permission)
      assert.are.equal("443/443", left.Permissions.Permission[1].PortRange)
      expect(404, "InvalidSecurityGroupRule.RuleNotExist", ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg,
        SecurityGroupRuleId = { "sgr-none" } })
      assert(ecs:ModifySecurityGroupPolicy { RegionId = R, SecurityGroupId = sg, InnerAccessPolicy = "Drop" })
      assert.are.equal("Drop", assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg })
        .InnerAccessPolicy)
    end)

    it("joins and leaves instances to and from groups of their VPC", function()
      local ecs = world.ecs()
      local inst = assert(ecs:DescribeInstances { RegionId = R, ZoneId = Z }).Instances.Instance[1]
      local id, home = inst.InstanceId, inst.SecurityGroupIds.SecurityGroupId[1]
      local sg = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = inst.VpcAttributes.VpcId }).SecurityGroupId
      assert(ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = sg })
      local groups = assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { id } }).Instances.Instance[1]
        .SecurityGroupIds.SecurityGroupId
      assert.are.same({ home, sg }, groups)
      assert.are.equal(1, assert(ecs:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).SecurityGroups
        .SecurityGroup[1].EcsCount)
      assert.are.equal(1, assert(ecs:DescribeInstances { RegionId = R, SecurityGroupId = sg }).TotalCount)
      expect(403, "InvalidInstanceId.AlreadyExists", ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = sg })
      expect(403, "DependencyViolation", ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = sg })
      -- a group of another VPC
      local vpc = ready_vpc(ecs)
      local far = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = vpc }).SecurityGroupId
      expect(403, "InvalidSecurityGroup.InvalidNetworkType", ecs:JoinSecurityGroup { InstanceId = id,
        SecurityGroupId = far })
      assert(ecs:LeaveSecurityGroup { InstanceId = id, SecurityGroupId = home })
      expect(403, "InstanceLastSecurityGroup", ecs:LeaveSecurityGroup { InstanceId = id, SecurityGroupId = sg })
      expect(400, "InvalidSecurityGroupAssociation.NotFound", ecs:LeaveSecurityGroup { InstanceId = id,
        SecurityGroupId = home })
      expect(404, "InvalidInstanceId.NotFound", ecs:JoinSecurityGroup { InstanceId = "i-none", SecurityGroupId = sg })
      -- a stopping instance can do neither
      assert(ecs:StopInstance { InstanceId = id })
      expect(403, "IncorrectInstanceStatus", ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = home })
    end)

    it("checks each part of a rule", function()
      local ecs = world.ecs()
      local sg = assert(ecs:CreateSecurityGroup { RegionId = R }).SecurityGroupId
      local function authorize(p)
        p.RegionId, p.SecurityGroupId = R, sg
        return ecs:AuthorizeSecurityGroup(p)
      end
      expect(400, "InvalidIpProtocol.Malformed", authorize { IpProtocol = "sctp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidIpPortRange.Malformed", authorize { IpProtocol = "tcp", PortRange = "90/80", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidIpPortRange.Malformed", authorize { IpProtocol = "icmp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidPolicy.Malformed", authorize { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0",
        Policy = "maybe" })
      expect(400, "InvalidPriority.Malformed", authorize { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0",
        Priority = "101" })
      expect(400, "InvalidSourceCidrIp.Malformed", authorize { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "everyone" })
      expect(400, "MissingParameter.SourceCidrIp", authorize { IpProtocol = "tcp", PortRange = "1/2" })
      expect(404, "InvalidSecurityGroupId.NotFound", authorize { IpProtocol = "tcp", PortRange = "1/2", SourceGroupId = "sg-none" })
      -- a rule that names another group of the same VPC
      local other = assert(ecs:CreateSecurityGroup { RegionId = R }).SecurityGroupId
      assert(authorize { IpProtocol = "tcp", PortRange = "5432/5432", SourceGroupId = other })
      local g = assert(ecs:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).SecurityGroups.SecurityGroup[1]
      assert.are.equal(1, g.GroupToGroupRuleCount)
      -- deleting the named group takes the rule with it
      assert(ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = other })
      assert.are.equal(0, #assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg })
        .Permissions.Permission)
    end)

    it("filters security groups by name, VPC, type, tag and resource group, and pages them", function()
      local ecs = world.ecs()
      for i = 1, 3 do
        assert(ecs:CreateSecurityGroup { RegionId = R, SecurityGroupName = "app-" .. i,
          SecurityGroupType = i == 3 and "enterprise" or "normal", Tag = { { Key = "n", Value = tostring(i) } },
          ResourceGroupId = i == 2 and "rg-aek2specs" or nil })
      end
      local function count(p)
        p.RegionId = R
        return assert(ecs:DescribeSecurityGroups(p)).TotalCount
      end
      assert.are.equal(4, count {})
      assert.are.equal(1, count { SecurityGroupName = "app-2" })
      assert.are.equal(3, count { SecurityGroupName = "app", FuzzyQuery = true })
      assert.are.equal(1, count { SecurityGroupType = "enterprise" })
      assert.are.equal(1, count { Tag = { { Key = "n", Value = "3" } } })
      assert.are.equal(3, count { Tag = { { Key = "n" } } })
      assert.are.equal(1, count { ResourceGroupId = "rg-aek2specs" })
      local p = assert(ecs:DescribeSecurityGroups { RegionId = R, PageSize = 3, PageNumber = 2 })
      assert.are.same({ 4, 1 }, { p.TotalCount, #p.SecurityGroups.SecurityGroup })
      local ids, token = {}, nil
      for _ = 1, 10 do
        local page = assert(ecs:DescribeSecurityGroups { RegionId = R, MaxResults = 3, NextToken = token })
        for _, g in ipairs(page.SecurityGroups.SecurityGroup) do ids[#ids + 1] = g.SecurityGroupId end
        token = page.NextToken
        if not token or token == "" then break end
      end
      assert.are.equal(4, #ids)
      expect(400, "InvalidSecurityGroupType.ValueNotSupported", ecs:CreateSecurityGroup { RegionId = R,
        SecurityGroupType = "vip" })
    end)
  end)
end
