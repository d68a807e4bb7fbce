-- ENS custom images, made from an instance (its system disk, and its data disks with
-- WithDataDisks) or from a snapshot; Creating, then Available after ens_image_create.
-- DescribeSelfImages lists them; an image instances run from is not deleted
-- (Forbidden.DelerrorteImage, the service's spelling).
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"

local raise = errors.raise
local bad_field = common.bad_field

local function platform_of(ctx, image_id)
  for _, img in ipairs(fixtures.ENS_IMAGES) do
    if img.id == image_id then return img.platform, img.os end
  end
  local custom = engine.get(ctx, "ens_image", image_id)
  if custom then return custom.Platform, custom.OsVersion end
  return "Linux", "Linux"
end

local function mapping(d)
  return { Type = d.Type, Size = tostring(math.floor(d.Size / 1024)), Format = "qcow2" }
end

local image = {
  name = "ens_image", product = "ens", id = "ImageId", prefix = "m", id_length = 25, scope = "ens",
  name_field = "ImageName", not_found = "InvalidParameter.ImageId", state_code = "IncorrectStatus.Image",
  error_status = 400,
  fields = { ImageName = common.name("ImageName") },
  roundtrip = {
    setup = function(fx, call)
      fx.ens_disk = call("CreateDisk", { EnsRegionId = fx.ens_region, Category = "cloud_efficiency", Size = "20",
        InstanceChargeType = "PostPaid" }).InstanceIds[1]
      fx.ens_snapshot = call("CreateSnapshot", { EnsRegionId = fx.ens_region, DiskId = fx.ens_disk }).SnapShotId[1]
    end,
    create = { "CreateImage", function(fx) return { ImageName = "rtimage", SnapshotId = fx.ens_snapshot } end },
    id = function(answer) return answer.ImageId end,
    ready = { "Status", "Available" },
    describe = { "DescribeSelfImages", function(_, id) return { ImageId = id } end },
    modify = { "ModifyImageAttribute", function(_, id) return { ImageId = id, ImageName = "renamed" } end,
      "ImageName", "renamed" },
    delete = { "DeleteImage", function(_, id) return { ImageId = id } end },
    not_found = "InvalidParameter.ImageId",
    wrong_state = { "DeleteImage", function(_, id) return { ImageId = id } end, "IncorrectStatus.Image" },
  },
}

image.actions = {
  CreateImage = {
    op = "create", status = "Creating", ready = { after = "ens_image_create", Status = "Available" },
    honours = { "InstanceId", "SnapshotId", "WithDataDisks" },
    before = function(_, a, ctx, rec)
      local inst_id, snap_id = a:str("InstanceId"), a:str("SnapshotId")
      local with_data = a:bool("WithDataDisks", false)
      if (inst_id == nil) == (snap_id == nil) then bad_field("InstanceId", "Give InstanceId or SnapshotId, one of them.") end
      local maps = {}
      if inst_id then
        local inst = common.find(ctx, "ens_instance", inst_id)
        if inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus", nil, 400) end
        rec.EnsRegionId, rec.InstanceId = inst.EnsRegionId, inst.InstanceId
        rec.Platform, rec.OsVersion = platform_of(ctx, inst.ImageId)
        for _, d in ipairs(engine.list(ctx, "ens_disk", function(d) return d.InstanceId == inst.InstanceId end)) do
          if d.Type == "system" or with_data then maps[#maps + 1] = mapping(d) end
        end
      else
        if with_data then bad_field("WithDataDisks", "It takes an InstanceId.") end
        local snap = common.find(ctx, "ens_snapshot", snap_id)
        if snap.Status ~= "Available" then raise("IncorrectSnapshotStatus", nil, 400) end
        rec.EnsRegionId, rec.SnapshotId = snap.EnsRegionId, snap.SnapshotId
        rec.Platform, rec.OsVersion = "Linux", "Linux"
        maps[1] = { Type = "system", Size = snap.Size, Format = "qcow2" }
      end
      rec.RegionId = rec.EnsRegionId
      rec.ImageSize = maps[1] and maps[1].Size or "20"
      rec.ImageStorageSize = rec.ImageSize
      rec.DiskDeviceMappings = maps
      rec.Architecture, rec.ComputeType, rec.ImageOwnerAlias = "x86_64", "ens_vm", "self"
      rec.InstanceId, rec.SnapshotId = rec.InstanceId or "", rec.SnapshotId or ""
    end,
    answer = function(_, _, rec) return { Code = 0, ImageId = rec.ImageId } end,
  },
  DescribeSelfImages = {
    op = "describe", page_max = 100,
    filters = { ImageId = "ImageId", ImageName = "ImageName", SnapshotId = "SnapshotId" },
    -- this answer's paging fields are strings in the model
    extra = function(_, _, _, body)
      body.Code = 0
      for _, f in ipairs { "PageNumber", "PageSize", "TotalCount" } do
        if body[f] ~= nil then body[f] = tostring(body[f]) end
      end
    end,
  },
  ModifyImageAttribute = { op = "modify", fields = { "ImageName" }, states = { "Available" },
    answer = function() return common.OK end },
  DeleteImage = {
    op = "delete", states = { "Available" },
    dependents = { { kind = "ens_instance", field = "ImageId", code = "Forbidden.DelerrorteImage" } },
  },
}

return image
