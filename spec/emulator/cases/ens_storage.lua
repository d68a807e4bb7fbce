-- ENS disks, snapshots and custom images: create (sizes in GiB, shown in MiB), describe with
-- filters and paging, attach and detach with their states, resize, delete, not-found,
-- wrong states and what depends on what.
return function(world)
  describe(world.name .. " emulator: ENS disks, snapshots and images", function()
    before_each(world.reset)
    local N, N2 = "cn-chengdu-telecom-2", "cn-shanghai-cmcc"

    local expect = require("support.emulator").expect

    local function new_disk(ens, extra)
      local p = { EnsRegionId = N, Category = "cloud_efficiency", Size = "20", InstanceChargeType = "PostPaid" }
      for k, v in pairs(extra or {}) do p[k] = v end
      return ens:CreateDisk(p)
    end

    local function disk(ens, id)
      return assert(ens:DescribeDisks { DiskId = id }).Disks.Disks[1]
    end

    local function instance(ens, node)
      local id = assert(ens:RunInstances { EnsRegionId = node or N, InstanceType = "ens.sn1.small",
        ImageId = "centos_7_9_x64_20G_alibase_20240101", ScheduleAreaLevel = "Region", InstanceChargeType = "PostPaid",
        InternetChargeType = "BandwidthByDay" }).InstanceIds[1]
      world.advance(3)
      return id
    end

    it("makes a disk that is Creating, then Available, and finds it", function()
      local ens = world.ens()
      local res = assert(new_disk(ens, { DiskName = "data-1", Size = "40", Category = "cloud_ssd", Encrypted = true,
        Tag = { { Key = "env", Value = "test" } } }))
      local id = res.InstanceIds[1]
      assert.matches("^d%-", id)
      assert.is_string(res.OrderId)
      local d = disk(ens, id)
      assert.are.same({ "Creating", "data-1", 40960, "cloud_ssd", "data", true, "PostPaid", "", true, N },
        { d.Status, d.DiskName, d.Size, d.Category, d.Type, d.Portable, d.DiskChargeType, d.InstanceId, d.Encrypted,
          d.EnsRegionId })
      assert.are.same({ { Key = "env", Value = "test" } }, d.Tags.Tags)
      world.advance(3)
      assert.are.equal("Available", disk(ens, id).Status)
      assert(new_disk(ens, { EnsRegionId = N2 }))
      local function count(p) return assert(ens:DescribeDisks(p)).TotalCount end
      assert.are.equal(2, count {})
      assert.are.equal(1, count { EnsRegionId = N2 })
      assert.are.equal(2, count { EnsRegionIds = '["' .. N .. '","' .. N2 .. '"]' })
      assert.are.equal(1, count { Category = "cloud_ssd" })
      assert.are.equal(1, count { DiskName = "data-1" })
      assert.are.equal(1, count { Status = "Creating" })
      assert.are.equal(1, count { DiskIds = '["' .. id .. '"]' })
      assert.are.equal(2, count { DiskType = "2" })
      assert.are.equal(0, count { Type = "system" })
      assert.are.equal(2, count { DiskChargeType = "PostPaid" })
      assert.are.equal(1, #assert(ens:DescribeDisks { PageSize = 1, PageNumber = 2 }).Disks.Disks)
      expect(400, "InvalidParameter.DiskType", ens:DescribeDisks { DiskType = "9" })
    end)

    it("checks sizes, categories and billing of a new disk", function()
      local ens = world.ens()
      expect(400, "InvalidParameter.Size", new_disk(ens, { Size = "10" }))
      expect(400, "InvalidParameter.Category", new_disk(ens, { Category = "floppy" }))
      expect(400, "InvalidParameter.InstanceChargeType", new_disk(ens, { InstanceChargeType = "PrePaid" }))
      expect(400, "InvalidParameter.EnsRegionId", new_disk(ens, { EnsRegionId = "mars-1" }))
      expect(400, "InvalidParameter.KMSKeyId", new_disk(ens, { KMSKeyId = "key-1" }))
      expect(400, "InvalidParameter.SnapshotId", new_disk(ens, { SnapshotId = "s-none" }))
    end)

    it("attaches through Attaching, detaches through Detaching, on the same node only", function()
      local ens = world.ens()
      local inst = instance(ens)
      local far = instance(ens, N2)
      local id = assert(new_disk(ens)).InstanceIds[1]
      expect(400, "IncorrectDiskStatus", ens:AttachDisk { DiskId = id, InstanceId = inst })
      expect(400, "IncorrectDiskStatus", ens:DeleteDisk { DiskId = id })
      world.advance(3)
      expect(400, "InvalidParameter.DiskId", ens:AttachDisk { DiskId = id, InstanceId = far })
      expect(400, "InstanceIdNotFound", ens:AttachDisk { DiskId = id, InstanceId = "i-none" })
      assert.are.equal(0, assert(ens:AttachDisk { DiskId = id, InstanceId = inst, DeleteWithInstance = "true" }).Code)
      local d = disk(ens, id)
      assert.are.same({ "Attaching", inst, true }, { d.Status, d.InstanceId, d.DeleteWithInstance })
      world.advance(2)
      assert.are.equal("In_use", disk(ens, id).Status)
      assert.are.equal(id, assert(ens:DescribeInstances { InstanceId = inst }).Instances.Instance[1].DataDisk.DataDisk[1].DiskId)
      expect(400, "IncorrectDiskStatus", ens:DeleteDisk { DiskId = id })
      local sys = assert(ens:DescribeDisks { InstanceId = inst, DiskType = "1" }).Disks.Disks[1].DiskId
      expect(400, "InvalidParameter", ens:DetachDisk { DiskId = sys, InstanceId = inst })
      expect(400, "InvalidParameter", ens:DetachDisk { DiskId = id, InstanceId = far })
      assert(ens:DetachDisk { DiskId = id, InstanceId = inst })
      assert.are.equal("Detaching", disk(ens, id).Status)
      world.advance(2)
      d = disk(ens, id)
      assert.are.same({ "Available", "" }, { d.Status, d.InstanceId })
      assert(ens:StopInstance { InstanceId = inst })
      expect(403, "Target.IncorrectInstanceStatus", ens:AttachDisk { DiskId = id, InstanceId = inst })
      assert(ens:DeleteDisk { DiskId = id })
      expect(400, "InvalidParameter.DiskId", ens:DeleteDisk { DiskId = id })
      expect(400, "InvalidParameter.DiskId", ens:ResizeDisk { DiskId = id, NewSize = "30" })
      assert.are.equal(0, assert(ens:DescribeDisks { DiskId = id }).TotalCount)
    end)

    it("grows a disk and refuses to shrink it", function()
      local ens = world.ens()
      local id = assert(new_disk(ens)).InstanceIds[1]
      expect(400, "IncorrectDiskStatus", ens:ResizeDisk { DiskId = id, NewSize = "30" })
      world.advance(3)
      assert.is_string(assert(ens:ResizeDisk { DiskId = id, NewSize = "30" }).OrderId)
      assert.are.equal(30720, disk(ens, id).Size)
      expect(400, "InvalidParameter.NewSize", ens:ResizeDisk { DiskId = id, NewSize = "25" })
    end)

    it("snapshots a disk, makes disks from the snapshot and deletes it", function()
      local ens = world.ens()
      local id = assert(new_disk(ens, { Size = "30" })).InstanceIds[1]
      expect(400, "IncorrectDiskStatus", ens:CreateSnapshot { EnsRegionId = N, DiskId = id })
      world.advance(3)
      local res = assert(ens:CreateSnapshot { EnsRegionId = N, DiskId = id, SnapshotName = "backup",
        Description = "nightly" })
      local snap = res.SnapShotId[1]
      assert.matches("^s%-", snap)
      local s = assert(ens:DescribeSnapshots { SnapshotId = snap }).Snapshots[1]
      assert.are.same({ "Creating", "backup", "nightly", id, "30", N, "cloud_efficiency" },
        { s.Status, s.SnapshotName, s.Description, s.SourceDiskId, s.Size, s.SourceEnsRegionId, s.SourceDiskCategory })
      expect(400, "IncorrectSnapshotStatus", ens:DeleteSnapshot { SnapshotId = snap })
      expect(400, "IncorrectSnapshotStatus", new_disk(ens, { SnapshotId = snap, Size = "" }))
      world.advance(3)
      assert.are.equal(1, assert(ens:DescribeSnapshots { DiskId = id }).TotalCount)
      assert.are.equal(1, assert(ens:DescribeSnapshots { EnsRegionId = N }).TotalCount)
      assert.are.equal(0, assert(ens:DescribeSnapshots { EnsRegionId = N2 }).TotalCount)
      assert.are.equal(1, assert(ens:DescribeSnapshots { SnapshotName = "backup" }).TotalCount)
      local copy = assert(new_disk(ens, { SnapshotId = snap, Size = "" })).InstanceIds[1]
      local c = disk(ens, copy)
      assert.are.same({ 30720, snap }, { c.Size, c.SnapshotId })
      expect(400, "InvalidParameter.Size", new_disk(ens, { SnapshotId = snap, Size = "20" }))
      expect(400, "InvalidParameter.SnapshotId", new_disk(ens, { SnapshotId = snap, EnsRegionId = N2 }))
      assert(ens:ModifySnapshotAttribute { SnapshotId = snap, SnapshotName = "renamed", Description = "weekly" })
      s = assert(ens:DescribeSnapshots { SnapshotId = snap }).Snapshots[1]
      assert.are.same({ "renamed", "weekly" }, { s.SnapshotName, s.Description })
      assert(ens:DeleteSnapshot { SnapshotId = snap })
      expect(400, "InvalidParameter.SnapshotId", ens:DeleteSnapshot { SnapshotId = snap })
      expect(400, "InvalidParameter.SnapshotId", ens:ModifySnapshotAttribute { SnapshotId = snap, SnapshotName = "x1" })
      expect(400, "InvalidParameter.DiskId", ens:CreateSnapshot { EnsRegionId = N, DiskId = "d-none" })
    end)

    it("makes images from instances and snapshots, keeps one that instances run from", function()
      local ens = world.ens()
      local inst = instance(ens)
      local res = assert(ens:CreateImage { ImageName = "golden", InstanceId = inst })
      assert.are.equal(0, res.Code)
      local img = res.ImageId
      assert.matches("^m%-", img)
      local i = assert(ens:DescribeSelfImages { ImageId = img }).Images.Image[1]
      assert.are.same({ "Creating", "golden", inst, N, "CentOS" }, { i.Status, i.ImageName, i.InstanceId, i.RegionId,
        i.Platform })
      expect(400, "IncorrectStatus.Image", ens:DeleteImage { ImageId = img })
      world.advance(6)
      local list = assert(ens:DescribeSelfImages {})
      assert.are.same({ "1", "1" }, { list.TotalCount, list.PageNumber })
      local from = assert(ens:RunInstances { EnsRegionId = N, InstanceType = "ens.sn1.small", ImageId = img,
        ScheduleAreaLevel = "Region", InstanceChargeType = "PostPaid", InternetChargeType = "BandwidthByDay",
        PasswordInherit = true }).InstanceIds[1]
      expect(400, "Forbidden.DelerrorteImage", ens:DeleteImage { ImageId = img })
      assert.are.equal(0, assert(ens:ModifyImageAttribute { ImageId = img, ImageName = "silver" }).Code)
      assert.are.equal("1", assert(ens:DescribeSelfImages { ImageName = "silver" }).TotalCount)
      world.advance(3)
      assert(ens:ReleasePostPaidInstance { InstanceId = from })
      assert(ens:DeleteImage { ImageId = img })
      expect(400, "InvalidParameter.ImageId", ens:DeleteImage { ImageId = img })
      expect(400, "InvalidParameter.ImageId", ens:ModifyImageAttribute { ImageId = img, ImageName = "again" })
      -- from a snapshot, which the image then holds
      local d = assert(new_disk(ens)).InstanceIds[1]
      world.advance(3)
      local snap = assert(ens:CreateSnapshot { EnsRegionId = N, DiskId = d }).SnapShotId[1]
      expect(400, "IncorrectSnapshotStatus", ens:CreateImage { ImageName = "fromsnap", SnapshotId = snap })
      world.advance(3)
      local img2 = assert(ens:CreateImage { ImageName = "fromsnap", SnapshotId = snap }).ImageId
      assert.are.equal(1, tonumber(assert(ens:DescribeSelfImages { SnapshotId = snap }).TotalCount))
      expect(400, "InvalidParameter", ens:DeleteSnapshot { SnapshotId = snap })
      expect(400, "InvalidParameter.InstanceId", ens:CreateImage { ImageName = "both", SnapshotId = snap,
        InstanceId = inst })
      expect(400, "InstanceIdNotFound", ens:CreateImage { ImageName = "gone", InstanceId = "i-none" })
      local _, err = ens:CreateImage { ImageName = "oss", InstanceId = inst, TargetOSSRegionId = "cn-hangzhou" }
      assert.are.equal("UnsupportedParameter.NotEmulated", err.code)
      assert.is_string(img2)
    end)
  end)
end
