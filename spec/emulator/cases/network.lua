-- VPCs, vSwitches and security groups: the states on the clock, the CIDR rules, the rules of
-- a group in both directions and both forms (Permissions.N.* and the legacy parameters), and
-- the refusals clients branch on (DependencyViolation and its kind, not-found codes), each with
-- the code and status of the action's published error table.
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

    local function default_vpc(ecs)
      return assert(ecs:DescribeVpcs { RegionId = R, IsDefault = true }).Vpcs.Vpc[1].VpcId
    end

    local function new_group(ecs, p)
      p = p or {}
      p.RegionId, p.VpcId = R, p.VpcId or default_vpc(ecs)
      return assert(ecs:CreateSecurityGroup(p)).SecurityGroupId
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
        Description = "for specs", UserCidr = "10.8.0.0/16,10.9.0.0/16" }).VpcId
      assert.matches("^vpc%-", id)
      local function vpc() return assert(ecs:DescribeVpcs { RegionId = R, VpcId = id }).Vpcs.Vpc[1] end
      assert.are.equal("Pending", vpc().Status)
      -- a Pending VPC takes no vSwitch, no security group and no change (IncorrectVpcStatus, 400)
      expect(400, "IncorrectVpcStatus", ecs:CreateVSwitch { RegionId = R, VpcId = id, ZoneId = Z,
        CidrBlock = "192.168.1.0/24" })
      expect(400, "IncorrectVpcStatus", ecs:CreateSecurityGroup { RegionId = R, VpcId = id })
      expect(400, "IncorrectVpcStatus", ecs:ModifyVpcAttribute { VpcId = id, VpcName = "early" })
      world.advance(2)
      assert.are.same({ "Available", "main", "for specs", false }, { vpc().Status, vpc().VpcName, vpc().Description,
        vpc().IsDefault })
      assert.are.same({ "10.8.0.0/16", "10.9.0.0/16" }, vpc().UserCidrs.UserCidr)
      -- CreateVpc names a bad CIDR block InvalidParameter, ModifyVpcAttribute InvalidCidrBlock.Malformed
      expect(400, "InvalidParameter", ecs:CreateVpc { RegionId = R, CidrBlock = "8.8.0.0/16" })
      expect(400, "InvalidParameter", ecs:CreateVpc { RegionId = R, CidrBlock = "10.0.0.0/33" })
      expect(400, "InvalidCidrBlock.Malformed", ecs:ModifyVpcAttribute { VpcId = id, CidrBlock = "8.8.0.0/16" })
      expect(400, "InvalidUserCidr.Quota", ecs:CreateVpc { RegionId = R,
        UserCidr = "10.1.0.0/16,10.2.0.0/16,10.3.0.0/16,10.4.0.0/16" })
      expect(400, "InvalidParameter", ecs:CreateVpc { RegionId = R, UserCidr = "10.1.0.0/99" })
      expect(400, "InvalidVpcName.Malformed", ecs:CreateVpc { RegionId = R, VpcName = "http://x" })
      expect(400, "InvalidVpcDiscription.Malformed", ecs:CreateVpc { RegionId = R, Description = "x" })
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
      local function create(p)
        p.RegionId, p.VpcId, p.ZoneId = R, p.VpcId or vpc, p.ZoneId or Z
        return ecs:CreateVSwitch(p)
      end
      expect(400, "InvalidCidrBlock.Overlapped", create { CidrBlock = "10.0.1.128/25" })
      expect(400, "InvalidParameter", create { CidrBlock = "10.1.0.0/24" }) -- not in the VPC's block
      expect(400, "InvalidCirdrBlock.MaskLength", create { CidrBlock = "10.0.2.0/30" })
      expect(400, "InvalidCirdrBlock.MaskLength", create { CidrBlock = "10.0.0.0/15" })
      expect(400, "InvalidCidrBlock.Malformed", create { CidrBlock = "10.0.2.0/33" })
      expect(400, "InvalidVSwitchName.Malformed", create { CidrBlock = "10.0.2.0/24", VSwitchName = "http://x" })
      expect(400, "InvalidVSwitchDiscription.Malformed", create { CidrBlock = "10.0.2.0/24", Description = "x" })
      expect(404, "InvalidZoneId.NotFound", create { ZoneId = "cn-beijing-g", CidrBlock = "10.0.2.0/24" })
      expect(404, "InvalidVpcId.NotFound", create { VpcId = "vpc-none", CidrBlock = "10.0.2.0/24" })
      -- a Pending vSwitch cannot be deleted
      expect(400, "IncorrectVSwitchStatus", ecs:DeleteVSwitch { VSwitchId = vsw })
      world.advance(2)
      local list = assert(ecs:DescribeVSwitches { RegionId = R, VpcId = vpc })
      assert.are.equal(1, list.TotalCount)
      assert.are.same({ "web", "Available", 252 }, { list.VSwitches.VSwitch[1].VSwitchName,
        list.VSwitches.VSwitch[1].Status, list.VSwitches.VSwitch[1].AvailableIpAddressCount })
      assert.are.same({ vsw }, assert(ecs:DescribeVpcs { RegionId = R, VpcId = vpc }).Vpcs.Vpc[1].VSwitchIds.VSwitchId)
      expect(400, "InvalidVSwitchDiscription.Malformed", ecs:ModifyVSwitchAttribute { VSwitchId = vsw, Description = "x" })
      expect(404, "InvalidVSwitchId.NotFound", ecs:ModifyVSwitchAttribute { VSwitchId = "vsw-none", VSwitchName = "x" })
      -- a VPC with a vSwitch, or a security group, cannot be deleted
      expect(400, "DependencyViolation.VSwitch", ecs:DeleteVpc { RegionId = R, VpcId = vpc })
      assert(ecs:DeleteVSwitch { VSwitchId = vsw })
      expect(404, "InvalidVSwitchId.NotFound", ecs:DeleteVSwitch { VSwitchId = vsw })
      local sg = new_group(ecs, { VpcId = vpc })
      expect(400, "DependencyViolation.SecurityGroup", ecs:DeleteVpc { RegionId = R, VpcId = vpc })
      assert(ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = sg })
      assert(ecs:DeleteVpc { RegionId = R, VpcId = vpc })
      expect(404, "InvalidVpcId.NotFound", ecs:DeleteVpc { RegionId = R, VpcId = vpc })
    end)

    it("holds at most 150 vSwitches in a VPC", function()
      local ecs = world.ecs()
      local vpc = ready_vpc(ecs, "10.0.0.0/8")
      for i = 0, 149 do
        assert(ecs:CreateVSwitch { RegionId = R, VpcId = vpc, ZoneId = Z, CidrBlock = "10." .. i .. ".0.0/24" })
      end
      expect(400, "QuotaExceeded.VSwitch", ecs:CreateVSwitch { RegionId = R, VpcId = vpc, ZoneId = Z,
        CidrBlock = "10.200.0.0/24" })
    end)

    it("refuses to delete a vSwitch or a security group in use", function()
      local ecs = world.ecs()
      local inst = assert(ecs:DescribeInstances { RegionId = R, ZoneId = Z }).Instances.Instance[1]
      -- DeleteVSwitch's code is DependencyViolation with 400; DeleteSecurityGroup's the same code with 403
      local err = expect(400, "DependencyViolation", ecs:DeleteVSwitch { VSwitchId = inst.VpcAttributes.VSwitchId })
      assert.is_string(err.message)
      expect(403, "DependencyViolation", ecs:DeleteSecurityGroup { RegionId = R,
        SecurityGroupId = inst.SecurityGroupIds.SecurityGroupId[1] })
      expect(404, "InvalidSecurityGroupId.NotFound", ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = "sg-none" })
    end)

    it("puts a security group in a VPC that is given", function()
      local ecs = world.ecs()
      -- the emulated regions have no classic network: without a VPC the service answers 403
      expect(403, "InvalidVpcId.NotFound", ecs:CreateSecurityGroup { RegionId = R, SecurityGroupName = "nowhere" })
      expect(404, "InvalidVpcId.NotFound", ecs:CreateSecurityGroup { RegionId = R, VpcId = "vpc-none" })
      expect(400, "InvalidParams.GroupType", ecs:CreateSecurityGroup { RegionId = R, VpcId = default_vpc(ecs),
        SecurityGroupType = "vip" })
      expect(400, "InvalidSecurityGroupName.Malformed", ecs:CreateSecurityGroup { RegionId = R, VpcId = default_vpc(ecs),
        SecurityGroupName = "1x" })
      expect(400, "InvalidSecurityGroupDiscription.Malformed", ecs:CreateSecurityGroup { RegionId = R,
        VpcId = default_vpc(ecs), Description = "x" })
      local sg = new_group(ecs)
      expect(400, "InvalidSecurityGroupDiscription.Malformed", ecs:ModifySecurityGroupAttribute { RegionId = R,
        SecurityGroupId = sg, Description = "x" })
      -- basic groups let their members talk to each other; advanced ones do not, and keep it so
      local adv = new_group(ecs, { SecurityGroupType = "enterprise" })
      local attr = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = adv })
      assert.are.equal("Drop", attr.InnerAccessPolicy)
      expect(404, "InvalidParameter.InnerAccessPolicy", ecs:ModifySecurityGroupPolicy { RegionId = R,
        SecurityGroupId = adv, InnerAccessPolicy = "Accept" })
      expect(400, "InvalidPolicy.Malformed", ecs:ModifySecurityGroupPolicy { RegionId = R, SecurityGroupId = sg,
        InnerAccessPolicy = "Maybe" })
    end)

    it("adds, lists, modifies and revokes rules in both directions", function()
      local ecs = world.ecs()
      local sg = new_group(ecs, { SecurityGroupName = "web", Description = "web tier" })
      -- the list form, two at once
      assert(ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg, Permissions = {
        { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", Description = "http" },
        { IpProtocol = "TCP", PortRange = "443/443", SourceCidrIp = "10.0.0.0/8", Priority = "10" } } })
      -- the legacy form; the same rule again succeeds and adds nothing
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
      assert.are.same({ "ingress", "TCP", "80/80", "0.0.0.0/0", "Accept", "1", "http", "intranet" }, { http.Direction,
        http.IpProtocol, http.PortRange, http.SourceCidrIp, http.Policy, http.Priority, http.Description, http.NicType })
      assert.matches("^sgr%-", http.SecurityGroupRuleId)
      local egress = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg, Direction = "egress" })
      assert.are.same({ "egress", "ALL", "-1/-1", "Drop" }, { egress.Permissions.Permission[1].Direction,
        egress.Permissions.Permission[1].IpProtocol, egress.Permissions.Permission[1].PortRange,
        egress.Permissions.Permission[1].Policy })
      -- a VPC's group reads NicType internet as intranet: every rule; a NicType it does not know is refused
      assert.are.equal(4, #assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg,
        NicType = "internet" }).Permissions.Permission)
      expect(400, "InvalidNicType.ValueNotSupported", ecs:DescribeSecurityGroupAttribute { RegionId = R,
        SecurityGroupId = sg, NicType = "wifi" })
      local g = assert(ecs:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).SecurityGroups.SecurityGroup[1]
      assert.are.same({ 4, 0 }, { g.RuleCount, g.EcsCount })
      -- paging of the rules
      local page = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg, MaxResults = 2 })
      assert.are.equal(2, #page.Permissions.Permission)
      assert.is_true(#page.NextToken > 0)
      -- modify by rule id: its NicType and the kind of its source stay, and it may not become another rule
      assert(ecs:ModifySecurityGroupRule { RegionId = R, SecurityGroupId = sg, SecurityGroupRuleId = http.SecurityGroupRuleId,
        Description = "plain http", PortRange = "8080/8080" })
      local after = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg, Direction = "ingress" })
      assert.are.same({ "plain http", "8080/8080" }, { after.Permissions.Permission[1].Description,
        after.Permissions.Permission[1].PortRange })
      local function modify(p)
        p.RegionId, p.SecurityGroupId, p.SecurityGroupRuleId = R, sg, p.SecurityGroupRuleId or http.SecurityGroupRuleId
        return ecs:ModifySecurityGroupRule(p)
      end
      expect(400, "InvalidOperation.ModifyNicType", modify { NicType = "internet" })
      expect(400, "InvalidOperation.ModifySgRuleEntityType", modify { SourceGroupId = sg })
      expect(400, "InvalidOperation.RuleDuplicate", modify { PortRange = "443/443", SourceCidrIp = "10.0.0.0/8",
        Priority = "10" })
      expect(404, "InvalidSecurityGroupRuleId.NotFound", modify { SecurityGroupRuleId = "sgr-none", Description = "x" })
      -- without a rule id, the legacy parameters name the rule whose description changes
      expect(404, "SecurityGroupRule.NotFound", ecs:ModifySecurityGroupRule { RegionId = R, SecurityGroupId = sg,
        IpProtocol = "udp", PortRange = "53/53", SourceCidrIp = "0.0.0.0/0", Description = "dns" })
      -- revoke by rule id and by matching; revoking a rule that is not there changes nothing
      assert(ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg, SecurityGroupRuleId = { http.SecurityGroupRuleId } })
      assert(ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg, IpProtocol = "icmp", PortRange = "-1/-1",
        SourceCidrIp = "0.0.0.0/0" })
      assert(ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg, IpProtocol = "udp", PortRange = "53/53",
        SourceCidrIp = "0.0.0.0/0" })
      assert(ecs:RevokeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg, IpProtocol = "all", DestCidrIp = "0.0.0.0/0",
        Policy = "drop" })
      local left = assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg })
      assert.are.equal(1, #left.Permissions.Permission)
      assert.are.equal("443/443", left.Permissions.Permission[1].PortRange)
      expect(404, "InvalidSecurityGroupRuleId.NotFound", ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg,
        SecurityGroupRuleId = { "sgr-none" } })
      expect(404, "InvalidSecurityGroupId.NotFound", ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = "sg-none",
        IpProtocol = "icmp", PortRange = "-1/-1", SourceCidrIp = "0.0.0.0/0" })
      assert(ecs:ModifySecurityGroupPolicy { RegionId = R, SecurityGroupId = sg, InnerAccessPolicy = "Drop" })
      assert.are.equal("Drop", assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg })
        .InnerAccessPolicy)
    end)

    it("holds at most 200 rules in a group, and 20 that name other groups", function()
      local ecs = world.ecs()
      local sg, other = new_group(ecs), new_group(ecs)
      local function rules(from, to, field, value)
        local list = {}
        for port = from, to do list[#list + 1] = { IpProtocol = "tcp", PortRange = port .. "/" .. port, [field] = value } end
        return list
      end
      for _, span in ipairs { { 1, 20 }, { 21, 21 } } do
        local res, err = ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg,
          Permissions = rules(span[1], span[2], "SourceGroupId", other) }
        if span[1] == 1 then assert(res, err) else expect(400, "AuthorizedGroupRule.LimitExceed", res, err) end
      end
      assert(ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg,
        Permissions = rules(1001, 1100, "SourceCidrIp", "10.0.0.0/8") })
      assert(ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg,
        Permissions = rules(2001, 2080, "DestCidrIp", "10.0.0.0/8") })
      expect(403, "AuthorizationLimitExceed", ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg,
        IpProtocol = "tcp", PortRange = "3000/3000", DestCidrIp = "10.0.0.0/8" })
      assert.are.equal(200, assert(ecs:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).SecurityGroups
        .SecurityGroup[1].RuleCount)
      expect(400, "InvalidParam.Permissions", ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = other,
        Permissions = rules(1, 101, "SourceCidrIp", "10.0.0.0/8") })
    end)

    it("joins and leaves instances to and from groups of their VPC", function()
      local ecs = world.ecs()
      local inst = assert(ecs:DescribeInstances { RegionId = R, ZoneId = Z }).Instances.Instance[1]
      local id, home = inst.InstanceId, inst.SecurityGroupIds.SecurityGroupId[1]
      local sg = new_group(ecs, { VpcId = inst.VpcAttributes.VpcId })
      assert(ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = sg })
      local groups = assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { id } }).Instances.Instance[1]
        .SecurityGroupIds.SecurityGroupId
      assert.are.same({ home, sg }, groups)
      assert.are.equal(1, assert(ecs:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).SecurityGroups
        .SecurityGroup[1].EcsCount)
      assert.are.equal(1, assert(ecs:DescribeInstances { RegionId = R, SecurityGroupId = sg }).TotalCount)
      expect(403, "InvalidInstanceId.AlreadyExists", ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = sg })
      expect(403, "DependencyViolation", ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = sg })
      -- a group of another VPC, an advanced group beside basic ones, both ids at once
      local vpc = ready_vpc(ecs)
      local far = new_group(ecs, { VpcId = vpc })
      expect(400, "InvalidInstanceId.Mismatch", ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = far })
      local adv = new_group(ecs, { VpcId = inst.VpcAttributes.VpcId, SecurityGroupType = "enterprise" })
      expect(400, "InvalidOperation.MultiGroupType", ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = adv })
      local eni = assert(ecs:DescribeNetworkInterfaces { RegionId = R, InstanceId = id }).NetworkInterfaceSets
        .NetworkInterfaceSet[1].NetworkInterfaceId
      expect(403, "InvalidParam.EniIdAndInstanceId.Conflict", ecs:JoinSecurityGroup { InstanceId = id,
        NetworkInterfaceId = eni, SecurityGroupId = sg })
      assert(ecs:LeaveSecurityGroup { InstanceId = id, SecurityGroupId = home })
      expect(403, "InstanceLastSecurityGroup", ecs:LeaveSecurityGroup { InstanceId = id, SecurityGroupId = sg })
      expect(400, "InvalidSecurityGroupAssociation.NotFound", ecs:LeaveSecurityGroup { InstanceId = id,
        SecurityGroupId = home })
      expect(404, "InvalidInstanceId.NotFound", ecs:JoinSecurityGroup { InstanceId = "i-none", SecurityGroupId = sg })
      -- a stopping instance can do neither
      assert(ecs:StopInstance { InstanceId = id })
      expect(403, "IncorrectInstanceStatus", ecs:JoinSecurityGroup { InstanceId = id, SecurityGroupId = home })
    end)

    it("checks each part of a rule with the codes of the action's table", function()
      local ecs = world.ecs()
      local sg = new_group(ecs)
      local function authorize(p)
        p.RegionId, p.SecurityGroupId = R, sg
        return ecs:AuthorizeSecurityGroup(p)
      end
      local function tcp(p)
        p.IpProtocol, p.PortRange = p.IpProtocol or "tcp", p.PortRange or "1/2"
        return authorize(p)
      end
      expect(400, "InvalidIpProtocol.ValueNotSupported", tcp { IpProtocol = "sctp", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidIpProtocol.Malformed", tcp { PortRange = "90/80", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidParam.PortRange", tcp { PortRange = "http", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidPortRange.Malformed", authorize { IpProtocol = "tcp", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "OperationDenied", tcp { IpProtocol = "icmp", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidSourcePortRange.Malformed", tcp { SourcePortRange = "9/1", SourceCidrIp = "0.0.0.0/0" })
      expect(400, "InvalidPolicy.Malformed", tcp { SourceCidrIp = "0.0.0.0/0", Policy = "maybe" })
      expect(400, "InvalidPriority.Malformed", tcp { SourceCidrIp = "0.0.0.0/0", Priority = "101" })
      expect(400, "InvalidNicType.ValueNotSupported", tcp { SourceCidrIp = "0.0.0.0/0", NicType = "wifi" })
      expect(400, "InvalidSourceCidrIp.Malformed", tcp { SourceCidrIp = "everyone" })
      expect(400, "InvalidSecurityGroupDiscription.Malformed", tcp { SourceCidrIp = "0.0.0.0/0",
        Description = string.rep("d", 513) })
      expect(400, "MissingParameter.Source", tcp {})
      expect(400, "MissingParameter.Dest", ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg,
        IpProtocol = "tcp", PortRange = "1/2" })
      expect(400, "InvalidDestCidrIp.Malformed", ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg,
        IpProtocol = "tcp", PortRange = "1/2", DestCidrIp = "everywhere" })
      expect(400, "InvalidParam.DuplicatePermissions", authorize { Permissions = {
        { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" },
        { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" } } })
      expect(400, "InvalidParam.Permissions", authorize { IpProtocol = "tcp", PortRange = "22/22",
        SourceCidrIp = "10.0.0.0/8", Permissions = { { IpProtocol = "tcp", PortRange = "23/23", SourceCidrIp = "10.0.0.0/8" } } })
      -- Revoke names a bad PortRange InvalidIpPortRange.Malformed
      expect(400, "InvalidIpPortRange.Malformed", ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg,
        IpProtocol = "tcp", PortRange = "90/80", SourceCidrIp = "0.0.0.0/0" })
      -- the groups a rule names: in the region, not the group itself, in its VPC, basic groups only
      expect(404, "InvalidSourceGroupId.NotFound", tcp { SourceGroupId = "sg-none" })
      expect(404, "InvalidDestGroupId.NotFound", ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg,
        IpProtocol = "tcp", PortRange = "1/2", DestGroupId = "sg-none" })
      expect(403, "InvalidParamter.Conflict", tcp { SourceGroupId = sg })
      expect(403, "InvalidSecurityGroup.IsSame", ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg,
        IpProtocol = "tcp", PortRange = "1/2", DestGroupId = sg })
      local far = new_group(ecs, { VpcId = ready_vpc(ecs) })
      expect(400, "InvalidSourceGroupId.Mismatch", tcp { SourceGroupId = far })
      local other = new_group(ecs)
      expect(403, "InvalidSourceGroupId.Mismatch", tcp { SourceGroupId = other, NicType = "internet" })
      local adv = new_group(ecs, { SecurityGroupType = "enterprise" })
      expect(400, "InvalidGroupAuthParameter.OperationDenied", tcp { SourceGroupId = adv })
      expect(400, "InvalidGroupParameter.OperationDenied", ecs:AuthorizeSecurityGroup { RegionId = R,
        SecurityGroupId = adv, IpProtocol = "tcp", PortRange = "1/2", SourceGroupId = other })
      expect(400, "InvalidGroupParameter.OperationDenied", ecs:AuthorizeSecurityGroup { RegionId = R,
        SecurityGroupId = adv, IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0", Policy = "drop" })
      -- a rule that names another group of the same VPC
      assert(tcp { PortRange = "5432/5432", SourceGroupId = other })
      local g = assert(ecs:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).SecurityGroups.SecurityGroup[1]
      assert.are.equal(1, g.GroupToGroupRuleCount)
      -- a group that another group's rules name is not deleted until the rule goes
      local err = expect(403, "DependencyViolation", ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = other })
      assert.matches(sg, err.message, 1, true)
      assert(ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "5432/5432",
        SourceGroupId = other })
      assert(ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = other })
      assert.are.equal(0, #assert(ecs:DescribeSecurityGroupAttribute { RegionId = R, SecurityGroupId = sg })
        .Permissions.Permission)
    end)

    it("filters security groups by name, VPC, type, tag and resource group, and pages them", function()
      local ecs = world.ecs()
      for i = 1, 3 do
        new_group(ecs, { SecurityGroupName = "app-" .. i, SecurityGroupType = i == 3 and "enterprise" or "normal",
          Tag = { { Key = "n", Value = tostring(i) } }, ResourceGroupId = i == 2 and "rg-aek2specs" or nil })
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
      -- PageSize: 10 by default, at most 50
      local p = assert(ecs:DescribeSecurityGroups { RegionId = R, PageSize = 3, PageNumber = 2 })
      assert.are.same({ 4, 1 }, { p.TotalCount, #p.SecurityGroups.SecurityGroup })
      assert.are.equal(10, assert(ecs:DescribeSecurityGroups { RegionId = R }).PageSize)
      expect(400, "InvalidParameter", ecs:DescribeSecurityGroups { RegionId = R, PageSize = 51 })
      local ids, token = {}, nil
      for _ = 1, 10 do
        local page = assert(ecs:DescribeSecurityGroups { RegionId = R, MaxResults = 3, NextToken = token })
        for _, g in ipairs(page.SecurityGroups.SecurityGroup) do ids[#ids + 1] = g.SecurityGroupId end
        token = page.NextToken
        if not token or token == "" then break end
      end
      assert.are.equal(4, #ids)
    end)
  end)
end
