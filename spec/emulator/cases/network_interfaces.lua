-- Network interfaces: create in a vSwitch with security groups of its VPC (next free or given
-- addresses, secondary IPs, IPv6), describe with every filter and both paginations (primary
-- interfaces listed too), modify, attach (Attaching -> InUse) and detach (Detaching ->
-- Available) with the instance type's limits, assign/unassign IPs with theirs, delete,
-- dependents, release with the instance, permissions, and the documented errors.
return function(world)
  describe(world.name .. " emulator: network interfaces", function()
    before_each(world.reset)
    local R, Z = "cn-hangzhou", "cn-hangzhou-h"
    local IMAGE = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"

    local function expect(status, code, res, err)
      assert.is_nil(res)
      assert.are.equal(code, err and err.code)
      assert.are.equal(status, err.status)
    end

    -- The default network of zone Z: its vSwitch, the default group, the Running instance there.
    local function net(ecs, zone)
      zone = zone or Z
      local vsw
      for _, v in ipairs(assert(ecs:DescribeVSwitches { RegionId = R }).VSwitches.VSwitch) do
        if v.ZoneId == zone and v.IsDefault then vsw = v end
      end
      local sg = assert(ecs:DescribeSecurityGroups { RegionId = R }).SecurityGroups.SecurityGroup[1]
      local inst
      for _, i in ipairs(assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance) do
        if i.ZoneId == zone then inst = i end
      end
      return { vsw = vsw, sg = sg.SecurityGroupId, inst = inst, vpc = vsw.VpcId }
    end

    local function create(ecs, n, p)
      p = p or {}
      p.RegionId, p.VSwitchId = R, p.VSwitchId or n.vsw.VSwitchId
      if not p.SecurityGroupIds then p.SecurityGroupId = p.SecurityGroupId or n.sg end
      return assert(ecs:CreateNetworkInterface(p)).NetworkInterfaceId
    end

    local function eni(ecs, id)
      return assert(ecs:DescribeNetworkInterfaces { RegionId = R, NetworkInterfaceId = { id } })
        .NetworkInterfaceSets.NetworkInterfaceSet[1]
    end

    local function ips(e)
      local out = {}
      for i, s in ipairs(e.PrivateIpSets.PrivateIpSet) do out[i] = s.PrivateIpAddress end
      return out
    end

    local function count(ecs, p)
      p.RegionId = p.RegionId or R
      return assert(ecs:DescribeNetworkInterfaces(p)).TotalCount
    end

    local function attach(ecs, id, inst)
      assert(ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = id, InstanceId = inst })
      world.advance(1)
    end

    -- A second VPC with a vSwitch in zone Z and a group, all Available.
    local function other_network(ecs)
      local vpc = assert(ecs:CreateVpc { RegionId = R, CidrBlock = "192.168.0.0/16" }).VpcId
      world.advance(1)
      local vsw = assert(ecs:CreateVSwitch { RegionId = R, ZoneId = Z, VpcId = vpc, CidrBlock = "192.168.1.0/24" })
        .VSwitchId
      local sg = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = vpc }).SecurityGroupId
      return { vpc = vpc, vsw = vsw, sg = sg }
    end

    it("creates an Available secondary interface with the next free address, secondary IPs and IPv6", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local before = n.vsw.AvailableIpAddressCount
      local res = assert(ecs:CreateNetworkInterface { RegionId = R, VSwitchId = n.vsw.VSwitchId, SecurityGroupId = n.sg,
        NetworkInterfaceName = "eni-spec", Description = "for specs", SecondaryPrivateIpAddressCount = 2,
        Ipv6AddressCount = 1, QueueNumber = 4, SourceDestCheck = true, Tag = { { Key = "env", Value = "test" } } })
      assert.matches("^eni%-", res.NetworkInterfaceId)
      assert.are.same({ "Available", "Secondary", n.vpc, Z, "eni-spec" },
        { res.Status, res.Type, res.VpcId, res.ZoneId, res.NetworkInterfaceName })
      -- the fixture's instance holds 172.16.0.3: the next free addresses follow it
      assert.are.equal("172.16.0.4", res.PrivateIpAddress)
      assert.are.same({ "172.16.0.4", "172.16.0.5", "172.16.0.6" }, ips(res))
      assert.is_true(res.PrivateIpSets.PrivateIpSet[1].Primary)
      assert.is_false(res.PrivateIpSets.PrivateIpSet[2].Primary)
      assert.matches("^2408:4005:%x+:%x+::1$", res.Ipv6Sets.Ipv6Set[1].Ipv6Address)
      assert.are.same({ n.sg }, res.SecurityGroupIds.SecurityGroupId)
      assert.are.same({ { TagKey = "env", TagValue = "test" } }, res.Tags.Tag)
      local attr = assert(ecs:DescribeNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = res.NetworkInterfaceId,
        Attribute = "attachment" })
      assert.are.same({ "Available", 4, true, false, "for specs" },
        { attr.Status, attr.QueueNumber, attr.SourceDestCheck, attr.DeleteOnRelease, attr.Description })
      assert.is_nil(attr.InstanceId)
      assert.is_nil(attr.Attachment)
      assert(ecs:DescribeNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = res.NetworkInterfaceId,
        Tag = { { Key = "env", Value = "test" } } })
      expect(404, "InvalidEniId.NotFound", ecs:DescribeNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = res.NetworkInterfaceId, Tag = { { Key = "env", Value = "prod" } } })
      local vsw = assert(ecs:DescribeVSwitches { RegionId = R, VSwitchId = n.vsw.VSwitchId }).VSwitches.VSwitch[1]
      assert.are.equal(before - 3, vsw.AvailableIpAddressCount)
      -- given addresses
      local given = assert(ecs:CreateNetworkInterface { RegionId = R, VSwitchId = n.vsw.VSwitchId,
        SecurityGroupIds = { n.sg }, PrimaryIpAddress = "172.16.1.10", PrivateIpAddress = { "172.16.1.11", "172.16.1.12" },
        Ipv6Address = { (res.Ipv6Sets.Ipv6Set[1].Ipv6Address:gsub("::1$", "::0:00aa")) } })
      assert.are.same({ "172.16.1.10", "172.16.1.11", "172.16.1.12" }, ips(given))
      assert.matches("::aa$", given.Ipv6Sets.Ipv6Set[1].Ipv6Address)
      -- the same ClientToken gives the same interface
      local t1 = create(ecs, n, { ClientToken = "eni-token" })
      assert.are.equal(t1, create(ecs, n, { ClientToken = "eni-token" }))
    end)

    it("refuses creations as the service does", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local vsw = n.vsw.VSwitchId
      expect(400, "InvalidPrivateIpAddress.Duplicated", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, PrimaryIpAddress = "172.16.0.3" })
      expect(403, "InvalidVSwitchId.IpInvalid", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, PrimaryIpAddress = "10.9.9.9" })
      expect(403, "InvalidIp.IpRepeated", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, PrivateIpAddress = { "172.16.2.1", "172.16.2.1" } })
      expect(400, "InvalidParameter.Conflict", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, PrivateIpAddress = { "172.16.2.1" }, SecondaryPrivateIpAddressCount = 1 })
      expect(403, "MaxEniPrivateIpsCountExceeded", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, SecondaryPrivateIpAddressCount = 50 })
      expect(403, "InvalidIp.Address", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, Ipv6Address = { "2408::zz" } })
      expect(403, "InvalidVSwitchId.IpInvalid", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, Ipv6Address = { "2001:db8::1" } })
      expect(403, "MaxEniIpv6IpsCountExceeded", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, Ipv6AddressCount = 11 })
      expect(400, "MissingParameter", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw })
      expect(400, "InvalidParameter.Conflict", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, SecurityGroupIds = { n.sg } })
      expect(404, "InvalidSecurityGroupId.NotFound", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = "sg-none" })
      expect(404, "InvalidVSwitchId.NotFound", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = "vsw-none",
        SecurityGroupId = n.sg })
      expect(400, "InvalidParameter", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw, SecurityGroupId = n.sg,
        NetworkInterfaceName = "http://x" })
      expect(403, "InvalidParameter.InvalidEniQueueNumber", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, QueueNumber = 4096 })
      expect(400, "UnsupportedParameter.NotEmulated", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = n.sg, Ipv4PrefixCount = 1 })
      local other = other_network(ecs)
      expect(403, "InvalidOperation.VpcMismatch", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupId = other.sg })
      -- the new vSwitch is still Pending
      expect(400, "IncorrectVSwitchStatus", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = other.vsw,
        SecurityGroupId = other.sg })
      local groups = { n.sg }
      for i = 1, 5 do groups[i + 1] = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = n.vpc }).SecurityGroupId end
      expect(400, "JoinedGroupLimitExceed", ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw,
        SecurityGroupIds = groups })
      assert.are.equal(3, count(ecs, {})) -- nothing was made
    end)

    it("lists primary interfaces too and filters by every filter of the action", function()
      local ecs = world.ecs()
      local n, ni = net(ecs), net(ecs, "cn-hangzhou-i")
      local all = assert(ecs:DescribeNetworkInterfaces { RegionId = R })
      assert.are.equal(3, all.TotalCount)
      local primary = all.NetworkInterfaceSets.NetworkInterfaceSet[1]
      assert.are.same({ "Primary", "InUse", n.inst.InstanceId, 0 },
        { primary.Type, primary.Status, primary.InstanceId, primary.Attachment.DeviceIndex })
      local sg2 = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = n.vpc }).SecurityGroupId
      local a = assert(ecs:CreateNetworkInterface { RegionId = R, VSwitchId = n.vsw.VSwitchId, SecurityGroupId = n.sg,
        NetworkInterfaceName = "alpha", SecondaryPrivateIpAddressCount = 1, Ipv6AddressCount = 1,
        Tag = { { Key = "env", Value = "test" } } })
      local b = create(ecs, ni, { NetworkInterfaceName = "beta", SecurityGroupIds = { sg2 },
        ResourceGroupId = "rg-acfmemu0other" })
      local function ids(p)
        p.RegionId = p.RegionId or R
        local out = {}
        for i, e in ipairs(assert(ecs:DescribeNetworkInterfaces(p)).NetworkInterfaceSets.NetworkInterfaceSet) do
          out[i] = e.NetworkInterfaceId
        end
        return out
      end
      local A = a.NetworkInterfaceId
      assert.are.same({ A, b }, ids { NetworkInterfaceId = { A, b } })
      assert.are.same({ b }, ids { VSwitchId = ni.vsw.VSwitchId, Type = "Secondary" })
      assert.are.equal(5, count(ecs, { VpcId = n.vpc }))
      assert.are.equal(0, count(ecs, { VpcId = "vpc-none" }))
      assert.are.same({ A }, ids { PrimaryIpAddress = a.PrivateIpAddress })
      assert.are.same({ A }, ids { PrivateIpAddress = { a.PrivateIpSets.PrivateIpSet[2].PrivateIpAddress } })
      assert.are.same({ primary.NetworkInterfaceId }, ids { PrivateIpAddress = { primary.PrivateIpAddress } })
      assert.are.same({ A }, ids { Ipv6Address = { a.Ipv6Sets.Ipv6Set[1].Ipv6Address } })
      assert.are.same({ b }, ids { SecurityGroupId = sg2 })
      assert.are.equal(4, count(ecs, { SecurityGroupId = n.sg }))
      assert.are.equal(3, count(ecs, { Type = "Primary" }))
      assert.are.equal(2, count(ecs, { Type = "Secondary" }))
      assert.are.same({ primary.NetworkInterfaceId }, ids { InstanceId = n.inst.InstanceId })
      assert.are.same({ A, b }, ids { Status = "Available" })
      assert.are.equal(3, count(ecs, { Status = "InUse" }))
      assert.are.same({ b }, ids { NetworkInterfaceName = "beta" })
      assert.are.same({ A }, ids { Tag = { { Key = "env", Value = "test" } } })
      assert.are.same({ b }, ids { ResourceGroupId = "rg-acfmemu0other" })
      assert.are.equal(5, count(ecs, { ServiceManaged = false }))
      assert.are.equal(0, count(ecs, { ServiceManaged = true }))
      assert.are.equal(0, count(ecs, { RegionId = "cn-beijing", NetworkInterfaceId = { A } }))
      expect(400, "InvalidParameter", ecs:DescribeNetworkInterfaces { RegionId = R, Type = "Tertiary" })
      expect(400, "InvalidParameter", ecs:DescribeNetworkInterfaces { RegionId = R, Status = "Melting" })
    end)

    it("pages with PageNumber and PageSize, and with NextToken and MaxResults", function()
      local ecs = world.ecs()
      local n = net(ecs)
      for _ = 1, 2 do create(ecs, n) end
      local p3 = assert(ecs:DescribeNetworkInterfaces { RegionId = R, PageNumber = 3, PageSize = 2 })
      assert.are.same({ 5, 3, 2, 1 }, { p3.TotalCount, p3.PageNumber, p3.PageSize, #p3.NetworkInterfaceSets.NetworkInterfaceSet })
      local seen, token, pages = {}, nil, 0
      repeat
        local page = assert(ecs:DescribeNetworkInterfaces { RegionId = R, MaxResults = 2, NextToken = token })
        pages = pages + 1
        for _, e in ipairs(page.NetworkInterfaceSets.NetworkInterfaceSet) do seen[#seen + 1] = e.NetworkInterfaceId end
        token = page.NextToken
      until token == "" or pages > 5
      assert.are.same({ 3, 5 }, { pages, #seen })
      expect(400, "InvalidParameter.NextToken", ecs:DescribeNetworkInterfaces { RegionId = R, NextToken = "bogus" })
      expect(400, "InvalidParameter", ecs:DescribeNetworkInterfaces { RegionId = R, PageSize = 101 })
    end)

    it("modifies name, description, security groups, queue number and DeleteOnRelease", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local id = create(ecs, n)
      local sg2 = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = n.vpc }).SecurityGroupId
      assert(ecs:ModifyNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = id, NetworkInterfaceName = "renamed",
        Description = "changed", SecurityGroupId = { sg2, n.sg }, QueueNumber = 8, DeleteOnRelease = true })
      local attr = assert(ecs:DescribeNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = id })
      assert.are.same({ "renamed", "changed", 8, true }, { attr.NetworkInterfaceName, attr.Description, attr.QueueNumber,
        attr.DeleteOnRelease })
      assert.are.same({ sg2, n.sg }, attr.SecurityGroupIds.SecurityGroupId)
      local other = other_network(ecs)
      expect(403, "InvalidOperation.VpcMismatch", ecs:ModifyNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = id, SecurityGroupId = { other.sg } })
      expect(403, "InvalidParameter.InvalidEniQueueNumber", ecs:ModifyNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = id, QueueNumber = 0 })
      expect(400, "InvalidParameter", ecs:ModifyNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = id,
        NetworkInterfaceName = "1bad" })
      expect(404, "InvalidEniId.NotFound", ecs:ModifyNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = "eni-none", NetworkInterfaceName = "abc" })
      expect(404, "InvalidEniId.NotFound", ecs:DescribeNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = "eni-none" })
      assert.are.equal("renamed", eni(ecs, id).NetworkInterfaceName) -- the refused calls changed nothing
      -- the primary interface: its groups are the instance's; its queues and release are not to change
      local primary = eni(ecs, n.inst.NetworkInterfaces.NetworkInterface[1].NetworkInterfaceId)
      assert(ecs:ModifyNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = primary.NetworkInterfaceId,
        SecurityGroupId = { sg2 } })
      local inst = assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { n.inst.InstanceId } }).Instances.Instance[1]
      assert.are.same({ sg2 }, inst.SecurityGroupIds.SecurityGroupId)
      expect(403, "InvalidOperation.InvalidEniType", ecs:ModifyNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = primary.NetworkInterfaceId, QueueNumber = 2 })
      expect(400, "UnsupportedParameter.NotEmulated", ecs:ModifyNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = primary.NetworkInterfaceId, DeleteOnRelease = false })
      -- an attached interface's queues change only while its instance is Stopped
      attach(ecs, id, n.inst.InstanceId)
      expect(400, "InvalidOperation.InvalidEcsState", ecs:ModifyNetworkInterfaceAttribute { RegionId = R,
        NetworkInterfaceId = id, QueueNumber = 2 })
      assert(ecs:StopInstance { InstanceId = n.inst.InstanceId })
      world.advance(2)
      assert(ecs:ModifyNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = id, QueueNumber = 2 })
      assert.are.equal(2, eni(ecs, id).QueueNumber)
    end)

    it("attaches Attaching then InUse and detaches Detaching then Available, with the delays", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local id = create(ecs, n)
      assert(ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = id, InstanceId = n.inst.InstanceId })
      local e = eni(ecs, id)
      assert.are.same({ "Attaching", n.inst.InstanceId }, { e.Status, e.InstanceId })
      expect(400, "InvalidOperation.InvalidEniState", ecs:DetachNetworkInterface { RegionId = R, NetworkInterfaceId = id,
        InstanceId = n.inst.InstanceId })
      world.advance(1)
      e = eni(ecs, id)
      assert.are.same({ "InUse", 1, n.inst.InstanceId }, { e.Status, e.Attachment.DeviceIndex, e.Attachment.InstanceId })
      local inst = assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { n.inst.InstanceId } }).Instances.Instance[1]
      assert.are.equal(2, #inst.NetworkInterfaces.NetworkInterface)
      assert.are.equal(id, inst.NetworkInterfaces.NetworkInterface[2].NetworkInterfaceId)
      -- an attached interface is measured (DescribeEniMonitorData takes its EniId)
      local now = os.time()
      local function monitor()
        local s = now - now % 60 - 600
        return assert(ecs:DescribeEniMonitorData { RegionId = R, InstanceId = n.inst.InstanceId, EniId = id,
          StartTime = os.date("!%Y-%m-%dT%H:%M:%SZ", s), EndTime = os.date("!%Y-%m-%dT%H:%M:%SZ", s + 120) })
          .MonitorData.EniMonitorData
      end
      local points = monitor()
      assert.are.equal(3, #points)
      assert.are.equal(id, points[1].EniId)
      expect(400, "InvalidOperation.InvalidEniState", ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = id,
        InstanceId = n.inst.InstanceId })
      expect(400, "InvalidOperation.InvalidEniState", ecs:DeleteNetworkInterface { RegionId = R, NetworkInterfaceId = id })
      assert(ecs:DetachNetworkInterface { RegionId = R, NetworkInterfaceId = id, InstanceId = n.inst.InstanceId })
      assert.are.equal("Detaching", eni(ecs, id).Status)
      -- asked again while it is Detaching: accepted
      assert(ecs:DetachNetworkInterface { RegionId = R, NetworkInterfaceId = id, InstanceId = n.inst.InstanceId })
      world.advance(1)
      e = eni(ecs, id)
      assert.are.same({ "Available" }, { e.Status, e.InstanceId, e.Attachment })
      assert.are.equal(0, #monitor())
      -- a Stopped instance takes interfaces too
      assert(ecs:StopInstance { InstanceId = n.inst.InstanceId })
      world.advance(2)
      attach(ecs, id, n.inst.InstanceId)
      assert.are.equal("InUse", eni(ecs, id).Status)
    end)

    it("refuses attach and detach as the service documents", function()
      local ecs = world.ecs()
      local n, ni = net(ecs), net(ecs, "cn-hangzhou-i")
      local id = create(ecs, n)
      local inst = n.inst.InstanceId -- ecs.g7.large: 3 interfaces, 6 private IPs each
      expect(403, "InvalidOperation.AvailabilityZoneMismatch", ecs:AttachNetworkInterface { RegionId = R,
        NetworkInterfaceId = create(ecs, ni), InstanceId = inst })
      local other = other_network(ecs)
      world.advance(1)
      expect(403, "InvalidOperation.VpcMismatch", ecs:AttachNetworkInterface { RegionId = R,
        NetworkInterfaceId = create(ecs, n, { VSwitchId = other.vsw, SecurityGroupId = other.sg }), InstanceId = inst })
      expect(400, "InvalidParameter", ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = id, InstanceId = inst,
        NetworkCardIndex = 1 })
      expect(404, "InvalidEniId.NotFound", ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = "eni-none",
        InstanceId = inst })
      expect(404, "InvalidInstanceId.NotFound", ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = id,
        InstanceId = "i-none" })
      local crowded = create(ecs, n, { SecondaryPrivateIpAddressCount = 6 })
      expect(403, "MaxEniPrivateIpsCountExceeded", ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = crowded,
        InstanceId = inst })
      local v6 = create(ecs, n, { Ipv6AddressCount = 7 })
      expect(403, "MaxEniIpv6IpsCountExceeded", ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = v6,
        InstanceId = inst })
      -- the instance must be Running or Stopped
      assert(ecs:StopInstance { InstanceId = inst })
      expect(400, "InvalidOperation.InvalidEcsState", ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = id,
        InstanceId = inst })
      world.advance(2)
      -- the type's interface limit: the primary and two more
      attach(ecs, id, inst)
      attach(ecs, create(ecs, n), inst)
      expect(403, "EniPerInstanceLimitExceeded", ecs:AttachNetworkInterface { RegionId = R,
        NetworkInterfaceId = create(ecs, n), InstanceId = inst })
      local primary = n.inst.NetworkInterfaces.NetworkInterface[1].NetworkInterfaceId
      expect(400, "InvalidOperation.DetachPrimaryEniNotAllowed", ecs:DetachNetworkInterface { RegionId = R,
        NetworkInterfaceId = primary, InstanceId = inst })
      expect(400, "InvalidOperation.InvalidEniState", ecs:DetachNetworkInterface { RegionId = R, NetworkInterfaceId = id,
        InstanceId = ni.inst.InstanceId })
      assert.are.equal("InUse", eni(ecs, id).Status)
    end)

    it("assigns and unassigns secondary private IPs within the limits", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local id = create(ecs, n)
      local res = assert(ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id,
        SecondaryPrivateIpAddressCount = 2 })
      assert.are.equal(id, res.AssignedPrivateIpAddressesSet.NetworkInterfaceId)
      local added = res.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress
      assert.are.same({ "172.16.0.5", "172.16.0.6" }, added)
      assert(ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id, PrivateIpAddress = { "172.16.3.3" } })
      assert.are.same({ "172.16.0.4", "172.16.0.5", "172.16.0.6", "172.16.3.3" }, ips(eni(ecs, id)))
      expect(400, "InvalidPrivateIpAddress.Duplicated", ecs:AssignPrivateIpAddresses { RegionId = R,
        NetworkInterfaceId = id, PrivateIpAddress = { "172.16.0.3" } })
      expect(403, "InvalidVSwitchId.IpInvalid", ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id,
        PrivateIpAddress = { "172.16.99.1" } })
      expect(400, "InvalidParameter", ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id,
        PrivateIpAddress = { "172.16.3.4" }, SecondaryPrivateIpAddressCount = 1 })
      expect(400, "MissingParameter", ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id })
      expect(404, "InvalidEniId.NotFound", ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = "eni-none",
        SecondaryPrivateIpAddressCount = 1 })
      -- not attached: 49 secondary IPs at most
      expect(403, "MaxEniPrivateIpsCountExceeded", ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id,
        SecondaryPrivateIpAddressCount = 47 })
      assert(ecs:UnassignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id, PrivateIpAddress = added })
      assert.are.same({ "172.16.0.4", "172.16.3.3" }, ips(eni(ecs, id)))
      expect(403, "InvalidIp.IpUnassigned", ecs:UnassignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id,
        PrivateIpAddress = { "172.16.0.5" } })
      expect(403, "InvalidIp.IpUnassigned", ecs:UnassignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id,
        PrivateIpAddress = { "172.16.0.4" } }) -- the primary address is not a secondary one
      expect(400, "MissingParameter.PrivateIpAddress.1", ecs:UnassignPrivateIpAddresses { RegionId = R,
        NetworkInterfaceId = id })
      -- attached to an ecs.g7.large: 6 private IPs per interface, the primary included
      assert(ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = id, InstanceId = n.inst.InstanceId })
      expect(400, "InvalidOperation.InvalidEniState", ecs:AssignPrivateIpAddresses { RegionId = R,
        NetworkInterfaceId = id, SecondaryPrivateIpAddressCount = 1 })
      world.advance(1)
      assert(ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id, SecondaryPrivateIpAddressCount = 4 })
      expect(403, "MaxEniPrivateIpsCountExceeded", ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = id,
        SecondaryPrivateIpAddressCount = 1 })
      -- a primary interface takes secondary IPs too, and the instance shows them
      local primary = n.inst.NetworkInterfaces.NetworkInterface[1].NetworkInterfaceId
      assert(ecs:AssignPrivateIpAddresses { RegionId = R, NetworkInterfaceId = primary, PrivateIpAddress = { "172.16.4.4" } })
      local inst = assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { n.inst.InstanceId } }).Instances.Instance[1]
      local sets = inst.NetworkInterfaces.NetworkInterface[1].PrivateIpSets.PrivateIpSet
      assert.are.equal("172.16.4.4", sets[#sets].PrivateIpAddress)
    end)

    it("assigns and unassigns IPv6 addresses within the limits", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local id = create(ecs, n)
      local res = assert(ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id, Ipv6AddressCount = 2 })
      assert.are.equal(id, res.NetworkInterfaceId)
      local v6 = res.Ipv6Sets.Ipv6Address
      assert.are.equal(2, #v6)
      local prefix = v6[1]:match("^(.*)::1$")
      assert.is_string(prefix)
      -- given in a long form, kept in the service's compressed form
      local long = prefix .. ":0:0:0:00AB"
      assert(ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id, Ipv6Address = { long } })
      local have = {}
      for i, s in ipairs(eni(ecs, id).Ipv6Sets.Ipv6Set) do have[i] = s.Ipv6Address end
      assert.are.same({ prefix .. "::1", prefix .. "::2", prefix .. "::ab" }, have)
      expect(403, "InvalidIp.IpAssigned", ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id,
        Ipv6Address = { prefix .. "::1" } })
      expect(403, "InvalidIp.IpRepeated", ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id,
        Ipv6Address = { prefix .. "::9", prefix .. ":0::9" } })
      expect(403, "InvalidIp.Address", ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id,
        Ipv6Address = { "1:2:3" } })
      expect(403, "InvalidVSwitchId.IpInvalid", ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id,
        Ipv6Address = { "2001:db8::9" } })
      expect(400, "MissingParameter", ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id })
      expect(403, "MaxEniIpv6IpsCountExceeded", ecs:AssignIpv6Addresses { RegionId = R, NetworkInterfaceId = id,
        Ipv6AddressCount = 8 })
      assert(ecs:UnassignIpv6Addresses { RegionId = R, NetworkInterfaceId = id, Ipv6Address = { long, v6[1] } })
      assert.are.same({ { Ipv6Address = prefix .. "::2" } }, eni(ecs, id).Ipv6Sets.Ipv6Set)
      expect(403, "InvalidIp.IpUnassigned", ecs:UnassignIpv6Addresses { RegionId = R, NetworkInterfaceId = id,
        Ipv6Address = { v6[1] } })
      expect(404, "InvalidEniId.NotFound", ecs:UnassignIpv6Addresses { RegionId = R, NetworkInterfaceId = "eni-none",
        Ipv6Address = { v6[2] } })
    end)

    it("deletes only Available secondary interfaces", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local id = create(ecs, n)
      local primary = n.inst.NetworkInterfaces.NetworkInterface[1].NetworkInterfaceId
      expect(403, "InvalidOperation.InvalidEniType", ecs:DeleteNetworkInterface { RegionId = R,
        NetworkInterfaceId = primary })
      assert(ecs:DeleteNetworkInterface { RegionId = R, NetworkInterfaceId = id })
      assert.are.equal(0, count(ecs, { NetworkInterfaceId = { id } }))
      expect(404, "InvalidEniId.NotFound", ecs:DeleteNetworkInterface { RegionId = R, NetworkInterfaceId = id })
      expect(404, "InvalidEniId.NotFound", ecs:DescribeNetworkInterfaceAttribute { RegionId = R, NetworkInterfaceId = id })
      -- its addresses are free again
      assert.are.equal("172.16.0.4", eni(ecs, create(ecs, n)).PrivateIpAddress)
    end)

    it("keeps vSwitches and security groups with interfaces from deletion", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local vsw = assert(ecs:CreateVSwitch { RegionId = R, ZoneId = Z, VpcId = n.vpc, CidrBlock = "172.20.0.0/24" })
        .VSwitchId
      local sg = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = n.vpc }).SecurityGroupId
      world.advance(1)
      local id = create(ecs, n, { VSwitchId = vsw, SecurityGroupId = sg })
      expect(400, "DependencyViolation", ecs:DeleteVSwitch { RegionId = R, VSwitchId = vsw })
      expect(403, "DependencyViolation", ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = sg })
      assert(ecs:DeleteNetworkInterface { RegionId = R, NetworkInterfaceId = id })
      assert(ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = sg })
      assert(ecs:DeleteVSwitch { RegionId = R, VSwitchId = vsw })
    end)

    it("releases the primary interface and those with DeleteOnRelease with their instance, detaches the rest", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local function launch()
        local id = assert(ecs:RunInstances { RegionId = R, ImageId = IMAGE, InstanceType = "ecs.g7.large",
          VSwitchId = n.vsw.VSwitchId, SecurityGroupId = n.sg }).InstanceIdSets.InstanceIdSet[1]
        world.advance(2) -- Pending -> Starting
        assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { id } })
        world.advance(2) -- Starting -> Running
        return id
      end
      local inst = launch()
      local primary = assert(ecs:DescribeNetworkInterfaces { RegionId = R, InstanceId = inst })
        .NetworkInterfaceSets.NetworkInterfaceSet[1].NetworkInterfaceId
      local kept, released = create(ecs, n), create(ecs, n, { DeleteOnRelease = true })
      attach(ecs, kept, inst)
      attach(ecs, released, inst)
      assert(ecs:DeleteInstance { InstanceId = inst, Force = true })
      assert.are.equal(0, count(ecs, { NetworkInterfaceId = { primary, released } }))
      local e = eni(ecs, kept)
      assert.are.same({ "Available" }, { e.Status, e.InstanceId })
      -- an attachment still under way when its instance goes ends Available
      local second = launch()
      assert(ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = kept, InstanceId = second })
      assert(ecs:DeleteInstance { InstanceId = second, Force = true })
      world.advance(1)
      e = eni(ecs, kept)
      assert.are.same({ "Available" }, { e.Status, e.InstanceId })
    end)

    it("grants, lists and revokes permissions for another account", function()
      local ecs = world.ecs()
      local n = net(ecs)
      local id = create(ecs, n)
      local other = "2234567890123456"
      local res = assert(ecs:CreateNetworkInterfacePermission { RegionId = R, NetworkInterfaceId = id,
        AccountId = other, Permission = "InstanceAttach" })
      local p = res.NetworkInterfacePermission
      assert.matches("^eni%-perm%-", p.NetworkInterfacePermissionId)
      assert.are.same({ id, 2234567890123456, "InstanceAttach", "Granted" },
        { p.NetworkInterfaceId, p.AccountId, p.Permission, p.PermissionState })
      local function list(q)
        q.RegionId = R
        return assert(ecs:DescribeNetworkInterfacePermissions(q))
      end
      local l = list { NetworkInterfaceId = id }
      assert.are.same({ 1, 1, p.NetworkInterfacePermissionId },
        { l.TotalCount, l.PageNumber, l.NetworkInterfacePermissions.NetworkInterfacePermission[1].NetworkInterfacePermissionId })
      assert.are.equal(1, list({ NetworkInterfacePermissionId = { p.NetworkInterfacePermissionId } }).TotalCount)
      assert.are.equal(0, list({ NetworkInterfaceId = create(ecs, n) }).TotalCount)
      expect(400, "MissingParameter", ecs:DescribeNetworkInterfacePermissions { RegionId = R })
      expect(400, "InvalidParameter", ecs:CreateNetworkInterfacePermission { RegionId = R, NetworkInterfaceId = id,
        AccountId = other, Permission = "InstanceAttach" }) -- granted already
      expect(400, "InvalidParameter", ecs:CreateNetworkInterfacePermission { RegionId = R, NetworkInterfaceId = id,
        AccountId = "1234567890123456", Permission = "InstanceAttach" }) -- its own account
      expect(400, "InvalidParameter", ecs:CreateNetworkInterfacePermission { RegionId = R, NetworkInterfaceId = id,
        AccountId = "999", Permission = "InstanceAttach" })
      expect(400, "InvalidParameter", ecs:CreateNetworkInterfacePermission { RegionId = R, NetworkInterfaceId = id,
        AccountId = other, Permission = "EipAssociate" })
      expect(404, "InvalidEniId.NotFound", ecs:CreateNetworkInterfacePermission { RegionId = R,
        NetworkInterfaceId = "eni-none", AccountId = other, Permission = "InstanceAttach" })
      -- the other account sees neither the interface nor the permission
      local theirs = world.ecs { access_key_id = "otherid", access_key_secret = "othersecret" }
      assert.are.equal(0, assert(theirs:DescribeNetworkInterfaces { RegionId = R, NetworkInterfaceId = { id } }).TotalCount)
      assert(ecs:DeleteNetworkInterfacePermission { RegionId = R, NetworkInterfacePermissionId = p.NetworkInterfacePermissionId,
        Force = true })
      assert.are.equal(0, list({ NetworkInterfaceId = id }).TotalCount)
      expect(400, "InvalidParameter", ecs:DeleteNetworkInterfacePermission { RegionId = R,
        NetworkInterfacePermissionId = p.NetworkInterfacePermissionId })
      -- the permissions of a deleted interface go with it
      local again = assert(ecs:CreateNetworkInterfacePermission { RegionId = R, NetworkInterfaceId = id,
        AccountId = other, Permission = "InstanceAttach" }).NetworkInterfacePermission.NetworkInterfacePermissionId
      assert(ecs:DeleteNetworkInterface { RegionId = R, NetworkInterfaceId = id })
      assert.are.equal(0, list({ NetworkInterfacePermissionId = { again } }).TotalCount)
    end)
  end)
end
