-- Snapshots beyond CreateSnapshot: automatic snapshot policies (apply, cancel, firings on the
-- emulator's clock with retention and cross-region copies), snapshot-consistent groups,
-- ModifyDiskSpec, encryption by default with its KMS key, and the snapshot rules of the
-- published error tables (DeleteSnapshot, CreateSnapshot, DeleteDisk, ResizeDisk).
return function(world)
  describe(world.name .. " emulator: snapshot policies, groups, disk specs, encryption", function()
    before_each(world.reset)
    local R, Z = "cn-hangzhou", "cn-hangzhou-h"
    local DAY = 86400

    local function expect(status, code, res, err)
      assert.is_nil(res, code)
      assert.are.equal(code, err and err.code)
      assert.are.equal(status, err.status)
      return err
    end

    local function instance(ecs)
      for _, i in ipairs(assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance) do
        if i.ZoneId == Z then return i end
      end
    end

    local function disk(ecs, id)
      return assert(ecs:DescribeDisks { RegionId = R, DiskIds = { id } }).Disks.Disk[1]
    end

    local function system_disk(ecs, inst)
      return assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" }).Disks.Disk[1]
    end

    local function auto_snapshots(ecs, disk_id, region)
      local res = assert(ecs:DescribeSnapshots { RegionId = region or R, DiskId = disk_id, SnapshotType = "auto",
        PageSize = 100 })
      return res.Snapshots.Snapshot, res.TotalCount
    end

    -- A data disk attached to the instance (In_use), made and attached on the clock.
    local function attached_disk(ecs, inst, p)
      p = p or {}
      p.RegionId, p.ZoneId, p.Size = R, Z, p.Size or 20
      local id = assert(ecs:CreateDisk(p)).DiskId
      world.advance(3)
      assert(ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = id })
      world.advance(2)
      return id
    end

    local function policy(ecs, p)
      p = p or {}
      p.regionId = p.regionId or R
      p.timePoints = p.timePoints or '["0"]'
      p.repeatWeekdays = p.repeatWeekdays or '["1","2","3","4","5","6","7"]'
      p.retentionDays = p.retentionDays or -1
      return assert(ecs:CreateAutoSnapshotPolicy(p)).AutoSnapshotPolicyId
    end

    local function describe_policy(ecs, id)
      return assert(ecs:DescribeAutoSnapshotPolicyEx { RegionId = R, AutoSnapshotPolicyId = id })
        .AutoSnapshotPolicies.AutoSnapshotPolicy[1]
    end

    it("creates, describes, filters, pages, modifies and deletes automatic snapshot policies", function()
      local ecs = world.ecs()
      local id = policy(ecs, { autoSnapshotPolicyName = "nightly", timePoints = '["1","23"]', repeatWeekdays = '["1","7"]',
        retentionDays = 30, Tag = { { Key = "team", Value = "db" } } })
      assert.matches("^sp%-", id)
      local p = describe_policy(ecs, id)
      assert.are.same({ "nightly", '["1","23"]', '["1","7"]', 30, 0, "Normal", R },
        { p.AutoSnapshotPolicyName, p.TimePoints, p.RepeatWeekdays, p.RetentionDays, p.DiskNums, p.Status, p.RegionId })
      assert.are.equal("db", p.Tags.Tag[1].TagValue)
      policy(ecs, { autoSnapshotPolicyName = "weekly" })
      policy(ecs, { autoSnapshotPolicyName = "other" })
      local by_name = assert(ecs:DescribeAutoSnapshotPolicyEx { RegionId = R, AutoSnapshotPolicyName = "weekly" })
      assert.are.equal(1, by_name.TotalCount)
      local by_tag = assert(ecs:DescribeAutoSnapshotPolicyEx { RegionId = R, Tag = { { Key = "team", Value = "db" } } })
      assert.are.same({ 1, id }, { by_tag.TotalCount, by_tag.AutoSnapshotPolicies.AutoSnapshotPolicy[1].AutoSnapshotPolicyId })
      local page = assert(ecs:DescribeAutoSnapshotPolicyEx { RegionId = R, PageSize = 2, PageNumber = 2 })
      assert.are.same({ 3, 1 }, { page.TotalCount, #page.AutoSnapshotPolicies.AutoSnapshotPolicy })
      assert.are.equal(0, assert(ecs:DescribeAutoSnapshotPolicyEx { RegionId = "cn-shanghai" }).TotalCount)
      assert(ecs:ModifyAutoSnapshotPolicyEx { regionId = R, autoSnapshotPolicyId = id, autoSnapshotPolicyName = "renamed",
        timePoints = '["5"]', retentionDays = -1 })
      p = describe_policy(ecs, id)
      assert.are.same({ "renamed", '["5"]', '["1","7"]', -1 }, { p.AutoSnapshotPolicyName, p.TimePoints, p.RepeatWeekdays,
        p.RetentionDays })
      assert(ecs:DeleteAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = id })
      assert.are.equal(0, assert(ecs:DescribeAutoSnapshotPolicyEx { RegionId = R, AutoSnapshotPolicyId = id }).TotalCount)
      expect(404, "ParameterInvalid", ecs:DeleteAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = id })
      expect(404, "ParameterInvalid", ecs:ModifyAutoSnapshotPolicyEx { regionId = R, autoSnapshotPolicyId = id,
        autoSnapshotPolicyName = "again" })
    end)

    it("refuses bad schedules with ParameterInvalid naming the parameter", function()
      local ecs = world.ecs()
      local base = { regionId = R, timePoints = '["0"]', repeatWeekdays = '["1"]', retentionDays = 7 }
      local function with(k, v)
        local p = {}
        for key, value in pairs(base) do p[key] = value end
        p[k] = v
        return p
      end
      local err = expect(403, "ParameterInvalid", ecs:CreateAutoSnapshotPolicy(with("timePoints", '["24"]')))
      assert.matches("TimePoints", err.message)
      err = expect(403, "ParameterInvalid", ecs:CreateAutoSnapshotPolicy(with("repeatWeekdays", '["0"]')))
      assert.matches("RepeatWeekDays", err.message)
      expect(403, "ParameterInvalid", ecs:CreateAutoSnapshotPolicy(with("repeatWeekdays", '["1","1"]')))
      err = expect(403, "ParameterInvalid", ecs:CreateAutoSnapshotPolicy(with("retentionDays", 0)))
      assert.matches("RetentionDays", err.message)
      err = expect(403, "ParameterInvalid", ecs:CreateAutoSnapshotPolicy(with("regionId", "mars-1")))
      assert.matches("RegionId", err.message)
      expect(403, "ParameterInvalid", ecs:CreateAutoSnapshotPolicy(with("TargetCopyRegions", '["cn-hangzhou"]')))
      expect(403, "ParameterInvalid", ecs:CreateAutoSnapshotPolicy(with("EnableCrossRegionCopy", true)))
      -- a comma list is read as the JSON array is
      assert(ecs:CreateAutoSnapshotPolicy(with("timePoints", "2,3")))
    end)

    it("shows an applied policy on its disks, and cancels it", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local sys = system_disk(ecs, inst)
      local data = attached_disk(ecs, inst)
      local id = policy(ecs)
      assert(ecs:ApplyAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = id,
        diskIds = '["' .. sys.DiskId .. '","' .. data .. '"]' })
      local d = disk(ecs, data)
      assert.are.same({ id, true }, { d.AutoSnapshotPolicyId, d.EnableAutomatedSnapshotPolicy })
      assert.are.equal(2, describe_policy(ecs, id).DiskNums)
      assert.are.equal(2, assert(ecs:DescribeDisks { RegionId = R, AutoSnapshotPolicyId = id }).TotalCount)
      assert.are.equal(2, assert(ecs:DescribeDisks { RegionId = R, EnableAutomatedSnapshotPolicy = true }).TotalCount)
      -- a disk has one policy: another replaces it
      local other = policy(ecs, { timePoints = '["6"]' })
      assert(ecs:ApplyAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = other, diskIds = '["' .. data .. '"]' })
      assert.are.equal(other, disk(ecs, data).AutoSnapshotPolicyId)
      assert.are.equal(1, describe_policy(ecs, id).DiskNums)
      -- cancelling with another policy's id leaves the disk as it is
      assert(ecs:CancelAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = id, diskIds = '["' .. data .. '"]' })
      assert.are.equal(other, disk(ecs, data).AutoSnapshotPolicyId)
      assert(ecs:CancelAutoSnapshotPolicy { regionId = R, diskIds = '["' .. data .. '"]' })
      d = disk(ecs, data)
      assert.are.same({ "", false }, { d.AutoSnapshotPolicyId, d.EnableAutomatedSnapshotPolicy })
      -- deleting a policy takes it off its disks
      assert(ecs:DeleteAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = id })
      assert.are.equal("", disk(ecs, sys.DiskId).AutoSnapshotPolicyId)
      expect(403, "ParameterInvalid", ecs:ApplyAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = other,
        diskIds = '["d-none"]' })
      expect(404, "InvalidDiskId.NotFound", ecs:CancelAutoSnapshotPolicy { regionId = R, diskIds = '["d-none"]' })
      expect(404, "ParameterInvalid", ecs:ApplyAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = "sp-none",
        diskIds = '["' .. data .. '"]' })
      local err = expect(404, "ParameterInvalid", ecs:ApplyAutoSnapshotPolicy { regionId = "cn-shanghai",
        autoSnapshotPolicyId = other, diskIds = '["' .. data .. '"]' })
      assert.matches("in the region", err.message)
    end)

    it("makes snapshots at the policy's time points and releases them after the retention days", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local sys = system_disk(ecs, inst).DiskId
      -- every day at 00:00 (UTC+8), kept 3 days, copied to Shanghai and kept there
      local id = policy(ecs, { retentionDays = 3, EnableCrossRegionCopy = true, TargetCopyRegions = '["cn-shanghai"]',
        CopiedSnapshotsRetentionDays = -1 })
      assert(ecs:ApplyAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = id, diskIds = '["' .. sys .. '"]' })
      local _, none = auto_snapshots(ecs, sys)
      assert.are.equal(0, none)
      -- a week: seven firings, of which the last three are within the retention
      world.advance(7 * DAY)
      local snaps, n = auto_snapshots(ecs, sys)
      assert.are.equal(3, n)
      for _, s in ipairs(snaps) do
        assert.matches("^auto_%d%d%d%d%d%d%d%d_1$", s.SnapshotName)
        assert.are.same({ "auto", "System", 3 }, { s.SnapshotType, s.SourceDiskType, s.RetentionDays })
      end
      -- the copies in Shanghai are kept (-1)
      local copies, m = auto_snapshots(ecs, sys, "cn-shanghai")
      assert.are.equal(7, m)
      assert.are.equal(R, copies[1].SourceRegionId)
      -- a manual snapshot is never released by the policy
      assert.are.equal(1, assert(ecs:DescribeSnapshots { RegionId = R, DiskId = sys, SnapshotType = "user" }).TotalCount)
      -- cancelled: no more firings
      assert(ecs:CancelAutoSnapshotPolicy { regionId = R, diskIds = '["' .. sys .. '"]' })
      world.advance(2 * DAY)
      _, n = auto_snapshots(ecs, sys)
      assert.are.equal(1, n)
    end)

    it("skips a firing on a disk with a snapshot in progress, and releases auto snapshots with the disk", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local data = attached_disk(ecs, inst)
      local id = policy(ecs, { timePoints = '["0","1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16",'
        .. '"17","18","19","20","21","22","23"]' })
      assert(ecs:ApplyAutoSnapshotPolicy { regionId = R, autoSnapshotPolicyId = id, diskIds = '["' .. data .. '"]' })
      world.advance(3600 * 3)
      local _, n = auto_snapshots(ecs, data)
      assert.are.equal(3, n)
      -- detached and deleted with DeleteAutoSnapshot (the default): its auto snapshots go too
      assert(ecs:CancelAutoSnapshotPolicy { regionId = R, diskIds = '["' .. data .. '"]' })
      world.advance(3)
      assert(ecs:DetachDisk { InstanceId = inst.InstanceId, DiskId = data })
      world.advance(2)
      local manual = assert(ecs:CreateSnapshot { DiskId = data }).SnapshotId
      world.advance(3)
      assert(ecs:DeleteDisk { DiskId = data })
      _, n = auto_snapshots(ecs, data)
      assert.are.equal(0, n)
      assert.are.equal(1, assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { manual } }).TotalCount)
    end)

    it("makes snapshot-consistent groups of an instance's disks", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local data = attached_disk(ecs, inst, { DiskCategory = "cloud_essd" })
      local id = assert(ecs:CreateSnapshotGroup { RegionId = R, InstanceId = inst.InstanceId, Name = "consistent",
        Description = "both disks", Tag = { { Key = "k", Value = "v" } } }).SnapshotGroupId
      assert.matches("^ssg%-", id)
      local g = assert(ecs:DescribeSnapshotGroups { RegionId = R, SnapshotGroupId = { id } }).SnapshotGroups.SnapshotGroup[1]
      assert.are.same({ "progressing", "consistent", "both disks", inst.InstanceId, 2 },
        { g.Status, g.Name, g.Description, g.InstanceId, #g.Snapshots.Snapshot })
      -- a disk with a snapshot in progress takes no other
      expect(403, "IncorrectDiskStatus.CreatingSnapshot", ecs:CreateSnapshot { DiskId = data })
      expect(403, "IncorrectDiskStatus.CreatingSnapshot", ecs:CreateSnapshotGroup { RegionId = R,
        InstanceId = inst.InstanceId })
      world.advance(3)
      g = assert(ecs:DescribeSnapshotGroups { RegionId = R, SnapshotGroupId = { id } }).SnapshotGroups.SnapshotGroup[1]
      assert.are.equal("accomplished", g.Status)
      assert.are.equal("100%", g.Snapshots.Snapshot[1].Progress)
      -- the group's snapshots are snapshots of the disks
      local snaps = assert(ecs:DescribeSnapshots { RegionId = R, DiskId = data }).Snapshots.Snapshot
      assert.are.equal(1, #snaps)
      -- filters and paging
      local second = assert(ecs:CreateSnapshotGroup { RegionId = R, DiskId = { data }, Name = "data-only" }).SnapshotGroupId
      world.advance(3)
      local function count(p)
        p.RegionId = R
        return #assert(ecs:DescribeSnapshotGroups(p)).SnapshotGroups.SnapshotGroup
      end
      assert.are.equal(2, count {})
      assert.are.equal(1, count { Name = "data-only" })
      assert.are.equal(2, count { InstanceId = inst.InstanceId })
      assert.are.equal(2, count { Status = { "accomplished" } })
      assert.are.equal(0, count { Status = { "progressing" } })
      assert.are.equal(1, count { Tag = { { Key = "k", Value = "v" } } })
      local p1 = assert(ecs:DescribeSnapshotGroups { RegionId = R, MaxResults = 1 })
      assert.are.equal(1, #p1.SnapshotGroups.SnapshotGroup)
      assert.are_not.equal("", p1.NextToken)
      local p2 = assert(ecs:DescribeSnapshotGroups { RegionId = R, MaxResults = 1, NextToken = p1.NextToken })
      assert.are_not.equal(p1.SnapshotGroups.SnapshotGroup[1].SnapshotGroupId, p2.SnapshotGroups.SnapshotGroup[1].SnapshotGroupId)
      expect(403, "InvalidStatus.ValueNotSupported", ecs:DescribeSnapshotGroups { RegionId = R, Status = { "melting" } })
      -- modify, delete, not found
      assert(ecs:ModifySnapshotGroup { RegionId = R, SnapshotGroupId = second, Name = "renamed", Description = "new text" })
      g = assert(ecs:DescribeSnapshotGroups { RegionId = R, SnapshotGroupId = { second } }).SnapshotGroups.SnapshotGroup[1]
      assert.are.same({ "renamed", "new text" }, { g.Name, g.Description })
      expect(400, "InvalidParameter.Name", ecs:ModifySnapshotGroup { RegionId = R, SnapshotGroupId = second, Name = "-x" })
      expect(400, "InvalidParameter.Description", ecs:ModifySnapshotGroup { RegionId = R, SnapshotGroupId = second,
        Description = "x" })
      local res = assert(ecs:DeleteSnapshotGroup { RegionId = R, SnapshotGroupId = second })
      local op = res.OperationProgressSet.OperationProgress[1]
      assert.are.equal("Success", op.OperationStatus)
      assert.are.equal("SnapshotId", op.RelatedItemSet.RelatedItem[1].Name)
      assert.are.equal(0, assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { op.RelatedItemSet.RelatedItem[1].Value } })
        .TotalCount)
      expect(404, "InvalidSnapshotGroupId.NotFound", ecs:DeleteSnapshotGroup { RegionId = R, SnapshotGroupId = second })
      expect(404, "InvalidSnapshotGroupId.NotFound", ecs:ModifySnapshotGroup { RegionId = R, SnapshotGroupId = second,
        Name = "gone" })
    end)

    it("refuses snapshot groups the service refuses, and keeps a group's snapshot an image uses", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local slow = attached_disk(ecs, inst, { DiskCategory = "cloud_efficiency" })
      expect(400, "DiskCategory.OperationNotSupported", ecs:CreateSnapshotGroup { RegionId = R, DiskId = { slow } })
      expect(400, "InvalidParameter", ecs:CreateSnapshotGroup { RegionId = R, InstanceId = inst.InstanceId,
        DiskId = { slow }, ExcludeDiskId = { slow } })
      local fresh = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20, DiskCategory = "cloud_essd" }).DiskId
      world.advance(3)
      expect(403, "IncorrectDiskStatus.NeverAttached", ecs:CreateSnapshotGroup { RegionId = R, DiskId = { fresh } })
      expect(404, "InvalidDiskId.NotFound", ecs:CreateSnapshotGroup { RegionId = R, DiskId = { "d-none" } })
      expect(404, "InvalidInstanceId.NotFound", ecs:CreateSnapshotGroup { RegionId = R, InstanceId = "i-none" })
      local id = assert(ecs:CreateSnapshotGroup { RegionId = R, InstanceId = inst.InstanceId,
        ExcludeDiskId = { slow } }).SnapshotGroupId
      world.advance(3)
      local g = assert(ecs:DescribeSnapshotGroups { RegionId = R, SnapshotGroupId = { id } }).SnapshotGroups.SnapshotGroup[1]
      assert.are.equal(1, #g.Snapshots.Snapshot)
      local snap = g.Snapshots.Snapshot[1].SnapshotId
      local image = assert(ecs:CreateImage { RegionId = R, SnapshotId = snap, ImageName = "from-group" }).ImageId
      local res = assert(ecs:DeleteSnapshotGroup { RegionId = R, SnapshotGroupId = id })
      local op = res.OperationProgressSet.OperationProgress[1]
      assert.are.same({ "Failed", "SnapshotCreatedImage" }, { op.OperationStatus, op.ErrorCode })
      assert.are.equal(1, assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { snap } }).TotalCount)
      assert.are.equal(0, #assert(ecs:DescribeSnapshotGroups { RegionId = R, SnapshotGroupId = { id } })
        .SnapshotGroups.SnapshotGroup)
      assert.is_string(image)
    end)

    it("changes a disk's category and an ESSD's performance level under the service's rules", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local id = attached_disk(ecs, inst, { DiskCategory = "cloud_efficiency", Size = 100 })
      expect(400, "DryRunOperation", ecs:ModifyDiskSpec { DiskId = id, DiskCategory = "cloud_essd", DryRun = true })
      assert.are.equal("cloud_efficiency", disk(ecs, id).Category)
      local res = assert(ecs:ModifyDiskSpec { DiskId = id, DiskCategory = "cloud_essd" })
      assert.is_string(res.TaskId)
      local d = disk(ecs, id)
      assert.are.same({ "cloud_essd", "PL1" }, { d.Category, d.PerformanceLevel })
      expect(403, "OperationDenied.PerformanceLevelNotMatch", ecs:ModifyDiskSpec { DiskId = id, PerformanceLevel = "PL2" })
      assert(ecs:ResizeDisk { DiskId = id, NewSize = 500, Type = "online" })
      assert(ecs:ModifyDiskSpec { DiskId = id, PerformanceLevel = "PL2" })
      assert.are.equal("PL2", disk(ecs, id).PerformanceLevel)
      -- pay-as-you-go: down, but not to PL0
      assert(ecs:ModifyDiskSpec { DiskId = id, PerformanceLevel = "PL1" })
      expect(403, "OperationDenied", ecs:ModifyDiskSpec { DiskId = id, PerformanceLevel = "PL0" })
      expect(400, "InvalidPerformanceLevel.Malformed", ecs:ModifyDiskSpec { DiskId = id, PerformanceLevel = "PL9" })
      expect(400, "InvalidDiskCategory.ValueNotSupported", ecs:ModifyDiskSpec { DiskId = id, DiskCategory = "floppy" })
      -- subscription: only up
      assert(ecs:ModifyDiskChargeType { RegionId = R, InstanceId = inst.InstanceId, DiskIds = { id },
        DiskChargeType = "PrePaid" })
      expect(403, "OperationDenied", ecs:ModifyDiskSpec { DiskId = id, DiskCategory = "cloud_ssd" })
      res = assert(ecs:ModifyDiskSpec { DiskId = id, PerformanceLevel = "PL2" })
      assert.is_string(res.OrderId)
      -- a snapshot in progress, a basic disk, a disk being made, a disk that does not exist
      assert(ecs:CreateSnapshot { DiskId = id })
      expect(403, "DiskCreatingSnapshot", ecs:ModifyDiskSpec { DiskId = id, PerformanceLevel = "PL3" })
      local basic = attached_disk(ecs, inst, { DiskCategory = "cloud" })
      expect(403, "OperationDenied", ecs:ModifyDiskSpec { DiskId = basic, DiskCategory = "cloud_ssd" })
      local creating = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      expect(403, "IncorrectDiskStatus", ecs:ModifyDiskSpec { DiskId = creating, DiskCategory = "cloud_ssd" })
      expect(404, "InvalidDiskId.NotFound", ecs:ModifyDiskSpec { DiskId = "d-none", DiskCategory = "cloud_ssd" })
    end)

    it("encrypts the new disks of a region while encryption by default is on", function()
      local ecs = world.ecs()
      local function status(region)
        return assert(ecs:DescribeDiskEncryptionByDefaultStatus { RegionId = region or R }).Encrypted
      end
      assert.is_false(status())
      expect(403, "InvalidDefaultEncryption.NotFound", ecs:DisableDiskEncryptionByDefault { RegionId = R })
      expect(403, "InvalidDefaultEncryption.NotFound", ecs:ModifyDiskDefaultKMSKeyId { RegionId = R,
        KMSKeyId = "0e478b7a-4262-4802-b8cb-00d3fb400000" })
      assert(ecs:EnableDiskEncryptionByDefault { RegionId = R })
      assert.is_true(status())
      assert.is_false(status("cn-shanghai"))
      expect(403, "InvalidOperation.DefaultEncryptionAlreadyEnabled", ecs:EnableDiskEncryptionByDefault { RegionId = R })
      local service_key = assert(ecs:DescribeDiskDefaultKMSKeyId { RegionId = R }).KMSKeyId
      assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", service_key)
      local id = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      local d = disk(ecs, id)
      assert.are.same({ true, service_key }, { d.Encrypted, d.KMSKeyId })
      -- another default key
      local key = "0e478b7a-4262-4802-b8cb-00d3fb40beef"
      assert(ecs:ModifyDiskDefaultKMSKeyId { RegionId = R, KMSKeyId = key })
      assert.are.equal(key, assert(ecs:DescribeDiskDefaultKMSKeyId { RegionId = R }).KMSKeyId)
      local second = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      assert.are.equal(key, disk(ecs, second).KMSKeyId)
      expect(403, "InvalidOperation.KMSKeyIdNotFound", ecs:ModifyDiskDefaultKMSKeyId { RegionId = R, KMSKeyId = "nope" })
      assert.are.equal(2, assert(ecs:DescribeDisks { RegionId = R, Encrypted = true }).TotalCount)
      assert.are.equal(1, assert(ecs:DescribeDisks { RegionId = R, KMSKeyId = key }).TotalCount)
      -- back to the service key; off; the key stays for the next time
      assert(ecs:ResetDiskDefaultKMSKeyId { RegionId = R })
      assert.are.equal(service_key, assert(ecs:DescribeDiskDefaultKMSKeyId { RegionId = R }).KMSKeyId)
      assert(ecs:DisableDiskEncryptionByDefault { RegionId = R })
      assert.is_false(status())
      local plain = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      assert.are.same({ false, "" }, { disk(ecs, plain).Encrypted, disk(ecs, plain).KMSKeyId })
      expect(403, "InvalidDefaultEncryption.NotFound", ecs:ResetDiskDefaultKMSKeyId { RegionId = R })
      -- the disks of an instance are new disks too
      assert(ecs:EnableDiskEncryptionByDefault { RegionId = "cn-shanghai" })
      local inst = assert(ecs:RunInstances { RegionId = "cn-shanghai", ImageId = "aliyun_3_x64_40G_alibase_20240101.vhd",
        InstanceType = "ecs.g7.large", SecurityGroupId = assert(ecs:DescribeSecurityGroups { RegionId = "cn-shanghai" })
          .SecurityGroups.SecurityGroup[1].SecurityGroupId,
        VSwitchId = assert(ecs:DescribeVSwitches { RegionId = "cn-shanghai" }).VSwitches.VSwitch[1].VSwitchId })
        .InstanceIdSets.InstanceIdSet[1]
      local sys = assert(ecs:DescribeDisks { RegionId = "cn-shanghai", InstanceId = inst }).Disks.Disk[1]
      assert.is_true(sys.Encrypted)
    end)

    it("keeps encryption from disk to snapshot to disk, and checks the encryption parameters", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local key = "0e478b7a-4262-4802-b8cb-00d3fb401234"
      local id = attached_disk(ecs, inst, { Encrypted = true, KMSKeyId = key })
      local snap = assert(ecs:CreateSnapshot { DiskId = id }).SnapshotId
      world.advance(3)
      local s = assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { snap } }).Snapshots.Snapshot[1]
      assert.are.same({ true, key }, { s.Encrypted, s.KMSKeyId })
      assert.are.equal(1, assert(ecs:DescribeSnapshots { RegionId = R, KMSKeyId = key }).TotalCount)
      expect(400, "EncryptedOption.Conflict", ecs:CreateDisk { RegionId = R, ZoneId = Z, SnapshotId = snap,
        Encrypted = false })
      local copy = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, SnapshotId = snap }).DiskId
      assert.is_true(disk(ecs, copy).Encrypted)
      expect(400, "InvalidParameter.EncryptedIllegal", ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20, KMSKeyId = key })
      expect(404, "InvalidParameter.KMSKeyId.NotFound", ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20,
        Encrypted = true, KMSKeyId = "not-a-key" })
    end)

    it("deletes and refuses snapshots as the published tables say", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local id = attached_disk(ecs, inst)
      local snap = assert(ecs:CreateSnapshot { DiskId = id, SnapshotName = "one", RetentionDays = 2 }).SnapshotId
      -- a snapshot in progress holds its disk
      expect(403, "IncorrectDiskStatus.CreatingSnapshot", ecs:CreateSnapshot { DiskId = id })
      expect(403, "DiskCreatingSnapshot", ecs:ResizeDisk { DiskId = id, NewSize = 40 })
      world.advance(3)
      -- used by a disk: refused without Force
      local from = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, SnapshotId = snap }).DiskId
      assert.are.equal("disk", assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { snap } })
        .Snapshots.Snapshot[1].Usage)
      assert.are.equal(1, assert(ecs:DescribeSnapshots { RegionId = R, Usage = "disk" }).TotalCount)
      expect(403, "SnapshotCreatedDisk", ecs:DeleteSnapshot { SnapshotId = snap })
      -- used by an image: refused even with Force
      local other = assert(ecs:CreateSnapshot { DiskId = system_disk(ecs, inst).DiskId }).SnapshotId
      world.advance(3)
      local image = assert(ecs:CreateImage { RegionId = R, SnapshotId = other }).ImageId
      expect(403, "SnapshotCreatedImage", ecs:DeleteSnapshot { SnapshotId = other, Force = true })
      assert.are.equal("image", assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { other } })
        .Snapshots.Snapshot[1].Usage)
      world.advance(6)
      assert(ecs:DeleteImage { RegionId = R, ImageId = image })
      assert(ecs:DeleteSnapshot { SnapshotId = other })
      -- a snapshot that does not exist is ignored
      assert(ecs:DeleteSnapshot { SnapshotId = "s-none" })
      -- the retention: gone two days after its creation, though a disk was made from it
      world.advance(2 * 86400)
      assert.are.equal(0, assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { snap } }).TotalCount)
      assert.are.equal(snap, disk(ecs, from).SourceSnapshotId)
      -- a disk never attached has nothing to copy
      local fresh = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      world.advance(3)
      expect(403, "IncorrectDiskStatus.NeverAttached", ecs:CreateSnapshot { DiskId = fresh })
      expect(404, "InvalidDescription.Malformed", ecs:CreateSnapshot { DiskId = id, Description = "x" })
      expect(404, "InvalidDiskId.NotFound", ecs:CreateSnapshot { DiskId = "d-none" })
    end)

    it("finds snapshots by creation time and category", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local sys = system_disk(ecs, inst).DiskId
      local all = assert(ecs:DescribeSnapshots { RegionId = R, DiskId = sys }).Snapshots.Snapshot
      local first = all[1].CreationTime
      local new = assert(ecs:CreateSnapshot { DiskId = sys }).SnapshotId
      local t = assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { new } }).Snapshots.Snapshot[1].CreationTime
      assert.are_not.equal(first, t) -- the fixture's snapshot is a month old
      local after = assert(ecs:DescribeSnapshots { RegionId = R, DiskId = sys,
        Filter = { { Key = "CreationStartTime", Value = t } } })
      assert.are.same({ 1, new }, { after.TotalCount, after.Snapshots.Snapshot[1].SnapshotId })
      local before = assert(ecs:DescribeSnapshots { RegionId = R, DiskId = sys,
        Filter = { { Key = "CreationEndTime", Value = first } } })
      assert.are.equal(1, before.TotalCount)
      assert.are.equal(2, assert(ecs:DescribeSnapshots { RegionId = R, DiskId = sys, Category = "Standard" }).TotalCount)
      -- DescribeDisks reads the same window: only the disk made now
      local disk_id = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      local made = disk(ecs, disk_id).CreationTime
      local recent = assert(ecs:DescribeDisks { RegionId = R, Filter = { { Key = "CreationStartTime", Value = made } } })
      assert.are.same({ 1, disk_id }, { recent.TotalCount, recent.Disks.Disk[1].DiskId })
      expect(400, "InvalidParameter", ecs:DescribeSnapshots { RegionId = R, Filter = { { Key = "Size", Value = "1" } } })
    end)
  end)
end
