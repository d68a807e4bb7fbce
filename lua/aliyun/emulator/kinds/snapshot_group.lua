-- Snapshot-consistent groups: one snapshot of each of an instance's disks (or of the disks
-- named, all in one zone), taken together. The group is progressing while any of its
-- snapshots is and accomplished once they all are. The service's rules (the
-- CreateSnapshotGroup page): ESSDs only, at most 16 disks and 32 TiB, DiskId.N and
-- ExcludeDiskId.N not both, with InstanceId only that instance's disks, and each disk as
-- CreateSnapshot wants it. Deleting a group deletes its snapshots except those a custom image
-- uses, which stay (outside the group).
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise

local group

local function members(ctx, rec)
  return engine.list(ctx, "snapshot", function(s) return s.SnapshotGroupId == rec.SnapshotGroupId end)
end

local function status_of(ctx, rec)
  for _, s in ipairs(members(ctx, rec)) do
    if s.Status == "progressing" then return "progressing" end
  end
  return "accomplished"
end

local STATUSES = { progressing = true, accomplished = true, failed = true }

-- The disks the group is made of, checked.
local function disks_for(a, ctx, region)
  local inst
  if a:has("InstanceId") then inst = engine.find(ctx, "instance", a:str("InstanceId"), region) end
  local ids, excluded = a:list("DiskId"), a:list("ExcludeDiskId")
  if #ids > 0 and #excluded > 0 then
    errors.invalid("DiskId", nil, nil, "DiskId.N and ExcludeDiskId.N cannot be set together.")
  end
  local disks = {}
  if #ids > 0 then
    for _, id in ipairs(ids) do
      local d = engine.get(ctx, "disk", id)
      if not d or d.RegionId ~= region then raise("InvalidDiskId.NotFound") end
      if inst and d.InstanceId ~= inst.InstanceId then
        errors.invalid("DiskId", nil, nil, "With InstanceId, DiskId.N names only disks attached to that instance.")
      end
      if disks[1] and d.ZoneId ~= disks[1].ZoneId then
        errors.invalid("DiskId", nil, nil, "The disks of a snapshot group are in one zone.")
      end
      disks[#disks + 1] = d
    end
  elseif inst then
    local skip = {}
    for _, id in ipairs(excluded) do skip[id] = true end
    for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.InstanceId == inst.InstanceId end)) do
      if not skip[d.DiskId] then disks[#disks + 1] = d end
    end
  else
    errors.missing("InstanceId")
  end
  if #disks == 0 then errors.invalid("DiskId", nil, nil, "The group would have no disk.") end
  local total = 0
  for _, d in ipairs(disks) do total = total + d.Size end
  if #disks > 16 or total > 32768 then
    errors.invalid("DiskId", nil, nil, "A snapshot group takes at most 16 disks and 32 TiB.")
  end
  for _, d in ipairs(disks) do
    if d.Category ~= "cloud_essd" then raise("DiskCategory.OperationNotSupported") end
    engine.kinds.disk.check_snapshot_source(ctx, d)
  end
  return disks, inst
end

local actions = {}

actions.CreateSnapshotGroup = {
  op = "custom",
  honours = { "InstanceId", "DiskId", "ExcludeDiskId", "Name", "Description", "Tag", "ResourceGroupId" },
  ignores = { InstantAccess = "no longer takes effect (the service made every snapshot instantly available)",
    InstantAccessRetentionDays = "no longer takes effect (the service made every snapshot instantly available)" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local name, description = a:str("Name"), a:str("Description")
    if name and not engine.CHECKS.name(name) then raise("InvalidParameter.Name") end
    -- the CreateSnapshotGroup page gives this code status 404
    if description and not engine.CHECKS.description(description) then raise("InvalidDescription.Malformed", nil, 404) end
    local disks, inst = disks_for(a, ctx, region)
    local tags = engine.tags(a)
    a:bool("InstantAccess")
    a:int("InstantAccessRetentionDays")
    engine.commit(a)
    local instance_id = inst and inst.InstanceId or disks[1].InstanceId
    for _, d in ipairs(disks) do
      if d.InstanceId ~= instance_id then instance_id = "" end
    end
    local rec = engine.store(ctx, engine.record(emu, ctx, group, { RegionId = region, Name = name or "",
      Description = description or "", InstanceId = instance_id, Tags = tags,
      ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group }))
    for _, d in ipairs(disks) do
      engine.kinds.snapshot.make(emu, ctx, d, { ResourceGroupId = rec.ResourceGroupId,
        carry = { SnapshotGroupId = rec.SnapshotGroupId } })
    end
    return { SnapshotGroupId = rec.SnapshotGroupId }
  end,
}

actions.DescribeSnapshotGroups = {
  op = "describe", page_max = 100,
  ids = { SnapshotGroupId = "SnapshotGroupId" },
  filters = {
    InstanceId = "InstanceId", Name = "Name",
    Status = { field = "Status", match = function(rec, v, ctx)
      local s = status_of(ctx, rec)
      for _, want in ipairs(v) do
        if want == s then return true end
      end
      return false
    end },
  },
  prepare = function(_, a)
    for _, s in ipairs(a:strings("Status")) do
      if not STATUSES[s] then
        raise("InvalidStatus.ValueNotSupported", "The specified Status \"" .. s .. "\" is not valid: progressing, "
          .. "accomplished or failed.", 403)
      end
    end
  end,
}

actions.ModifySnapshotGroup = { op = "modify", fields = { "Name", "Description" } }

actions.DeleteSnapshotGroup = {
  op = "custom", honours = { "SnapshotGroupId" },
  handler = function(emu, a, ctx)
    local rec = engine.find(ctx, "snapshot_group", a:need("SnapshotGroupId"), engine.region(emu, a))
    engine.commit(a)
    local progress = {}
    for _, s in ipairs(members(ctx, rec)) do
      local item = { OperationStatus = "Success", ErrorCode = "", ErrorMsg = "",
        RelatedItemSet = { RelatedItem = { { Name = "SnapshotId", Value = s.SnapshotId } } } }
      if engine.kinds.snapshot.used_by_image(ctx, s.SnapshotId) then
        -- kept for the image, outside the group
        item.OperationStatus, item.ErrorCode = "Failed", "SnapshotCreatedImage"
        item.ErrorMsg = "The snapshot has been used to create user defined image(s)."
        s.SnapshotGroupId = nil
      else
        engine.remove(emu, ctx, s)
      end
      progress[#progress + 1] = item
    end
    engine.remove(emu, ctx, rec)
    return { OperationProgressSet = { OperationProgress = progress } }
  end,
}

group = {
  name = "snapshot_group", product = "ecs", id = "SnapshotGroupId", prefix = "ssg", scope = "region", name_field = "Name",
  not_found = "InvalidSnapshotGroupId.NotFound",
  fields = {
    Name = { check = "name", code = "InvalidParameter.Name" },
    Description = { check = "description", code = "InvalidParameter.Description" },
  },
  view = function(_, rec, ctx)
    local snaps = {}
    for i, s in ipairs(members(ctx, rec)) do
      snaps[i] = { SnapshotId = s.SnapshotId, SourceDiskId = s.SourceDiskId, SourceDiskType = s.SourceDiskType:lower(),
        Progress = s.Progress, Available = s.Available, InstantAccess = false, InstantAccessRetentionDays = 0,
        Tags = s.Tags }
    end
    return { Status = status_of(ctx, rec), Snapshots = snaps }
  end,
  roundtrip = {
    create = { "CreateSnapshotGroup", function(fx) return { RegionId = fx.region, InstanceId = fx.instance } end },
    wrong_state = { "CreateSnapshotGroup", function(fx) return { RegionId = fx.region, InstanceId = fx.instance } end,
      "IncorrectDiskStatus.CreatingSnapshot" },
    ready = { "Status", "accomplished" },
    describe = { "DescribeSnapshotGroups", function(fx, id)
      return { RegionId = fx.region, SnapshotGroupId = id and { id } or nil }
    end },
    modify = { "ModifySnapshotGroup", function(fx, id)
      return { RegionId = fx.region, SnapshotGroupId = id, Name = "renamed" }
    end, "Name", "renamed" },
    delete = { "DeleteSnapshotGroup", function(fx, id) return { RegionId = fx.region, SnapshotGroupId = id } end },
    not_found = "InvalidSnapshotGroupId.NotFound",
  },
  actions = actions,
}

return group
