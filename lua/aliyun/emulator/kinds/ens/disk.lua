-- ENS disks and snapshots. CreateDisk makes a pay-as-you-go data disk on an edge node
-- (Creating -> Available after ens_disk_create), from a snapshot of the node when given one;
-- sizes are asked in GiB and shown in MiB, as the service shows them. AttachDisk and
-- DetachDisk move a disk of the node to and from an instance (Attaching -> In_use,
-- Detaching -> Available); only an Available disk is deleted. Snapshots of a disk are
-- Creating, then Available after ens_snapshot_create; an instance whose disks have
-- snapshots is not released (DependencyViolation.Snapshot), an image's snapshot is not deleted.
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local raise = errors.raise
local bad_field, refuse = common.bad_field, common.refuse

local CATEGORIES = { "cloud_efficiency", "cloud_ssd", "cloud_essd" }
local DISK_TYPES = { ["1"] = "system", ["2"] = "data", system = "system", data = "data" }

local function gib(disk)
  return math.floor(disk.Size / 1024)
end

local disk = {
  name = "ens_disk", product = "ens", id = "DiskId", prefix = "d", id_length = 25, scope = "ens",
  name_field = "DiskName", not_found = "InvalidParameter.DiskId", state_code = "IncorrectDiskStatus",
  error_status = 400,
  fields = {
    DiskName = common.name("DiskName"),
    Category = { enum = CATEGORIES, code = "InvalidParameter.Category" },
  },
  view = function(_, rec, ctx)
    local inst = rec.InstanceId ~= "" and engine.get(ctx, "ens_instance", rec.InstanceId)
    return { InstanceName = inst and inst.InstanceName or "" }
  end,
  roundtrip = {
    create = { "CreateDisk", function(fx) return { EnsRegionId = fx.ens_region, Category = "cloud_efficiency",
      Size = "20", InstanceChargeType = "PostPaid" } end },
    id = function(answer) return answer.InstanceIds[1] end,
    ready = { "Status", "Available" },
    describe = { "DescribeDisks", function(_, id) return { DiskId = id } end },
    modify = { "ResizeDisk", function(_, id) return { DiskId = id, NewSize = "30" } end, "Size", 30720 },
    delete = { "DeleteDisk", function(_, id) return { DiskId = id } end },
    not_found = "InvalidParameter.DiskId",
    wrong_state = { "DeleteDisk", function(_, id) return { DiskId = id } end, "IncorrectDiskStatus" },
  },
}

local snapshot = {
  name = "ens_snapshot", product = "ens", id = "SnapshotId", prefix = "s", id_length = 25, scope = "ens",
  name_field = "SnapshotName", not_found = "InvalidParameter.SnapshotId", state_code = "IncorrectSnapshotStatus",
  error_status = 400,
  fields = {
    SnapshotName = common.name("SnapshotName"),
    Description = common.description(),
  },
  view = function(_, rec) return { SourceEnsRegionId = rec.EnsRegionId } end,
  roundtrip = {
    setup = function(fx, call)
      fx.ens_disk = call("CreateDisk", { EnsRegionId = fx.ens_region, Category = "cloud_efficiency", Size = "20",
        InstanceChargeType = "PostPaid" }).InstanceIds[1]
    end,
    create = { "CreateSnapshot", function(fx) return { EnsRegionId = fx.ens_region, DiskId = fx.ens_disk } end },
    id = function(answer) return answer.SnapShotId[1] end,
    ready = { "Status", "Available" },
    describe = { "DescribeSnapshots", function(_, id) return { SnapshotId = id } end },
    modify = { "ModifySnapshotAttribute", function(_, id) return { SnapshotId = id, SnapshotName = "renamed" } end,
      "SnapshotName", "renamed" },
    delete = { "DeleteSnapshot", function(_, id) return { SnapshotId = id } end },
    not_found = "InvalidParameter.SnapshotId",
    wrong_state = { "DeleteSnapshot", function(_, id) return { SnapshotId = id } end, "IncorrectSnapshotStatus" },
  },
}

local function new_id_list(id)
  return json.array { id }
end

local function find_disk(a, ctx)
  return common.find(ctx, "ens_disk", a:need("DiskId"))
end

local function need_instance(a, ctx)
  local inst = common.find(ctx, "ens_instance", a:need("InstanceId"))
  if inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("Target.IncorrectInstanceStatus") end
  return inst
end

disk.actions = {
  CreateDisk = common.create {
    status = "Creating", ready = { after = "ens_disk_create", Status = "Available" },
    honours = { "Size", "SnapshotId", "InstanceChargeType", "Encrypted", "KMSKeyId" },
    ignores = { InstanceBillingCycle = "billing: the billing cycle has no effect in the emulator" },
    before = function(_, a, ctx, rec)
      if not rec.Category then errors.missing("Category") end
      a:enum("InstanceChargeType", { "PostPaid" }, nil, "InvalidParameter.InstanceChargeType")
      local size = a:int("Size", nil, 20, 32000, "InvalidParameter.Size")
      local snap_id = a:str("SnapshotId")
      if snap_id then
        local snap = common.find(ctx, "ens_snapshot", snap_id)
        if snap.EnsRegionId ~= rec.EnsRegionId then bad_field("SnapshotId", "The snapshot is on the node " .. snap.EnsRegionId .. ".") end
        if snap.Status ~= "Available" then raise("IncorrectSnapshotStatus", nil, 400) end
        local need = tonumber(snap.Size)
        if size and size < need then bad_field("Size", "It must be at least the snapshot's size, " .. need .. " GiB.") end
        size = size or need
      end
      if not size then errors.missing("Size") end
      local encrypted = a:bool("Encrypted", false)
      local key = a:str("KMSKeyId")
      if key and not encrypted then bad_field("KMSKeyId", "It takes Encrypted=true.") end
      rec.Size, rec.Type, rec.Portable, rec.DeleteWithInstance = common.mib(size), "data", true, false
      rec.InstanceId, rec.SnapshotId, rec.DiskChargeType, rec.Description = "", snap_id or "", "PostPaid", ""
      rec.Encrypted, rec.EncryptedKeyId = encrypted, key or ""
      rec.DiskName = rec.DiskName or rec.DiskId
      rec.SerialId = rec.DiskId:sub(3)
    end,
    answer = function(emu, _, rec) return { InstanceIds = new_id_list(rec.DiskId), OrderId = common.order_id(emu) } end,
  },
  DescribeDisks = common.describe {
    ids = { DiskIds = "DiskId" }, page_max = 100,
    filters = {
      DiskId = "DiskId", DiskName = "DiskName", Category = "Category", DiskChargeType = "DiskChargeType",
      InstanceId = "InstanceId", SnapshotId = "SnapshotId", Status = "Status",
      DiskType = { match = function(rec, v)
        local t = DISK_TYPES[v]
        if not t then bad_field("DiskType", "Valid values: 1 (system disk), 2 (data disk).") end
        return rec.Type == t
      end },
      Type = { match = function(rec, v)
        local t = DISK_TYPES[v]
        if not t then bad_field("Type", "Valid values: system, data.") end
        return rec.Type == t
      end },
    },
    extra = function(_, _, _, body) body.Code = 0 end,
  },
  AttachDisk = {
    op = "custom", honours = { "DiskId", "InstanceId", "DeleteWithInstance" },
    handler = function(emu, a, ctx)
      local d = find_disk(a, ctx)
      local inst = need_instance(a, ctx)
      local dwi = a:str("DeleteWithInstance")
      if dwi and dwi ~= "true" and dwi ~= "false" then bad_field("DeleteWithInstance", "It must be true or false.") end
      if d.Status ~= "Available" then raise("IncorrectDiskStatus", nil, 400) end
      if d.EnsRegionId ~= inst.EnsRegionId then
        bad_field("DiskId", "The disk and the instance must be on the same node.")
      end
      engine.commit(a)
      d.Status, d.InstanceId, d.DeleteWithInstance = "Attaching", inst.InstanceId, dwi == "true"
      engine.later(emu, ctx, d, emu.delays.ens_disk_attach or 0, { Status = "In_use" })
      return common.OK
    end,
  },
  DetachDisk = {
    op = "custom", honours = { "DiskId", "InstanceId" },
    handler = function(emu, a, ctx)
      local d = find_disk(a, ctx)
      local inst = need_instance(a, ctx)
      if d.InstanceId ~= inst.InstanceId then refuse("the disk is not attached to the instance " .. inst.InstanceId) end
      if d.Type == "system" then refuse("a system disk is not detached") end
      if d.Status ~= "In_use" then raise("IncorrectDiskStatus", nil, 400) end
      engine.commit(a)
      d.Status = "Detaching"
      engine.later(emu, ctx, d, emu.delays.ens_disk_detach or 0, { Status = "Available", InstanceId = "",
        DeleteWithInstance = false })
      return common.OK
    end,
  },
  ResizeDisk = {
    op = "custom", honours = { "DiskId", "NewSize" },
    handler = function(emu, a, ctx)
      local d = find_disk(a, ctx)
      local size = a:int("NewSize", nil, 20, 32000, "InvalidParameter.NewSize")
      if not size then errors.missing("NewSize") end
      if d.Status ~= "Available" and d.Status ~= "In_use" then raise("IncorrectDiskStatus", nil, 400) end
      if size <= gib(d) then bad_field("NewSize", "A disk only grows: it has " .. gib(d) .. " GiB.") end
      engine.commit(a)
      d.Size = common.mib(size)
      return { OrderId = common.order_id(emu) }
    end,
  },
  DeleteDisk = { op = "delete", states = { "Available" } },
}

snapshot.actions = {
  CreateSnapshot = common.create {
    status = "Creating", ready = { after = "ens_snapshot_create", Status = "Available" },
    honours = { "DiskId" },
    ignores = { InstanceBillingCycle = "billing: the billing cycle has no effect in the emulator" },
    before = function(_, a, ctx, rec)
      local d = find_disk(a, ctx)
      if d.EnsRegionId ~= rec.EnsRegionId then bad_field("DiskId", "The disk is on the node " .. d.EnsRegionId .. ".") end
      if d.Status ~= "Available" and d.Status ~= "In_use" then raise("IncorrectDiskStatus", nil, 400) end
      rec.SourceDiskId, rec.SourceDiskCategory, rec.SourceDiskType = d.DiskId, d.Category, d.Type
      rec.Size = tostring(gib(d))
      rec.SourceSnapshotId, rec.instance = "", d.InstanceId
      rec.SnapshotName = rec.SnapshotName or rec.SnapshotId
      rec.Description = rec.Description or ""
    end,
    answer = function(emu, _, rec) return { SnapShotId = new_id_list(rec.SnapshotId), OrderId = common.order_id(emu) } end,
  },
  DescribeSnapshots = common.describe {
    page_max = 100,
    filters = {
      SnapshotId = "SnapshotId", SnapshotName = "SnapshotName", DiskId = "SourceDiskId",
      InstanceId = { match = function(rec, v, ctx)
        local d = engine.get(ctx, "ens_disk", rec.SourceDiskId)
        return (d and d.InstanceId or rec.instance) == v
      end },
    },
  },
  ModifySnapshotAttribute = { op = "modify", fields = { "SnapshotName", "Description" } },
  DeleteSnapshot = {
    op = "delete", states = { "Available" },
    dependents = { { kind = "ens_image", field = "SnapshotId", code = "InvalidParameter",
      message = "The errorMessage is the snapshot is used by an image. Please check it again." } },
  },
}

return { disk, snapshot }
