-- Prefix lists: create with entries in the service's form, describe with filters and tokens,
-- attributes, modify entries within MaxEntries, security group rules that name them (only
-- existing ones) and keep them from deletion, and the documented errors.
local support = require "support.emulator"

return function(world)
  describe(world.name .. " emulator: prefix lists", function()
    before_each(world.reset)
    local R = "cn-hangzhou"

    local function expect(status, code, res, err)
      assert.is_nil(res)
      assert.are.equal(code, err and err.code)
      assert.are.equal(status, err.status)
    end

    local function create(ecs, p)
      p.RegionId = R
      p.AddressFamily = p.AddressFamily or "IPv4"
      p.MaxEntries = p.MaxEntries or 10
      return assert(ecs:CreatePrefixList(p)).PrefixListId
    end

    local function attrs(ecs, id)
      return assert(ecs:DescribePrefixListAttributes { RegionId = R, PrefixListId = id })
    end

    local function cidrs(ecs, id)
      local out = {}
      for i, e in ipairs(attrs(ecs, id).Entries.Entry) do out[i] = e.Cidr .. "=" .. e.Description end
      return out
    end

    it("creates prefix lists with entries in the service's form and describes them with filters", function()
      local ecs = world.ecs()
      local id = create(ecs, { PrefixListName = "office", Description = "office ranges", MaxEntries = 5,
        Entry = { { Cidr = "192.168.1.0/24", Description = "floor one" }, { Cidr = "10.1.2.3" } },
        Tag = { { Key = "env", Value = "test" } } })
      assert.matches("^pl%-", id)
      local a = attrs(ecs, id)
      assert.are.same({ "office", "office ranges", "IPv4", 5, id },
        { a.PrefixListName, a.Description, a.AddressFamily, a.MaxEntries, a.PrefixListId })
      assert.are.same({ "192.168.1.0/24=floor one", "10.1.2.3/32=" }, cidrs(ecs, id))
      local v6 = create(ecs, { PrefixListName = "six", AddressFamily = "IPv6",
        Entry = { { Cidr = "2001:0DB8:0000:0000:0000:0000:0000:0000/32" }, { Cidr = "2408:4005::1" } },
        ResourceGroupId = "rg-acfmemu0other" })
      assert.are.same({ "2001:db8::/32=", "2408:4005::1/128=" }, cidrs(ecs, v6))
      local function ids(p)
        p.RegionId = p.RegionId or R
        local out = {}
        for i, l in ipairs(assert(ecs:DescribePrefixLists(p)).PrefixLists.PrefixList) do out[i] = l.PrefixListId end
        return out
      end
      local all = assert(ecs:DescribePrefixLists { RegionId = R }).PrefixLists.PrefixList
      assert.are.same({ "office", 0, 5, { { TagKey = "env", TagValue = "test" } } },
        { all[1].PrefixListName, all[1].AssociationCount, all[1].MaxEntries, all[1].Tags.Tag })
      assert.are.same({ id, v6 }, ids {})
      assert.are.same({ v6 }, ids { PrefixListId = { v6 } })
      assert.are.same({ id }, ids { PrefixListName = "office" })
      assert.are.same({ v6 }, ids { AddressFamily = "IPv6" })
      assert.are.same({ id }, ids { Tag = { { Key = "env", Value = "test" } } })
      assert.are.same({ v6 }, ids { ResourceGroupId = "rg-acfmemu0other" })
      assert.are.same({}, ids { RegionId = "cn-beijing" })
      expect(400, "InvalidParameter.AddressFamily", ecs:DescribePrefixLists { RegionId = R, AddressFamily = "IPv5" })
      -- tokens: one per page
      local first = assert(ecs:DescribePrefixLists { RegionId = R, MaxResults = 1 })
      assert.are.same({ id }, { first.PrefixLists.PrefixList[1].PrefixListId })
      local second = assert(ecs:DescribePrefixLists { RegionId = R, MaxResults = 1, NextToken = first.NextToken })
      assert.are.same({ v6, "" }, { second.PrefixLists.PrefixList[1].PrefixListId, second.NextToken })
      expect(400, "InvalidParameter.NextToken", ecs:DescribePrefixLists { RegionId = R, NextToken = "bogus" })
      expect(404, "InvalidPrefixListId.NotFound", ecs:DescribePrefixListAttributes { RegionId = R,
        PrefixListId = "pl-none" })
    end)

    it("refuses prefix lists as the service does", function()
      local ecs = world.ecs()
      local function bad(status, code, p)
        p.RegionId = R
        p.PrefixListName = p.PrefixListName or "spec"
        p.AddressFamily = p.AddressFamily or "IPv4"
        p.MaxEntries = p.MaxEntries or 2
        expect(status, code, ecs:CreatePrefixList(p))
      end
      bad(400, "InvalidParameter.PrefixListName", { PrefixListName = "com.aliyun.mine" })
      bad(400, "InvalidParameter.PrefixListName", { PrefixListName = "1st" })
      bad(400, "InvalidParameter.AddressFamily", { AddressFamily = "IPv5" })
      bad(400, "InvalidParameter", { MaxEntries = 0 })
      bad(400, "InvalidParameter", { MaxEntries = 201 })
      bad(400, "LimitExceed.MaxEntries", { Entry = { { Cidr = "10.0.0.0/8" }, { Cidr = "172.16.0.0/12" },
        { Cidr = "192.168.0.0/16" } } })
      bad(400, "InvalidParameter.CidrDuplicated", { Entry = { { Cidr = "10.0.0.1" }, { Cidr = "10.0.0.1/32" } } })
      bad(400, "InvalidParameter.CidrMalformed", { Entry = { { Cidr = "10.0.0.1/8" } } })
      bad(400, "InvalidParameter.CidrMalformed", { Entry = { { Cidr = "2001:db8::/32" } } })
      bad(400, "InvalidParameter.CidrMalformed", { AddressFamily = "IPv6", Entry = { { Cidr = "10.0.0.0/8" } } })
      bad(400, "InvalidParameter", { Entry = { { Cidr = "10.0.0.0/8", Description = "x" } } })
      -- an entry without its block (the client library refuses it before sending: signed by hand)
      local status, body = world.send(support.signed(world, { action = "CreatePrefixList", params = { RegionId = R,
        PrefixListName = "spec", AddressFamily = "IPv4", MaxEntries = "2", ["Entry.1.Description"] = "no block",
        Format = "JSON" } }))
      assert.are.same({ 400, "MissingParameter.Entry.1.Cidr" }, { status, body.Code })
      assert.are.equal(0, #assert(ecs:DescribePrefixLists { RegionId = R }).PrefixLists.PrefixList)
    end)

    it("modifies the name, the description and the entries within MaxEntries", function()
      local ecs = world.ecs()
      local id = create(ecs, { PrefixListName = "office", MaxEntries = 3,
        Entry = { { Cidr = "10.0.0.0/8", Description = "ten" }, { Cidr = "172.16.0.0/12" } } })
      assert(ecs:ModifyPrefixList { RegionId = R, PrefixListId = id, PrefixListName = "renamed", Description = "new",
        AddEntry = { { Cidr = "192.168.0.0/16", Description = "home" }, { Cidr = "10.0.0.0/8", Description = "TEN" } },
        RemoveEntry = { { Cidr = "172.16.0.0/12" } } })
      local a = attrs(ecs, id)
      assert.are.same({ "renamed", "new" }, { a.PrefixListName, a.Description })
      assert.are.same({ "10.0.0.0/8=TEN", "192.168.0.0/16=home" }, cidrs(ecs, id))
      local function bad(status, code, p)
        p.RegionId, p.PrefixListId = R, p.PrefixListId or id
        expect(status, code, ecs:ModifyPrefixList(p))
      end
      bad(400, "LimitExceed.MaxEntries", { AddEntry = { { Cidr = "1.0.0.0/8" }, { Cidr = "2.0.0.0/8" } } })
      bad(400, "InvalidParameter.CidrDuplicated", { AddEntry = { { Cidr = "1.0.0.0/8" } },
        RemoveEntry = { { Cidr = "1.0.0.0/8" } } })
      bad(400, "InvalidParameter", { RemoveEntry = { { Cidr = "1.0.0.0/8" } } })
      bad(400, "InvalidParameter.CidrMalformed", { AddEntry = { { Cidr = "1.2.3.4/8" } } })
      bad(400, "InvalidParameter.PrefixListName", { PrefixListName = "com.alibabacloud.x" })
      bad(404, "InvalidPrefixListId.NotFound", { PrefixListId = "pl-none", PrefixListName = "abc" })
      assert.are.same({ "10.0.0.0/8=TEN", "192.168.0.0/16=home" }, cidrs(ecs, id)) -- nothing changed
    end)

    it("lets security group rules name existing prefix lists only, and keeps named ones from deletion", function()
      local ecs = world.ecs()
      local sg = assert(ecs:DescribeSecurityGroups { RegionId = R }).SecurityGroups.SecurityGroup[1].SecurityGroupId
      local id = create(ecs, { PrefixListName = "office", Entry = { { Cidr = "10.0.0.0/8" } } })
      expect(404, "InvalidPrefixListId.NotFound", ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg,
        Permissions = { { IpProtocol = "tcp", PortRange = "443/443", SourcePrefixListId = "pl-none" } } })
      expect(404, "InvalidPrefixListId.NotFound", ecs:AuthorizeSecurityGroupEgress { RegionId = R, SecurityGroupId = sg,
        Permissions = { { IpProtocol = "tcp", PortRange = "443/443", DestPrefixListId = "pl-none" } } })
      local rule = { IpProtocol = "tcp", PortRange = "443/443", SourcePrefixListId = id }
      assert(ecs:AuthorizeSecurityGroup { RegionId = R, SecurityGroupId = sg, Permissions = { rule } })
      assert.are.equal(1, assert(ecs:DescribePrefixLists { RegionId = R }).PrefixLists.PrefixList[1].AssociationCount)
      expect(400, "NotAllowed.AssociationExist", ecs:DeletePrefixList { RegionId = R, PrefixListId = id })
      assert(ecs:RevokeSecurityGroup { RegionId = R, SecurityGroupId = sg, Permissions = { rule } })
      assert(ecs:DeletePrefixList { RegionId = R, PrefixListId = id })
      expect(404, "InvalidPrefixListId.NotFound", ecs:DeletePrefixList { RegionId = R, PrefixListId = id })
      expect(404, "InvalidPrefixListId.NotFound", ecs:DescribePrefixListAttributes { RegionId = R, PrefixListId = id })
    end)
  end)
end
