-- Disks: create (Size or SnapshotId), Creating -> Available after the configured delay,
-- attach/detach with their transitions, the modify/resize/re-init/reset/replace actions,
-- delete, and the documented errors with their statuses.
return function(world)
  describe(world.name .. " emulator: disks", function()
    before_each(world.reset)
    local R, Z = "cn-hangzhou", "cn-hangzhou-h"

    local function instance(ecs, zone)
      for _, i in ipairs(assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance) do
        if i.ZoneId == (zone or Z) then return i end
      end
    end

    local function disk(ecs, id)
      return assert(ecs:DescribeDisks { RegionId = R, DiskIds = { id } }).Disks.Disk[1]
    end

    local function available_disk(ecs, p)
      p = p or {}
      p.RegionId, p.ZoneId, p.Size = R, p.ZoneId or Z, p.Size or (not p.SnapshotId and 20 or nil)
      local id = assert(ecs:CreateDisk(p)).DiskId
      world.advance(3)
      return id
    end

    local function expect(status, code, res, err)
      assert.is_nil(res)
      assert.are.equal(code, err and err.code)
      assert.are.equal(status, err.status)
    end

    it("creates a disk that is Creating and then Available after the delay", function()
      local ecs = world.ecs()
      local id = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20, DiskName = "data-1",
        Description = "for specs", DiskCategory = "cloud_essd", Tag = { { Key = "env", Value = "test" } } }).DiskId
      assert.matches("^d%-", id)
      local d = disk(ecs, id)
      assert.are.equal("Creating", d.Status)
      assert.are.same({ "data-1", "cloud_essd", 20, "data", true, "", "PostPaid" },
        { d.DiskName, d.Category, d.Size, d.Type, d.Portable, d.InstanceId, d.DiskChargeType })
      assert.are.same({ OperationLock = {} }, d.OperationLocks)
      world.advance(1)
      assert.are.equal("Creating", disk(ecs, id).Status)
      world.advance(2)
      assert.are.equal("Available", disk(ecs, id).Status)
      assert.are.equal(1, assert(ecs:DescribeDisks { RegionId = R, Tag = { { Key = "env", Value = "test" } } }).TotalCount)
    end)

    it("creates a disk from a snapshot with the snapshot's size, and checks sizes", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local sys = assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" })
        .Disks.Disk[1]
      local snap = assert(ecs:DescribeSnapshots { RegionId = R, DiskId = sys.DiskId }).Snapshots.Snapshot[1]
      local id = available_disk(ecs, { SnapshotId = snap.SnapshotId })
      local d = disk(ecs, id)
      assert.are.equal(tonumber(snap.SourceDiskSize), d.Size) -- a string in the response model
      assert.are.equal(snap.SnapshotId, d.SourceSnapshotId)
      expect(403, "InvalidDiskSize.TooSmall", ecs:CreateDisk { RegionId = R, ZoneId = Z, SnapshotId = snap.SnapshotId,
        Size = 5 })
      expect(404, "InvalidSnapshotId.NotFound", ecs:CreateDisk { RegionId = R, ZoneId = Z, SnapshotId = "s-none" })
      expect(400, "MissingParameter", ecs:CreateDisk { RegionId = R, ZoneId = Z })
      expect(400, "InvalidSize.ValueNotSupported", ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 4 })
      expect(400, "InvalidDiskCategory.ValueNotSupported", ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20,
        DiskCategory = "floppy" })
      expect(404, "InvalidZoneId.NotFound", ecs:CreateDisk { RegionId = R, ZoneId = "cn-beijing-g", Size = 20 })
      expect(400, "InvalidDiskName.Malformed", ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20,
        DiskName = "http://x" })
      expect(400, "InvalidDescription.Malformed", ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20,
        Description = "x" })
    end)

    it("attaches: Attaching then In_use on a device; detaches: Detaching then Available", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local id = available_disk(ecs)
      assert(ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = id, DeleteWithInstance = true })
      local d = disk(ecs, id)
      assert.are.same({ "Attaching", inst.InstanceId, "/dev/xvdb" }, { d.Status, d.InstanceId, d.Device })
      world.advance(2)
      d = disk(ecs, id)
      assert.are.equal("In_use", d.Status)
      assert.is_true(d.DeleteWithInstance)
      assert.are_not.equal("", d.AttachedTime)
      expect(403, "IncorrectDiskStatus", ecs:DeleteDisk { DiskId = id })
      expect(403, "IncorrectDiskStatus", ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = id })
      assert(ecs:DetachDisk { InstanceId = inst.InstanceId, DiskId = id })
      assert.are.equal("Detaching", disk(ecs, id).Status)
      world.advance(2)
      d = disk(ecs, id)
      assert.are.same({ "Available", "", "", false }, { d.Status, d.InstanceId, d.Device, d.DeleteWithInstance })
      assert(ecs:DeleteDisk { DiskId = id })
      assert.are.equal(0, assert(ecs:DescribeDisks { RegionId = R, DiskIds = { id } }).TotalCount)
      assert(ecs:DeleteDisk { DiskId = id }) -- the service ignores a disk that no longer exists
    end)

    it("refuses attach and detach as the reference says", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local creating = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      expect(403, "IncorrectDiskStatus", ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = creating })
      local other_zone = available_disk(ecs, { ZoneId = "cn-hangzhou-i" })
      expect(403, "ResourcesNotInSameZone", ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = other_zone })
      expect(404, "InvalidDiskId.NotFound", ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = "d-none" })
      expect(404, "InvalidInstanceId.NotFound", ecs:AttachDisk { InstanceId = "i-none", DiskId = creating })
      local sys = assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" })
        .Disks.Disk[1]
      assert.is_false(sys.Portable)
      expect(403, "DiskTypeViolation", ecs:DetachDisk { InstanceId = inst.InstanceId, DiskId = sys.DiskId })
      expect(403, "DiskTypeViolation", ecs:DeleteDisk { DiskId = sys.DiskId })
      local free = available_disk(ecs)
      expect(403, "DependencyViolation", ecs:DetachDisk { InstanceId = inst.InstanceId, DiskId = free })
      expect(400, "InvalidDiskType.ValueNotSupported", ecs:DescribeDisks { RegionId = R, DiskType = "swap" })
      expect(400, "InvalidStatus.ValueNotSupported", ecs:DescribeDisks { RegionId = R, Status = "Melting" })
      expect(400, "InvalidCategory.ValueNotSupported", ecs:DescribeDisks { RegionId = R, Category = "tape" })
    end)

    it("modifies attributes and the charge type", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local id = available_disk(ecs)
      assert(ecs:ModifyDiskAttribute { DiskId = id, DiskName = "renamed", DeleteAutoSnapshot = false,
        EnableAutoSnapshot = true })
      local d = disk(ecs, id)
      assert.are.same({ "renamed", false, true }, { d.DiskName, d.DeleteAutoSnapshot, d.EnableAutoSnapshot })
      expect(400, "NoAttributeToModify", ecs:ModifyDiskAttribute { DiskId = id })
      expect(400, "InvalidDiskName.Malformed", ecs:ModifyDiskAttribute { DiskId = id, DiskName = "-" })
      expect(404, "InvalidDiskId.NotFound", ecs:ModifyDiskAttribute { DiskId = "d-none", DiskName = "abc" })
      assert(ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = id })
      world.advance(2)
      local res = assert(ecs:ModifyDiskChargeType { RegionId = R, InstanceId = inst.InstanceId, DiskIds = { id },
        DiskChargeType = "PrePaid" })
      assert.is_string(res.OrderId) -- a string in the response model
      assert.are.equal("PrePaid", disk(ecs, id).DiskChargeType)
      assert.are.equal(1, assert(ecs:DescribeDisks { RegionId = R, DiskChargeType = "PrePaid" }).TotalCount)
      expect(404, "InvalidDiskIds.NotFound", ecs:ModifyDiskChargeType { RegionId = R, InstanceId = inst.InstanceId,
        DiskIds = { "d-none" } })
      expect(404, "InvalidDiskChargeType.NotFound", ecs:DescribeDisks { RegionId = R, DiskChargeType = "Free" })
    end)

    it("resizes data disks only, and only upwards", function()
      local ecs = world.ecs()
      local id = available_disk(ecs)
      assert(ecs:ResizeDisk { DiskId = id, NewSize = 60 })
      assert.are.equal(60, disk(ecs, id).Size)
      expect(403, "InvalidDiskSize.TooSmall", ecs:ResizeDisk { DiskId = id, NewSize = 30 })
      expect(403, "InvalidDiskSize.TooLarge", ecs:ResizeDisk { DiskId = id, NewSize = 40000 })
      local inst = instance(ecs)
      local sys = assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" })
        .Disks.Disk[1]
      expect(403, "OperationDenied", ecs:ResizeDisk { DiskId = sys.DiskId, NewSize = 100 })
      local creating = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      -- ref 7.11: a disk in another state is DiskError (message IncorrectDiskStatus)
      expect(403, "DiskError", ecs:ResizeDisk { DiskId = creating, NewSize = 100 })
    end)

    it("re-initialises and resets disks of a stopped instance, from the disk's own snapshot", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local id = available_disk(ecs)
      assert(ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = id })
      world.advance(2)
      local snap = assert(ecs:CreateSnapshot { DiskId = id }).SnapshotId
      expect(403, "IncorrectInstanceStatus", ecs:ReInitDisk { DiskId = id })
      expect(403, "IncorrectInstanceStatus", ecs:ResetDisk { DiskId = id, SnapshotId = snap })
      assert(ecs:StopInstance { InstanceId = inst.InstanceId })
      world.advance(3) -- Stopping, then Stopped
      assert(ecs:ReInitDisk { DiskId = id })
      assert(ecs:ResetDisk { DiskId = id, SnapshotId = snap })
      local sys = assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" })
        .Disks.Disk[1]
      expect(403, "InvalidParameter.Mismatch", ecs:ResetDisk { DiskId = sys.DiskId, SnapshotId = snap })
      expect(404, "InvalidSnapshotId.NotFound", ecs:ResetDisk { DiskId = id, SnapshotId = "s-none" })
      local free = available_disk(ecs)
      expect(403, "IncorrectDiskStatus", ecs:ReInitDisk { DiskId = free })
      assert(ecs:ReInitDisk { DiskId = id, AutoStartInstance = true })
      world.advance(3) -- Starting, then Running
      local now = assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { inst.InstanceId } }).Instances.Instance[1]
      assert.are.equal("Running", now.Status)
    end)

    it("replaces the system disk of a stopped instance with a new disk id", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local image = "centos_7_9_x64_20G_alibase_20240101.vhd"
      expect(403, "IncorrectInstanceStatus", ecs:ReplaceSystemDisk { InstanceId = inst.InstanceId, ImageId = image })
      assert(ecs:StopInstance { InstanceId = inst.InstanceId })
      world.advance(3) -- Stopping, then Stopped
      local old = assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" })
        .Disks.Disk[1]
      expect(404, "InvalidImageId.NotFound", ecs:ReplaceSystemDisk { InstanceId = inst.InstanceId, ImageId = "m-none" })
      expect(404, "InvalidSystemDiskSize.MoreThanMaxSize", ecs:ReplaceSystemDisk { InstanceId = inst.InstanceId,
        ImageId = image, SystemDisk = { Size = 501 } })
      expect(400, "InvalidPassword.Malformed", ecs:ReplaceSystemDisk { InstanceId = inst.InstanceId, ImageId = image,
        Password = "short" })
      expect(400, "InvalidPasswordParam.Mismatch", ecs:ReplaceSystemDisk { InstanceId = inst.InstanceId,
        ImageId = image, Password = "Abcdef12!", PasswordInherit = true })
      expect(400, "InvalidParameter.EncryptedIllegal", ecs:ReplaceSystemDisk { InstanceId = inst.InstanceId,
        ImageId = image, KMSKeyId = "0e478b7a-4262-4802-b8cb-00d3fb40beef" })
      local res = assert(ecs:ReplaceSystemDisk { InstanceId = inst.InstanceId, ImageId = image, SystemDisk = { Size = 60 },
        Encrypted = true })
      assert.are_not.equal(old.DiskId, res.DiskId)
      local new = disk(ecs, res.DiskId)
      assert.are.same({ "system", 60, image, "In_use", true }, { new.Type, new.Size, new.ImageId, new.Status, new.Encrypted })
      assert.are.equal(0, assert(ecs:DescribeDisks { RegionId = R, DiskIds = { old.DiskId } }).TotalCount)
    end)

    it("pages disks by PageNumber/PageSize and by NextToken/MaxResults", function()
      local ecs = world.ecs()
      for _ = 1, 4 do assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }) end
      local total = assert(ecs:DescribeDisks { RegionId = R, DiskType = "data" }).TotalCount
      assert.are.equal(4, total)
      local p = assert(ecs:DescribeDisks { RegionId = R, DiskType = "data", PageSize = 3, PageNumber = 2 })
      assert.are.same({ 4, 2, 3, 1 }, { p.TotalCount, p.PageNumber, p.PageSize, #p.Disks.Disk })
      local ids, token = {}, nil
      for _ = 1, 10 do
        local page = assert(ecs:DescribeDisks { RegionId = R, DiskType = "data", MaxResults = 3, NextToken = token })
        for _, d in ipairs(page.Disks.Disk) do ids[#ids + 1] = d.DiskId end
        token = page.NextToken
        if token == "" then break end
      end
      assert.are.equal(4, #ids)
    end)
  end)
end
