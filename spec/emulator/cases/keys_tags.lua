-- Key pairs (create, import, describe with patterns, attach and detach per instance, the
-- refusal to delete one in use) and tags across kinds (TagResources, UntagResources,
-- ListTagResources, AddTags, RemoveTags, DescribeTags, JoinResourceGroup), with the codes,
-- statuses and limits of the actions' published error tables.
return function(world)
  describe(world.name .. " emulator: key pairs and tags", function()
    before_each(world.reset)
    local R = "cn-hangzhou"
    local PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeysAndTagsSpec specs@host"

    local function expect(status, code, res, err)
      assert.is_nil(res)
      assert.are.equal(code, err and err.code)
      assert.are.equal(status, err.status)
      return err
    end

    local function instances(ecs)
      return assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance
    end

    it("creates and imports key pairs and finds them by name, pattern and fingerprint", function()
      local ecs = world.ecs()
      local made = assert(ecs:CreateKeyPair { RegionId = R, KeyPairName = "made-1" })
      assert.matches("^%-%-%-%-%-BEGIN RSA PRIVATE KEY%-%-%-%-%-\n", made.PrivateKeyBody)
      assert.matches("^%x+$", made.KeyPairFingerPrint)
      assert.matches("^skp%-", made.KeyPairId)
      local imported = assert(ecs:ImportKeyPair { RegionId = R, KeyPairName = "imported", PublicKeyBody = PUB })
      assert.are.equal(32, #imported.KeyPairFingerPrint)
      expect(400, "KeyPair.AlreadyExist", ecs:ImportKeyPair { RegionId = R, KeyPairName = "imported", PublicKeyBody = PUB })
      expect(400, "InvalidPublicKeyBody.Malformed", ecs:ImportKeyPair { RegionId = R, KeyPairName = "bad",
        PublicKeyBody = "not a key" })
      expect(400, "InvalidKeyPairName.Malformed", ecs:CreateKeyPair { RegionId = R, KeyPairName = "1-starts-with-digit" })
      local all = assert(ecs:DescribeKeyPairs { RegionId = R })
      assert.are.equal(2, all.TotalCount)
      assert.is_nil(all.KeyPairs.KeyPair[1].PublicKey)
      local with_key = assert(ecs:DescribeKeyPairs { RegionId = R, KeyPairName = "imported", IncludePublicKey = true })
      assert.are.equal(PUB, with_key.KeyPairs.KeyPair[1].PublicKey)
      assert.are.equal(1, assert(ecs:DescribeKeyPairs { RegionId = R, KeyPairName = "made*" }).TotalCount)
      assert.are.equal(1, assert(ecs:DescribeKeyPairs { RegionId = R,
        KeyPairFingerPrint = imported.KeyPairFingerPrint }).TotalCount)
      assert.are.equal(0, assert(ecs:DescribeKeyPairs { RegionId = "cn-beijing" }).TotalCount)
    end)

    it("attaches a key pair per instance and refuses to delete it while attached", function()
      local ecs = world.ecs()
      assert(ecs:ImportKeyPair { RegionId = R, KeyPairName = "ops", PublicKeyBody = PUB })
      local insts = instances(ecs)
      local res = assert(ecs:AttachKeyPair { RegionId = R, KeyPairName = "ops",
        InstanceIds = { insts[1].InstanceId, "i-none" } })
      assert.are.same({ "2", "1", "ops" }, { res.TotalCount, res.FailCount, res.KeyPairName })
      assert.are.same({ "true", "false" }, { res.Results.Result[1].Success, res.Results.Result[2].Success })
      assert.are.equal("InvalidInstanceId.NotFound", res.Results.Result[2].Code)
      assert.are.equal("ops", instances(ecs)[1].KeyPairName)
      assert.are.equal(1, assert(ecs:DescribeInstances { RegionId = R, KeyPairName = "ops" }).TotalCount)
      expect(400, "InvalidParameter.KeypairAlreadyAttachedInstance", ecs:DeleteKeyPairs { RegionId = R,
        KeyPairNames = { "ops" } })
      -- AttachKeyPair and DetachKeyPair answer an unknown key pair with 400 (RunInstances with 404)
      expect(400, "InvalidKeyPairName.NotFound", ecs:AttachKeyPair { RegionId = R, KeyPairName = "none",
        InstanceIds = { insts[1].InstanceId } })
      expect(400, "InvalidKeyPairName.NotFound", ecs:DetachKeyPair { RegionId = R, KeyPairName = "none",
        InstanceIds = { insts[1].InstanceId } })
      local many = {}
      for i = 1, 51 do many[i] = "i-" .. i end
      expect(403, "InstanceKeyPairLimitExceeded", ecs:AttachKeyPair { RegionId = R, KeyPairName = "ops",
        InstanceIds = many })
      local names = {}
      for i = 1, 101 do names[i] = "kp-" .. i end
      expect(403, "InstanceKeyPairLimitExceeded", ecs:DeleteKeyPairs { RegionId = R, KeyPairNames = names })
      assert(ecs:DetachKeyPair { RegionId = R, KeyPairName = "ops", InstanceIds = { insts[1].InstanceId } })
      assert.is_nil(instances(ecs)[1].KeyPairName)
      assert(ecs:DeleteKeyPairs { RegionId = R, KeyPairNames = { "ops", "never-existed" } })
      assert.are.equal(0, assert(ecs:DescribeKeyPairs { RegionId = R }).TotalCount)
      -- the name can be used again
      assert(ecs:ImportKeyPair { RegionId = R, KeyPairName = "ops", PublicKeyBody = PUB })
      assert.are.equal(1, assert(ecs:DescribeKeyPairs { RegionId = R }).TotalCount)
    end)

    it("tags resources of several kinds, lists, filters and removes tags", function()
      local ecs = world.ecs()
      local insts = instances(ecs)
      local a, b = insts[1].InstanceId, insts[2].InstanceId
      assert(ecs:TagResources { RegionId = R, ResourceType = "instance", ResourceId = { a, b },
        Tag = { { Key = "env", Value = "prod" }, { Key = "team", Value = "web" } } })
      local vpc = assert(ecs:DescribeVpcs { RegionId = R, IsDefault = true }).Vpcs.Vpc[1].VpcId
      local sg = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = vpc }).SecurityGroupId
      assert(ecs:AddTags { RegionId = R, ResourceType = "securitygroup", ResourceId = sg,
        Tag = { { Key = "env", Value = "prod" } } })
      local listed = assert(ecs:ListTagResources { RegionId = R, ResourceType = "instance", ResourceId = { a } })
      assert.are.equal(2, #listed.TagResources.TagResource)
      assert.are.equal("instance", listed.TagResources.TagResource[1].ResourceType)
      local by_tag = assert(ecs:ListTagResources { RegionId = R, ResourceType = "instance",
        Tag = { { Key = "team", Value = "web" } } })
      assert.are.equal(4, #by_tag.TagResources.TagResource) -- two resources, two tags each
      -- TagFilter searches fuzzily: "te*" by prefix, "*ro*" anywhere
      assert.are.equal(4, #assert(ecs:ListTagResources { RegionId = R, ResourceType = "instance",
        TagFilter = { { TagKey = "te*" } } }).TagResources.TagResource)
      assert.are.equal(4, #assert(ecs:ListTagResources { RegionId = R, ResourceType = "instance",
        TagFilter = { { TagKey = "env", TagValues = { "*ro*" } } } }).TagResources.TagResource)
      expect(400, "InvalidParameter.TagValue", ecs:ListTagResources { RegionId = R, ResourceType = "instance",
        Tag = { { Value = "web" } } })
      assert.are.equal(2, assert(ecs:DescribeInstances { RegionId = R, Tag = { { Key = "env", Value = "prod" } } })
        .TotalCount)
      local tags = assert(ecs:DescribeTags { RegionId = R, Tag = { { Key = "env" } } }).Tags.Tag
      assert.are.equal(1, #tags)
      assert.are.same({ "env", "prod", 2, 1 }, { tags[1].TagKey, tags[1].TagValue, tags[1].ResourceTypeCount.Instance,
        tags[1].ResourceTypeCount.Securitygroup })
      assert(ecs:UntagResources { RegionId = R, ResourceType = "instance", ResourceId = { a }, TagKey = { "team" } })
      assert.are.equal(1, #assert(ecs:ListTagResources { RegionId = R, ResourceType = "instance", ResourceId = { a } })
        .TagResources.TagResource)
      assert(ecs:UntagResources { RegionId = R, ResourceType = "instance", ResourceId = { b }, All = true })
      assert.are.equal(0, #assert(ecs:ListTagResources { RegionId = R, ResourceType = "instance", ResourceId = { b } })
        .TagResources.TagResource)
      assert(ecs:RemoveTags { RegionId = R, ResourceType = "securitygroup", ResourceId = sg, Tag = { { Key = "env" } } })
      assert.are.equal(0, assert(ecs:DescribeSecurityGroups { RegionId = R, Tag = { { Key = "env" } } }).TotalCount)
      expect(404, "InvalidResourceId.NotFound", ecs:TagResources { RegionId = R, ResourceType = "instance",
        ResourceId = { "i-none" }, Tag = { { Key = "k", Value = "v" } } })
      expect(404, "InvalidResourceType.NotFound", ecs:TagResources { RegionId = R, ResourceType = "spaceship",
        ResourceId = { a }, Tag = { { Key = "k", Value = "v" } } })
      -- a type the service takes but the emulator has none of: no such resource
      expect(404, "InvalidResourceId.NotFound", ecs:TagResources { RegionId = R, ResourceType = "ddh",
        ResourceId = { "dh-none" }, Tag = { { Key = "k", Value = "v" } } })
      assert.are.equal(0, #assert(ecs:ListTagResources { RegionId = R, ResourceType = "ddh", ResourceId = { "dh-none" } })
        .TagResources.TagResource)
      expect(400, "InvalidTagKey.Malformed", ecs:TagResources { RegionId = R, ResourceType = "instance",
        ResourceId = { a }, Tag = { { Key = "aliyun:reserved", Value = "v" } } })
      expect(400, "Duplicate.TagKey", ecs:TagResources { RegionId = R, ResourceType = "instance", ResourceId = { a },
        Tag = { { Key = "k", Value = "1" }, { Key = "k", Value = "2" } } })
      local ids = {}
      for i = 1, 51 do ids[i] = a end
      expect(400, "NumberExceed.ResourceIds", ecs:TagResources { RegionId = R, ResourceType = "instance", ResourceId = ids,
        Tag = { { Key = "k", Value = "v" } } })
      -- more than 20 tags in a call, or on one resource (it has one tag: env)
      local many = {}
      for i = 1, 21 do many[i] = { Key = "k" .. i, Value = "v" } end
      expect(400, "NumberExceed.Tags", ecs:TagResources { RegionId = R, ResourceType = "instance", ResourceId = { a },
        Tag = many })
      many[21] = nil
      expect(400, "OperationDenied.QuotaExceed", ecs:TagResources { RegionId = R, ResourceType = "instance",
        ResourceId = { a }, Tag = many })
      expect(400, "InvalidTagCount", ecs:AddTags { RegionId = R, ResourceType = "instance", ResourceId = a, Tag = many })
      many[20] = nil
      assert(ecs:TagResources { RegionId = R, ResourceType = "instance", ResourceId = { a }, Tag = many })
      assert.are.equal(20, #assert(ecs:ListTagResources { RegionId = R, ResourceType = "instance", ResourceId = { a } })
        .TagResources.TagResource)
      -- UntagResources: All or TagKey.N, not both
      expect(403, "Param.Conflict", ecs:UntagResources { RegionId = R, ResourceType = "instance", ResourceId = { a },
        TagKey = { "k1" }, All = true })
    end)

    it("moves resources between resource groups and filters by group", function()
      local ecs = world.ecs()
      local a = instances(ecs)[1].InstanceId
      assert(ecs:JoinResourceGroup { RegionId = R, ResourceType = "instance", ResourceId = a,
        ResourceGroupId = "rg-aek2prod" })
      local res = assert(ecs:DescribeInstances { RegionId = R, ResourceGroupId = "rg-aek2prod" })
      assert.are.same({ 1, a }, { res.TotalCount, res.Instances.Instance[1].InstanceId })
      expect(404, "InvalidResourceGroup.NotFound", ecs:JoinResourceGroup { RegionId = R, ResourceType = "instance",
        ResourceId = a, ResourceGroupId = "not-a-group" })
    end)
  end)
end
