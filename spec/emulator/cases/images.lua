-- Images: custom images from instances, snapshots and disk mappings (Creating, then
-- Available), DescribeImages' filters and paging, ModifyImageAttribute, DeleteImage's rules,
-- sharing with another account, copies to another region, import and export, the instance
-- types an image runs on, and Image Builder (components, pipelines, executions on the clock).
return function(world)
  describe(world.name .. " emulator: images", function()
    before_each(world.reset)
    local R, Z, SH = "cn-hangzhou", "cn-hangzhou-h", "cn-shanghai"
    local PUBLIC = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"

    local function expect(status, code, res, err)
      assert.is_nil(res, code)
      assert.are.equal(code, err and err.code)
      assert.are.equal(status, err.status)
      return err
    end

    local function other()
      return world.ecs { access_key_id = "other", access_key_secret = "othersecret" }
    end

    local function instance(ecs)
      for _, i in ipairs(assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance) do
        if i.ZoneId == Z then return i end
      end
    end

    local function image(ecs, id, region, p)
      p = p or {}
      p.RegionId, p.ImageId = region or R, id
      p.Status = p.Status or "Creating,Available,Deprecated"
      return assert(ecs:DescribeImages(p)).Images.Image[1]
    end

    local function count(ecs, p)
      p.RegionId = p.RegionId or R
      return assert(ecs:DescribeImages(p)).TotalCount
    end

    local function launch(ecs, image_id)
      local sg = assert(ecs:DescribeSecurityGroups { RegionId = R }).SecurityGroups.SecurityGroup[1].SecurityGroupId
      local vsw
      for _, v in ipairs(assert(ecs:DescribeVSwitches { RegionId = R }).VSwitches.VSwitch) do
        if v.ZoneId == Z then vsw = v.VSwitchId end
      end
      local res, err = ecs:RunInstances { RegionId = R, ImageId = image_id, InstanceType = "ecs.g7.large",
        SecurityGroupId = sg, VSwitchId = vsw }
      return res and res.InstanceIdSets.InstanceIdSet[1], err
    end

    -- A custom image from the instance's disks, Available.
    local function ready_image(ecs, p)
      p = p or {}
      p.RegionId, p.InstanceId = R, p.InstanceId or instance(ecs).InstanceId
      local id = assert(ecs:CreateImage(p)).ImageId
      world.advance(6)
      return id
    end

    it("makes an image of an instance: Creating, then Available, with a snapshot of each disk", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local id = assert(ecs:CreateImage { RegionId = R, InstanceId = inst.InstanceId, ImageName = "web-v1",
        ImageFamily = "web", ImageVersion = "1.0.0", Description = "the web tier", Tag = { { Key = "tier", Value = "web" } } })
        .ImageId
      assert.matches("^m%-", id)
      local img = image(ecs, id)
      assert.are.same({ "Creating", "self", "web-v1", "web", "1.0.0", false, "False" },
        { img.Status, img.ImageOwnerAlias, img.ImageName, img.ImageFamily, img.ImageVersion, img.IsCopied, img.IsSelfShared })
      assert.are.equal(inst.OSName, img.OSName)
      -- not listed by default while Creating (the default Status is Available)
      assert.are.equal(0, count(ecs, { ImageId = id }))
      expect(403, "ImageIsCreating", ecs:DeleteImage { RegionId = R, ImageId = id })
      world.advance(6)
      img = image(ecs, id)
      assert.are.same({ "Available", "100%", true }, { img.Status, img.Progress, img.Usable })
      local m = img.DiskDeviceMappings.DiskDeviceMapping[1]
      assert.are.same({ "/dev/xvda", "system" }, { m.Device, m.Type })
      assert.is_string(m.Size) -- a string in the response model
      local snap = assert(ecs:DescribeSnapshots { RegionId = R, SnapshotIds = { m.SnapshotId } }).Snapshots.Snapshot[1]
      assert.are.same({ "accomplished", "image" }, { snap.Status, snap.Usage })
      assert.are.equal(img.ImageOwnerId, tonumber("1234567890123456"))
      expect(400, "InvalidImageName.Duplicated", ecs:CreateImage { RegionId = R, InstanceId = inst.InstanceId,
        ImageName = "web-v1" })
    end)

    it("makes images of a system disk snapshot and of disk mappings, and refuses the wrong ones", function()
      local ecs = world.ecs()
      local inst = instance(ecs)
      local sys = assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" }).Disks.Disk[1]
      local snap = assert(ecs:DescribeSnapshots { RegionId = R, DiskId = sys.DiskId }).Snapshots.Snapshot[1].SnapshotId
      local a = assert(ecs:CreateImage { RegionId = R, SnapshotId = snap, Architecture = "x86_64", BootMode = "UEFI",
        Features = { NvmeSupport = "supported" } }).ImageId
      world.advance(6)
      local img = image(ecs, a)
      assert.are.same({ "UEFI", "supported", sys.Size }, { img.BootMode, img.Features.NvmeSupport, img.Size })
      -- a data disk snapshot with the system one
      local data = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 30 }).DiskId
      world.advance(3)
      assert(ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = data })
      world.advance(2)
      local dsnap = assert(ecs:CreateSnapshot { DiskId = data }).SnapshotId
      expect(403, "InvalidSnapshotId.NotReady", ecs:CreateImage { RegionId = R, SnapshotId = dsnap })
      world.advance(3)
      local b = assert(ecs:CreateImage { RegionId = R, DiskDeviceMapping = { { SnapshotId = snap },
        { SnapshotId = dsnap, Size = 50 }, { Size = 10 } } }).ImageId
      world.advance(6)
      local maps = image(ecs, b).DiskDeviceMappings.DiskDeviceMapping
      assert.are.same({ "/dev/xvda", "/dev/xvdb", "50", "/dev/xvdc", "10", "" },
        { maps[1].Device, maps[2].Device, maps[2].Size, maps[3].Device, maps[3].Size, maps[3].SnapshotId })
      assert.are.equal(1, count(ecs, { SnapshotId = dsnap }))
      -- the wrong ones
      expect(403, "OperationDenied", ecs:CreateImage { RegionId = R, SnapshotId = dsnap })
      expect(400, "OperationDenied", ecs:CreateImage { RegionId = R, DiskDeviceMapping = { { SnapshotId = dsnap,
        DiskType = "data" } } })
      expect(400, "OperationDenied", ecs:CreateImage { RegionId = R, DiskDeviceMapping = { { SnapshotId = snap },
        { SnapshotId = snap, DiskType = "system" } } })
      expect(400, "InvalidSize.ValueNotSupported", ecs:CreateImage { RegionId = R, DiskDeviceMapping = { { SnapshotId = snap },
        { SnapshotId = dsnap, Size = 10 } } })
      expect(404, "InvalidSnapshotId.NotFound", ecs:CreateImage { RegionId = R, SnapshotId = "s-none" })
      expect(400, "MissingParameter", ecs:CreateImage { RegionId = R, ImageName = "nothing" })
      expect(400, "InvalidImageName.Malformed", ecs:CreateImage { RegionId = R, SnapshotId = snap, ImageName = "acs:mine" })
      expect(400, "InvalidImageVersion.Malformed", ecs:CreateImage { RegionId = R, SnapshotId = snap,
        ImageVersion = string.rep("9", 41) })
      expect(404, "InvalidInstanceId.NotFound", ecs:CreateImage { RegionId = R, InstanceId = "i-none" })
      assert(ecs:StopInstance { InstanceId = inst.InstanceId })
      expect(400, "IncorrectInstanceStatus", ecs:CreateImage { RegionId = R, InstanceId = inst.InstanceId })
    end)

    it("filters and pages DescribeImages", function()
      local ecs = world.ecs()
      local id = ready_image(ecs, { ImageName = "alpha", ImageFamily = "fam", Tag = { { Key = "k", Value = "v" } } })
      ready_image(ecs, { ImageName = "beta" })
      assert.are.equal(4, count(ecs, { ImageOwnerAlias = "system" }))
      assert.are.equal(2, count(ecs, { ImageOwnerAlias = "self" }))
      assert.are.equal(6, count(ecs, {}))
      assert.are.equal(1, count(ecs, { ImageName = "alpha" }))
      assert.are.equal(1, count(ecs, { ImageFamily = "fam" }))
      assert.are.equal(1, count(ecs, { ImageOwnerAlias = "self", Tag = { { Key = "k", Value = "v" } } }))
      assert.are.equal(2, count(ecs, { ImageOwnerAlias = "self", ImageOwnerId = 1234567890123456 }))
      assert.are.equal(4, count(ecs, { IsPublic = true }))
      assert.are.equal(1, count(ecs, { OSType = "windows" }))
      assert.are.equal(6, count(ecs, { InstanceType = "ecs.g7.large" }))
      assert.are.equal(0, count(ecs, { InstanceType = "ecs.none" }))
      assert.are.equal(0, count(ecs, { ImageOwnerAlias = "self", RegionId = SH }))
      -- the fixture's instances run from public images; none from a custom one yet
      assert.are.equal(0, count(ecs, { ImageOwnerAlias = "self", Usage = "instance" }))
      assert(launch(ecs, id))
      assert.are.equal(1, count(ecs, { ImageOwnerAlias = "self", Usage = "instance" }))
      local page = assert(ecs:DescribeImages { RegionId = R, PageSize = 4, PageNumber = 2 })
      assert.are.same({ 6, 2, 2 }, { page.TotalCount, page.PageNumber, #page.Images.Image })
      local created = image(ecs, id).CreationTime
      assert.are.equal(2, count(ecs, { ImageOwnerAlias = "self", Filter = { { Key = "CreationStartTime", Value = created } } }))
      expect(400, "DryRunOperation", ecs:DescribeImages { RegionId = R, DryRun = true })
    end)

    it("modifies an image and deprecates it", function()
      local ecs = world.ecs()
      local id = ready_image(ecs, { ImageName = "first" })
      ready_image(ecs, { ImageName = "second" })
      assert(ecs:ModifyImageAttribute { RegionId = R, ImageId = id, ImageName = "renamed", Description = "new text",
        ImageFamily = "family-a", LicenseType = "BYOL", Features = { NvmeSupport = "unsupported" } })
      local img = image(ecs, id)
      assert.are.same({ "renamed", "new text", "family-a", "BYOL", "unsupported" },
        { img.ImageName, img.Description, img.ImageFamily, img.LicenseType, img.Features.NvmeSupport })
      expect(400, "InvalidImageName.Duplicated", ecs:ModifyImageAttribute { RegionId = R, ImageId = id, ImageName = "second" })
      expect(400, "InvalidDescription.Malformed", ecs:ModifyImageAttribute { RegionId = R, ImageId = id, Description = "x" })
      expect(400, "InvalidLicenseType.NotSupported", ecs:ModifyImageAttribute { RegionId = R, ImageId = id,
        LicenseType = "Free" })
      assert(ecs:ModifyImageAttribute { RegionId = R, ImageId = id, Status = "Deprecated" })
      assert.are.equal(0, count(ecs, { ImageId = id }))
      assert.are.equal(1, count(ecs, { ImageId = id, Status = "Deprecated" }))
      assert(ecs:ModifyImageAttribute { RegionId = R, ImageId = id, Status = "Available" })
      assert.are.equal(1, count(ecs, { ImageId = id }))
      -- public images are not the account's
      expect(404, "InvalidImageId.NotFound", ecs:ModifyImageAttribute { RegionId = R, ImageId = PUBLIC, ImageName = "mine" })
      expect(404, "InvalidImageId.NotFound", ecs:ModifyImageAttribute { RegionId = R, ImageId = "m-none", ImageName = "x1" })
    end)

    it("deletes images as DeleteImage's table says", function()
      local ecs = world.ecs()
      local id = ready_image(ecs)
      local snap = image(ecs, id).DiskDeviceMappings.DiskDeviceMapping[1].SnapshotId
      assert(launch(ecs, id))
      expect(403, "ImageUsingByInstance", ecs:DeleteImage { RegionId = R, ImageId = id })
      expect(403, "SnapshotCreatedImage", ecs:DeleteSnapshot { SnapshotId = snap })
      expect(400, "DryRunOperation", ecs:DeleteImage { RegionId = R, ImageId = id, Force = true, DryRun = true })
      assert(ecs:DeleteImage { RegionId = R, ImageId = id, Force = true })
      assert.are.equal(0, count(ecs, { ImageId = id, Status = "Creating,Available" }))
      -- its snapshots stay, and may go now
      assert(ecs:DeleteSnapshot { SnapshotId = snap })
      -- an image that does not exist is ignored; a public one is not the account's
      assert(ecs:DeleteImage { RegionId = R, ImageId = id })
      expect(404, "InvalidImageId.NotFound", ecs:DeleteImage { RegionId = R, ImageId = PUBLIC })
    end)

    it("shares an image with another account, which sees it as others' and launches from it", function()
      local ecs, them = world.ecs(), other()
      local id = ready_image(ecs, { ImageName = "shared-one" })
      assert.are.equal(0, count(them, { ImageId = id }))
      assert(ecs:ModifyImageSharePermission { RegionId = R, ImageId = id, AddAccount = { "2222222222222222" } })
      local seen = image(them, id)
      assert.are.same({ "others", "shared-one" }, { seen.ImageOwnerAlias, seen.ImageName })
      assert.are.equal(1, count(them, { ImageOwnerAlias = "others" }))
      assert.are.equal("True", image(ecs, id).IsSelfShared)
      local perm = assert(ecs:DescribeImageSharePermission { RegionId = R, ImageId = id })
      assert.are.same({ 1, "2222222222222222" }, { perm.TotalCount, perm.Accounts.Account[1].AliyunId })
      assert.are.equal(0, #perm.ShareGroups.ShareGroup)
      -- the other account launches from it, and cannot change, share or delete it
      assert(launch(them, id))
      expect(404, "InvalidImageId.NotFound", them:DeleteImage { RegionId = R, ImageId = id })
      expect(404, "InvalidImageId.NotFound", them:ModifyImageAttribute { RegionId = R, ImageId = id, ImageName = "mine" })
      expect(403, "OperationDenied.SameRegionOnly", them:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = SH })
      -- the owner's changes reach it; sharing holds the owner's hand
      assert(ecs:ModifyImageAttribute { RegionId = R, ImageId = id, Description = "updated text" })
      assert.are.equal("updated text", image(them, id).Description)
      expect(403, "ImageUseShared", ecs:DeleteImage { RegionId = R, ImageId = id, Force = true })
      expect(403, "ImageUseShared", ecs:ModifyImageAttribute { RegionId = R, ImageId = id, Status = "Deprecated" })
      expect(404, "InvalidAccount.NotFound", ecs:ModifyImageSharePermission { RegionId = R, ImageId = id,
        AddAccount = { "9999999999999999" } })
      expect(404, "InvalidAccount.Forbbiden", ecs:ModifyImageSharePermission { RegionId = R, ImageId = id,
        AddAccount = { "1234567890123456" } })
      expect(404, "InvalidImageId.NotFound", ecs:ModifyImageSharePermission { RegionId = R, ImageId = PUBLIC,
        AddAccount = { "2222222222222222" } })
      assert(ecs:ModifyImageSharePermission { RegionId = R, ImageId = id, RemoveAccount = { "2222222222222222" } })
      assert.are.equal(0, count(them, { ImageId = id }))
      -- public: every account sees it
      assert(ecs:ModifyImageSharePermission { RegionId = R, ImageId = id, IsPublic = true })
      assert.are.equal(1, count(them, { ImageId = id, ImageOwnerAlias = "others" }))
      perm = assert(ecs:DescribeImageSharePermission { RegionId = R, ImageId = id })
      assert.are.equal("all", perm.ShareGroups.ShareGroup[1].Group)
      assert(ecs:ModifyImageSharePermission { RegionId = R, ImageId = id, IsPublic = false })
      assert(ecs:DeleteImage { RegionId = R, ImageId = id, Force = true })
      assert.are.equal(0, count(them, { ImageId = id }))
    end)

    it("refuses to share an image with encrypted snapshots", function()
      local ecs = world.ecs()
      assert(ecs:EnableDiskEncryptionByDefault { RegionId = R })
      local data = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
      world.advance(3)
      local inst = instance(ecs)
      assert(ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = data })
      world.advance(2)
      local id = ready_image(ecs)
      expect(403, "OperationDeined.EncryptedSnapshot", ecs:ModifyImageSharePermission { RegionId = R, ImageId = id,
        AddAccount = { "2222222222222222" } })
      expect(400, "ImageNotSupported", ecs:ExportImage { RegionId = R, ImageId = id, OSSBucket = "my-bucket",
        RoleName = "EcsInstanceRole" })
    end)

    it("copies an image to another region, and cancels a copy", function()
      local ecs = world.ecs()
      local id = ready_image(ecs, { ImageName = "to-copy" })
      local copy = assert(ecs:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = SH,
        DestinationImageName = "copied", DestinationDescription = "in Shanghai", Tag = { { Key = "c", Value = "1" } } }).ImageId
      local img = image(ecs, copy, SH)
      assert.are.same({ "Creating", true, "copied", "in Shanghai" }, { img.Status, img.IsCopied, img.ImageName, img.Description })
      local snap = img.DiskDeviceMappings.DiskDeviceMapping[1].SnapshotId
      local s = assert(ecs:DescribeSnapshots { RegionId = SH, SnapshotIds = { snap } }).Snapshots.Snapshot[1]
      assert.are.equal(R, s.SourceRegionId)
      -- the source is held while the copy runs
      expect(403, "OperationDenied.ImageCopying", ecs:DeleteImage { RegionId = R, ImageId = id })
      expect(403, "OperationDenied.ImageCopying", ecs:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = SH })
      assert(ecs:CancelCopyImage { RegionId = SH, ImageId = copy })
      assert.are.equal(0, count(ecs, { RegionId = SH, ImageId = copy, Status = "Creating,Available" }))
      assert.are.equal(0, assert(ecs:DescribeSnapshots { RegionId = SH, SnapshotIds = { snap } }).TotalCount)
      -- a copy that completes
      copy = assert(ecs:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = SH }).ImageId
      world.advance(6)
      img = image(ecs, copy, SH)
      assert.are.same({ "Available", "to-copy" }, { img.Status, img.ImageName })
      expect(400, "IncorrectImageStatus", ecs:CancelCopyImage { RegionId = SH, ImageId = copy })
      expect(400, "ImageCreatedNotFromCopy", ecs:CancelCopyImage { RegionId = R, ImageId = id })
      expect(404, "InvalidImageId.NotFound", ecs:CancelCopyImage { RegionId = R, ImageId = copy })
      expect(403, "IncorrectDestinationRegion", ecs:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = R })
      expect(400, "DestinationRegion.NotFound", ecs:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = "mars-1" })
      expect(400, "InvalidImageName.Duplicated", ecs:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = SH,
        DestinationImageName = "to-copy" })
      expect(400, "InvalidParameter.EncryptedIllegal", ecs:CopyImage { RegionId = R, ImageId = id,
        DestinationRegionId = SH, KMSKeyId = "0e478b7a-4262-4802-b8cb-00d3fb40beef" })
      expect(404, "InvalidImageId.NotFound", ecs:CopyImage { RegionId = R, ImageId = PUBLIC, DestinationRegionId = SH })
      -- encrypted on the way
      local enc = assert(ecs:CopyImage { RegionId = R, ImageId = id, DestinationRegionId = "cn-beijing", Encrypted = true })
        .ImageId
      assert.is_true(image(ecs, enc, "cn-beijing").DiskDeviceMappings.DiskDeviceMapping[1].Encrypted)
    end)

    it("imports an image from OSS and exports one, with the RAM role the service needs", function()
      local ecs = world.ecs()
      local mapping = { { OSSBucket = "images-bucket", OSSObject = "disks/root.qcow2", Format = "QCOW2", DiskImageSize = 40 },
        { OSSBucket = "images-bucket", OSSObject = "disks/data.raw", DiskImageSize = 100 } }
      expect(403, "NoSetRoletoECSServiceAcount", ecs:ImportImage { RegionId = R, DiskDeviceMapping = mapping })
      local res = assert(ecs:ImportImage { RegionId = R, DiskDeviceMapping = mapping, ImageName = "imported",
        OSType = "linux", Platform = "Ubuntu", Architecture = "x86_64", RoleName = "EcsInstanceRole" })
      assert.is_string(res.TaskId)
      local id = res.ImageId
      local img = image(ecs, id)
      assert.are.same({ "Creating", "Ubuntu", 40 }, { img.Status, img.Platform, img.Size })
      local m = img.DiskDeviceMappings.DiskDeviceMapping
      assert.are.same({ "images-bucket", "disks/root.qcow2", "QCOW2", "", "data" },
        { m[1].ImportOSSBucket, m[1].ImportOSSObject, m[1].Format, m[1].SnapshotId, m[2].Type })
      expect(403, "ImageIsImporting", ecs:DeleteImage { RegionId = R, ImageId = id })
      world.advance(6)
      img = image(ecs, id)
      assert.are.equal("Available", img.Status)
      assert.matches("^s%-", img.DiskDeviceMappings.DiskDeviceMapping[1].SnapshotId)
      expect(403, "MissingParameter.DiskDeviceMapping", ecs:ImportImage { RegionId = R, RoleName = "EcsInstanceRole" })
      expect(400, "InvalidOSSBucket.NotFound", ecs:ImportImage { RegionId = R, RoleName = "EcsInstanceRole",
        DiskDeviceMapping = { { OSSBucket = "Bad_Bucket", OSSObject = "x" } } })
      expect(400, "InvalidImageFormat.Malformed", ecs:ImportImage { RegionId = R, RoleName = "EcsInstanceRole",
        DiskDeviceMapping = { { OSSBucket = "images-bucket", OSSObject = "x", Format = "ISO" } } })
      expect(400, "InvalidPlatform.Malformed", ecs:ImportImage { RegionId = R, RoleName = "EcsInstanceRole",
        Platform = "Plan9", DiskDeviceMapping = { { OSSBucket = "images-bucket", OSSObject = "x" } } })
      expect(400, "MissingParameter", ecs:ImportImage { RegionId = R, RoleName = "EcsInstanceRole",
        DiskDeviceMapping = { { OSSBucket = "images-bucket" } } })
      -- export (the data disk of 100 GiB is within the limits)
      expect(403, "NoSetRoletoECSServiceAcount", ecs:ExportImage { RegionId = R, ImageId = id, OSSBucket = "out-bucket" })
      expect(400, "InvalidImageFormat.Malformed", ecs:ExportImage { RegionId = R, ImageId = id, OSSBucket = "out-bucket",
        ImageFormat = "iso", RoleName = "EcsInstanceRole" })
      expect(400, "InvalidOSSPrefix.Malformed", ecs:ExportImage { RegionId = R, ImageId = id, OSSBucket = "out-bucket",
        OSSPrefix = "no/slashes", RoleName = "EcsInstanceRole" })
      res = assert(ecs:ExportImage { RegionId = R, ImageId = id, OSSBucket = "out-bucket", ImageFormat = "qcow2",
        OSSPrefix = "EcsExport", RoleName = "EcsInstanceRole" })
      assert.are.equal(R, res.RegionId)
      assert.is_string(res.TaskId)
      expect(403, "ImageIsExporting", ecs:ExportImage { RegionId = R, ImageId = id, OSSBucket = "out-bucket",
        RoleName = "EcsInstanceRole" })
      expect(403, "ImageIsExporting", ecs:DeleteImage { RegionId = R, ImageId = id })
      world.advance(6)
      assert(ecs:DeleteImage { RegionId = R, ImageId = id })
    end)

    it("lists the instance types an image runs on", function()
      local ecs = world.ecs()
      local res = assert(ecs:DescribeImageSupportInstanceTypes { RegionId = R, ImageId = PUBLIC })
      assert.are.equal(PUBLIC, res.ImageId)
      local types = res.InstanceTypes.InstanceType
      assert.are.equal(6, #types)
      assert.are.same({ "ecs.g7.large", "ecs.g7", 2, 8 },
        { types[1].InstanceTypeId, types[1].InstanceTypeFamily, types[1].CpuCoreCount, types[1].MemorySize })
      res = assert(ecs:DescribeImageSupportInstanceTypes { RegionId = R, Filter = { { Key = "imageId", Value = PUBLIC } } })
      assert.are.equal(6, #res.InstanceTypes.InstanceType)
      expect(404, "InvalidImageId.NotFound", ecs:DescribeImageSupportInstanceTypes { RegionId = R, ImageId = "m-none" })
    end)

    it("keeps image components, and refuses to delete one a pipeline uses", function()
      local ecs = world.ecs()
      local c1 = assert(ecs:CreateImageComponent { RegionId = R, Name = "updates", Content = "RUN yum update -y",
        ComponentVersion = "1.0.0", Tag = { { Key = "k", Value = "v" } } }).ImageComponentId
      assert.matches("^ic%-", c1)
      local c2 = assert(ecs:CreateImageComponent { RegionId = R, Content = "RUN echo test", ComponentType = "Test" })
        .ImageComponentId
      local function list(p)
        p.RegionId = R
        return assert(ecs:DescribeImageComponents(p)).ImageComponent.ImageComponentSet
      end
      local all = list {}
      assert.are.equal(2, #all)
      assert.are.same({ "updates", "Build", "Linux", "SELF", "1.0.0", "RUN yum update -y" },
        { all[1].Name, all[1].ComponentType, all[1].SystemType, all[1].Owner, all[1].ComponentVersion, all[1].Content })
      assert.are.equal(c2, all[2].Name) -- no name: its id
      assert.are.equal(1, #list { Name = "updates" })
      assert.are.equal(1, #list { ComponentType = "Test" })
      assert.are.equal(1, #list { ImageComponentId = { c2 } })
      assert.are.equal(2, #list { SystemType = "Linux", Owner = "SELF" })
      assert.are.equal(1, #list { Tag = { { Key = "k", Value = "v" } } })
      local p1 = assert(ecs:DescribeImageComponents { RegionId = R, MaxResults = 1 })
      assert.are.same({ 2, 1 }, { p1.TotalCount, #p1.ImageComponent.ImageComponentSet })
      local p2 = assert(ecs:DescribeImageComponents { RegionId = R, MaxResults = 1, NextToken = p1.NextToken })
      assert.are.equal(c2, p2.ImageComponent.ImageComponentSet[1].ImageComponentId)
      expect(400, "InvalidParameter", ecs:CreateImageComponent { RegionId = R, Content = "FROM IMAGE:m-1" })
      expect(400, "InvalidParameter", ecs:CreateImageComponent { RegionId = R, SystemType = "Windows" })
      local p = assert(ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE", BaseImage = PUBLIC,
        BuildContent = "COMPONENT " .. c1 .. "\nRUN echo done" }).ImagePipelineId
      expect(403, "InvalidImageComponent.InUse", ecs:DeleteImageComponent { RegionId = R, ImageComponentId = c1 })
      assert(ecs:DeleteImagePipeline { RegionId = R, ImagePipelineId = p })
      assert(ecs:DeleteImageComponent { RegionId = R, ImageComponentId = c1 })
      expect(404, "InvalidImageComponent.NotFound", ecs:DeleteImageComponent { RegionId = R, ImageComponentId = c1 })
    end)

    it("builds an image with a pipeline execution that goes through its states on the clock", function()
      local ecs, them = world.ecs(), other()
      local comp = assert(ecs:CreateImageComponent { RegionId = R, Content = "RUN echo hello" }).ImageComponentId
      local p = assert(ecs:CreateImagePipeline { RegionId = R, Name = "builder", BaseImageType = "IMAGE", BaseImage = PUBLIC,
        ImageName = "built", ImageFamily = "builds", SystemDiskSize = 50, InstanceType = "ecs.g7.large",
        BuildContent = "COMPONENT " .. comp, ToRegionId = { SH }, AddAccount = { "2222222222222222" },
        Tag = { { Key = "k", Value = "v" } } }).ImagePipelineId
      assert.matches("^ip%-", p)
      local listed = assert(ecs:DescribeImagePipelines { RegionId = R, ImagePipelineId = { p } })
        .ImagePipeline.ImagePipelineSet[1]
      assert.are.same({ "builder", "IMAGE", PUBLIC, 50, SH, "2222222222222222", true },
        { listed.Name, listed.BaseImageType, listed.BaseImage, listed.SystemDiskSize, listed.ToRegionIds.ToRegionId[1],
          listed.AddAccounts.AddAccount[1], listed.DeleteInstanceOnFailure })
      assert.are.equal(1, #assert(ecs:DescribeImagePipelines { RegionId = R, Name = "builder" }).ImagePipeline.ImagePipelineSet)
      local exec = assert(ecs:StartImagePipelineExecution { RegionId = R, ImagePipelineId = p }).ExecutionId
      assert.matches("^exec%-", exec)
      local function state()
        local e = assert(ecs:DescribeImagePipelineExecutions { RegionId = R, ExecutionId = exec })
          .ImagePipelineExecution.ImagePipelineExecutionSet[1]
        return e.Status, e.ImageId, e
      end
      assert.are.equal("BUILDING", (state()))
      expect(403, "InvalidImagePipeline.HasRunningExecution", ecs:StartImagePipelineExecution { RegionId = R,
        ImagePipelineId = p })
      expect(403, "InvalidImagePipeline.HasRunningExecution", ecs:DeleteImagePipeline { RegionId = R, ImagePipelineId = p })
      world.advance(11)
      local status, image_id = state()
      assert.are.equal("DISTRIBUTING", status)
      local img = image(ecs, image_id)
      assert.are.same({ "built_" .. exec, "builds", 50, "Available" }, { img.ImageName, img.ImageFamily, img.Size, img.Status })
      world.advance(5) -- distributing ends at 15 s, releasing at 17 s
      assert.are.equal("RELEASING", (state()))
      -- distributed: a copy in Shanghai, shared with the other account
      local copy = assert(ecs:DescribeImages { RegionId = SH, ImageName = "built_" .. exec }).Images.Image[1]
      local copy_snap = copy.DiskDeviceMappings.DiskDeviceMapping[1].SnapshotId
      assert.are.equal(1, assert(ecs:DescribeSnapshots { RegionId = SH, SnapshotIds = { copy_snap } }).TotalCount)
      assert.are.equal(1, count(them, { ImageId = image_id, ImageOwnerAlias = "others" }))
      world.advance(3)
      assert.are.equal("SUCCESS", (state()))
      expect(400, "InvalidStatus.CancelFailed", ecs:CancelImagePipelineExecution { RegionId = R, ExecutionId = exec })
      -- filters
      local function execs(q)
        q.RegionId = R
        return #assert(ecs:DescribeImagePipelineExecutions(q)).ImagePipelineExecution.ImagePipelineExecutionSet
      end
      assert.are.equal(1, execs { ImagePipelineId = p, Status = "SUCCESS,FAILED" })
      assert.are.equal(0, execs { ImagePipelineId = p, Status = "BUILDING" })
      expect(400, "MissingParameter.ImagePipelineId", ecs:DescribeImagePipelineExecutions { RegionId = R })
      -- cancelled while building: CANCELLING, then CANCELLED, and no image
      local second = assert(ecs:StartImagePipelineExecution { RegionId = R, ImagePipelineId = p,
        Tag = { { Key = "run", Value = "2" } } }).ExecutionId
      assert(ecs:CancelImagePipelineExecution { RegionId = R, ExecutionId = second })
      assert.are.equal(1, execs { ImagePipelineId = p, Status = "CANCELLING" })
      world.advance(20)
      assert.are.equal(1, execs { ImagePipelineId = p, Status = "CANCELLED" })
      assert.are.equal(1, execs { ImagePipelineId = p, Tag = { { Key = "run", Value = "2" } } })
      assert.are.equal(2, execs { ImagePipelineId = p })
      expect(404, "InvalidImagePipelineExecution.NotFound", ecs:CancelImagePipelineExecution { RegionId = R,
        ExecutionId = "exec-none" })
      -- deleting the pipeline deletes its executions
      assert(ecs:DeleteImagePipeline { RegionId = R, ImagePipelineId = p })
      assert.are.equal(0, execs { ExecutionId = exec })
      expect(404, "InvalidImagePipeline.NotFound", ecs:StartImagePipelineExecution { RegionId = R, ImagePipelineId = p })
    end)

    it("checks a pipeline's base image and components", function()
      local ecs = world.ecs()
      expect(404, "InvalidImage.NotFound", ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE",
        BaseImage = "m-none" })
      expect(404, "InvalidImage.NotFound", ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE_FAMILY",
        BaseImage = "no-family" })
      -- a FROM line wins over BaseImage
      local p = assert(ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE", BaseImage = "m-none",
        BuildContent = "FROM IMAGE_FAMILY:acs:alibaba_cloud_linux_3\nCOMPONENT ic-none" }).ImagePipelineId
      expect(404, "ImageComponent.NotFound", ecs:StartImagePipelineExecution { RegionId = R, ImagePipelineId = p })
      expect(404, "InvalidInstanceType.NotFound", ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE",
        BaseImage = PUBLIC, InstanceType = "ecs.none" })
      expect(404, "InvalidVSwitchId.NotFound", ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE",
        BaseImage = PUBLIC, VSwitchId = "vsw-none" })
      expect(400, "InvalidParameter", ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE",
        BaseImage = PUBLIC, SystemDiskSize = 10 })
      expect(400, "UnsupportedParameter.NotEmulated", ecs:CreateImagePipeline { RegionId = R, BaseImageType = "IMAGE",
        BaseImage = PUBLIC, RepairMode = "Standard" })
    end)
  end)
end
