-- ENS EIPs, NAT gateways and load balancers: create, describe with filters and paging,
-- modify, associate and unassociate with their states, backend servers, delete and release,
-- not-found, wrong states and dependents.
return function(world)
  describe(world.name .. " emulator: ENS EIPs, NAT gateways and load balancers", function()
    before_each(world.reset)
    local N, N2 = "cn-chengdu-telecom-2", "cn-shanghai-cmcc"

    local expect = require("support.emulator").expect

    local function new_eip(ens, extra)
      local p = { EnsRegionId = N, InstanceChargeType = "PostPaid", InternetChargeType = "95BandwidthByMonth" }
      for k, v in pairs(extra or {}) do p[k] = v end
      local id = assert(ens:CreateEipInstance(p)).AllocationId
      world.advance(2)
      return id
    end

    local function eip(ens, id)
      return assert(ens:DescribeEnsEipAddresses { AllocationId = id }).EipAddresses.EipAddress[1]
    end

    -- a network and a vSwitch of node N, Available
    local function network(ens, cidr)
      local net = assert(ens:CreateNetwork { EnsRegionId = N, CidrBlock = cidr or "10.0.0.0/16" }).NetworkId
      world.advance(2)
      local vsw = assert(ens:CreateVSwitch { EnsRegionId = N, NetworkId = net,
        CidrBlock = (cidr or "10.0.0.0/16"):gsub("%.0%.0/16$", ".1.0/24") }).VSwitchId
      world.advance(2)
      return net, vsw
    end

    local function instance(ens, net, vsw)
      local id = assert(ens:RunInstances { EnsRegionId = N, InstanceType = "ens.sn1.small", NetWorkId = net,
        VSwitchId = vsw, ImageId = "centos_7_9_x64_20G_alibase_20240101", ScheduleAreaLevel = "Region",
        InstanceChargeType = "PostPaid", InternetChargeType = "BandwidthByDay" }).InstanceIds[1]
      world.advance(3)
      return id
    end

    it("makes EIPs that are Creating, then Available, and finds them", function()
      local ens = world.ens()
      local id = assert(ens:CreateEipInstance { EnsRegionId = N, InstanceChargeType = "PostPaid",
        InternetChargeType = "95BandwidthByMonth", Bandwidth = 20, Name = "front", Description = "public door",
        Isp = "telecom" }).AllocationId
      assert.matches("^eip%-", id)
      local e = eip(ens, id)
      assert.are.same({ "Creating", "front", 20, "telecom", N, "", "PostPaid", "95BandwidthByMonth" },
        { e.Status, e.Name, e.Bandwidth, e.Isp, e.EnsRegionId, e.InstanceId, e.ChargeType, e.InternetChargeType })
      assert.matches("^%d+%.%d+%.%d+%.%d+$", e.IpAddress)
      world.advance(2)
      assert.are.equal("Available", eip(ens, id).Status)
      new_eip(ens, { EnsRegionId = N2 })
      local function count(p) return assert(ens:DescribeEnsEipAddresses(p)).TotalCount end
      assert.are.equal(2, count {})
      assert.are.equal(1, count { EnsRegionId = N2 })
      assert.are.equal(2, count { EnsRegionIds = { N, N2 } })
      assert.are.equal(1, count { EipName = "front" })
      assert.are.equal(1, count { EipAddress = e.IpAddress })
      assert.are.equal(1, #assert(ens:DescribeEnsEipAddresses { PageSize = 1 }).EipAddresses.EipAddress)
      assert(ens:ModifyEnsEipAddressAttribute { AllocationId = id, Bandwidth = 50, Name = "renamed" })
      e = eip(ens, id)
      assert.are.same({ 50, "renamed" }, { e.Bandwidth, e.Name })
      expect(400, "InvalidParameter.Bandwidth", ens:ModifyEnsEipAddressAttribute { AllocationId = id, Bandwidth = 0 })
      expect(400, "InvalidParameter.InternetChargeType", ens:CreateEipInstance { EnsRegionId = N,
        InstanceChargeType = "PostPaid", InternetChargeType = "Free" })
      assert(ens:DeleteEip { InstanceId = id })
      expect(400, "InvalidParameter.AllocationId", ens:DeleteEip { InstanceId = id })
      expect(400, "InvalidParameter.AllocationId", ens:ModifyEnsEipAddressAttribute { AllocationId = id, Name = "again" })
    end)

    it("associates an EIP with an instance through Associating, and unassociates it", function()
      local ens = world.ens()
      local net, vsw = network(ens)
      local inst = instance(ens, net, vsw)
      local id = assert(ens:CreateEipInstance { EnsRegionId = N, InstanceChargeType = "PostPaid",
        InternetChargeType = "95BandwidthByMonth" }).AllocationId
      expect(400, "IncorrectEipStatus", ens:AssociateEnsEipAddress { AllocationId = id, InstanceId = inst })
      world.advance(2)
      expect(400, "InstanceNotFound", ens:AssociateEnsEipAddress { AllocationId = id, InstanceId = "i-none" })
      assert(ens:AssociateEnsEipAddress { AllocationId = id, InstanceId = inst, InstanceType = "EnsInstance" })
      local e = eip(ens, id)
      assert.are.same({ "Associating", inst, "EnsInstance" }, { e.Status, e.InstanceId, e.InstanceType })
      world.advance(2)
      assert.are.equal("InUse", eip(ens, id).Status)
      local i = assert(ens:DescribeInstances { InstanceId = inst }).Instances.Instance[1]
      assert.are.same({ e.IpAddress }, i.PublicIpAddress.IpAddress)
      assert.are.equal(1, assert(ens:DescribeInstances { EipAddresses = { e.IpAddress } }).TotalCount)
      assert.are.equal(1, assert(ens:DescribeEnsEipAddresses { AssociatedInstanceId = inst }).TotalCount)
      expect(400, "IncorrectEipStatus", ens:DeleteEip { InstanceId = id })
      local other = new_eip(ens)
      expect(400, "InvalidParameter", ens:AssociateEnsEipAddress { AllocationId = other, InstanceId = inst })
      local far = new_eip(ens, { EnsRegionId = N2 })
      expect(400, "InvalidParameter.InstanceId", ens:AssociateEnsEipAddress { AllocationId = far, InstanceId = inst })
      local _, err = ens:AssociateEnsEipAddress { AllocationId = other, InstanceId = inst, InstanceType = "NetworkInterface" }
      assert.are.equal("UnsupportedParameter.NotEmulated", err.code)
      assert(ens:UnAssociateEnsEipAddress { AllocationId = id })
      assert.are.equal("Unassociating", eip(ens, id).Status)
      world.advance(2)
      e = eip(ens, id)
      assert.are.same({ "Available", "" }, { e.Status, e.InstanceId })
      expect(400, "IncorrectEipStatus", ens:UnAssociateEnsEipAddress { AllocationId = id })
      -- releasing the instance lets its EIP go
      assert(ens:AssociateEnsEipAddress { AllocationId = id, InstanceId = inst })
      world.advance(2)
      assert(ens:ReleasePostPaidInstance { InstanceId = inst })
      assert.are.same({ "Available", "" }, { eip(ens, id).Status, eip(ens, id).InstanceId })
      assert(ens:DeleteEip { InstanceId = id })
    end)

    it("makes NAT gateways in a network, shows their EIPs, deletes them with ForceDelete", function()
      local ens = world.ens()
      local net, vsw = network(ens)
      local id = assert(ens:CreateNatGateway { EnsRegionId = N, NetworkId = net, VSwitchId = vsw, Name = "out",
        InstanceType = "enat.default" }).NatGatewayId
      assert.matches("^nat%-", id)
      local g = assert(ens:DescribeNatGateways { NatGatewayId = id }).NatGateways[1]
      assert.are.same({ "Creating", "out", net, vsw, N, "enat.default" },
        { g.Status, g.Name, g.NetworkId, g.VSwitchId, g.EnsRegionId, g.Spec })
      expect(400, "IncorrectNatStatus", ens:DeleteNatGateway { NatGatewayId = id })
      world.advance(3)
      assert.are.equal("Running", assert(ens:DescribeNatGateways { NatGatewayId = id }).NatGateways[1].Status)
      assert.are.same({ id }, assert(ens:DescribeVSwitchAttributes { VSwitchId = vsw }).NatGatewayIds.NatGatewayId)
      expect(400, "InvalidParameter", ens:DeleteVSwitch { VSwitchId = vsw })
      expect(400, "DependencyViolation.VSwitch", ens:DeleteNetwork { NetworkId = net })
      local e = new_eip(ens)
      assert(ens:AssociateEnsEipAddress { AllocationId = e, InstanceId = id, InstanceType = "Nat" })
      world.advance(2)
      local ips = assert(ens:DescribeNatGateways { NatGatewayId = id }).NatGateways[1].IpLists
      assert.are.same({ e }, { ips[1].AllocationId })
      local function count(p) return assert(ens:DescribeNatGateways(p)).TotalCount end
      assert.are.equal(1, count { EnsRegionId = N })
      assert.are.equal(0, count { EnsRegionIds = { N2 } })
      assert.are.equal(1, count { NetworkId = net })
      assert.are.equal(1, count { VSwitchId = vsw })
      assert.are.equal(1, count { Name = "out" })
      assert.are.equal(1, count { NatGatewayIds = { id } })
      expect(400, "InvalidParameter", ens:DeleteNatGateway { NatGatewayId = id })
      assert(ens:DeleteNatGateway { NatGatewayId = id, ForceDelete = true })
      assert.are.same({ "Available", "" }, { eip(ens, e).Status, eip(ens, e).InstanceId })
      expect(400, "InvalidParameter.NatGatewayId", ens:DeleteNatGateway { NatGatewayId = id })
      expect(400, "InvalidNetworkId.NotFound", ens:CreateNatGateway { EnsRegionId = N, NetworkId = "n-none",
        VSwitchId = vsw })
    end)

    it("makes load balancers with backend servers and releases them", function()
      local ens = world.ens()
      local net, vsw = network(ens)
      local a = instance(ens, net, vsw)
      local b = instance(ens, net, vsw)
      local res = assert(ens:CreateLoadBalancer { EnsRegionId = N, NetworkId = net, VSwitchId = vsw,
        LoadBalancerSpec = "elb.s2.small", LoadBalancerName = "front", PayType = "PayAsYouGo" })
      local id = res.LoadBalancerId
      assert.matches("^lb%-", id)
      assert.are.same({ "front", net, vsw }, { res.LoadBalancerName, res.NetworkId, res.VSwitchId })
      local lb = assert(ens:DescribeLoadBalancerAttribute { LoadBalancerId = id })
      assert.are.same({ "Active", "elb.s2.small", "PayAsYouGo", N, {} },
        { lb.LoadBalancerStatus, lb.LoadBalancerSpec, lb.PayType, lb.EnsRegionId, lb.BackendServers })
      assert.matches("^10%.0%.1%.", lb.Address)
      local added = assert(ens:AddBackendServers { LoadBalancerId = id, BackendServers = {
        { ServerId = a, Weight = 50, Port = 80 }, { ServerId = b } } }).BackendServers.BackendServer
      assert.are.same({ a, 50, 80, "ens" }, { added[1].ServerId, added[1].Weight, added[1].Port, added[1].Type })
      assert.are.same({ b, 100 }, { added[2].ServerId, added[2].Weight })
      lb = assert(ens:DescribeLoadBalancerAttribute { LoadBalancerId = id })
      assert.are.same({ "80", 2 }, { lb.BackendServers[1].Port, #lb.BackendServers })
      assert(ens:StopInstance { InstanceId = b })
      world.advance(3)
      expect(400, "IncorrectInstanceStatus", ens:AddBackendServers { LoadBalancerId = id,
        BackendServers = { { ServerId = b, Weight = 10 } } })
      expect(400, "InstanceNotFound", ens:AddBackendServers { LoadBalancerId = id,
        BackendServers = { { ServerId = "i-none" } } })
      expect(400, "InvalidParameter.BackendServers", ens:AddBackendServers { LoadBalancerId = id,
        BackendServers = { { ServerId = a, Weight = 101 } } })
      local left = assert(ens:RemoveBackendServers { LoadBalancerId = id,
        BackendServers = { { ServerId = a } } }).BackendServers.BackendServer
      assert.are.same({ b }, { left[1].ServerId })
      assert(ens:ModifyLoadBalancerAttribute { LoadBalancerId = id, LoadBalancerName = "renamed" })
      assert.are.equal("renamed", assert(ens:DescribeLoadBalancerAttribute { LoadBalancerId = id }).LoadBalancerName)
      assert.are.same({ id }, assert(ens:DescribeVSwitchAttributes { VSwitchId = vsw }).LoadBalancerIds.LoadBalancerId)
      expect(400, "InvalidParameter", ens:DeleteVSwitch { VSwitchId = vsw })
      assert(ens:ReleasePostPaidInstance { InstanceId = b })
      assert.are.same({}, assert(ens:DescribeLoadBalancerAttribute { LoadBalancerId = id }).BackendServers)
      assert(ens:ReleaseInstance { InstanceId = id })
      expect(400, "InvalidParameter.LoadBalancerId", ens:DescribeLoadBalancerAttribute { LoadBalancerId = id })
      expect(400, "InvalidParameter.InstanceId", ens:ReleaseInstance { InstanceId = id })
      expect(400, "InvalidParameter.LoadBalancerSpec", ens:CreateLoadBalancer { EnsRegionId = N, NetworkId = net,
        VSwitchId = vsw, LoadBalancerSpec = "elb.huge", PayType = "PayAsYouGo" })
    end)
  end)
end
