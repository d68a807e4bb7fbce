-- Image components, image pipelines (templates) and their executions (Image Builder).
--
-- A component holds build commands (Content: at most 16 KB and 127 commands, no FROM); a
-- pipeline names a base image (BaseImageType IMAGE or IMAGE_FAMILY, or a FROM line of its
-- BuildContent, which wins) and its BuildContent may use components (COMPONENT ic-...). A
-- component a pipeline uses cannot be deleted; a pipeline with an execution in progress
-- cannot be deleted, and deleting one deletes its executions.
--
-- StartImagePipelineExecution runs on the emulator's clock: BUILDING for `image_build`
-- seconds, at the end of which the image exists (named <ImageName>_<ExecutionId>, from the
-- base image, with a system disk snapshot of SystemDiskSize GiB), DISTRIBUTING for
-- `image_distribute` seconds (then copied to ToRegionId.N and shared with AddAccount.N),
-- RELEASING for `image_release` seconds, then SUCCESS. One execution runs per pipeline at a
-- time. CancelImagePipelineExecution stops one that is BUILDING, DISTRIBUTING or RELEASING:
-- CANCELLING, then CANCELLED; what was already made stays. The emulator runs no commands
-- and starts no intermediate instance: the commands are checked, not executed, so builds
-- and tests succeed.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local component, pipeline, execution

local RUNNING = { BUILDING = true, DISTRIBUTING = true, RELEASING = true, CANCELLING = true }
local EXEC_STATUSES = { BUILDING = true, DISTRIBUTING = true, RELEASING = true, SUCCESS = true, FAILED = true,
  CANCELLING = true, CANCELLED = true }

-- Build commands: at most 16 KB and 127 commands (non-empty lines).
local function commands(text, code, param)
  local list = {}
  for line in (text or ""):gmatch("[^\n]+") do
    line = line:match("^%s*(.-)%s*$")
    if line ~= "" then list[#list + 1] = line end
  end
  if #(text or "") > 16384 or #list > 127 then
    raise(code, "The specified " .. param .. " is not valid: at most 16 KB and 127 commands.")
  end
  return list
end

-- The component ids a pipeline's BuildContent uses.
local function components_of(p)
  local ids = {}
  for _, line in ipairs(commands(p.BuildContent, "InvalidParameter.BuildContent", "BuildContent")) do
    local id = line:match("^[Cc][Oo][Mm][Pp][Oo][Nn][Ee][Nn][Tt]%s+(%S+)")
    if id then ids[#ids + 1] = id end
  end
  return ids
end

local function refuse_running(ctx, p)
  for _, e in ipairs(engine.list(ctx, "image_execution", function(e) return e.ImagePipelineId == p.ImagePipelineId end)) do
    if RUNNING[e.Status] then
      raise("InvalidImagePipeline.HasRunningExecution", "The image pipeline has the execution " .. e.ExecutionId
        .. " in progress.")
    end
  end
end

local function check_text(a, name, code)
  local v = a:str(name)
  if v and not engine.CHECKS.name(v) then raise(code or "InvalidParameter", "The specified " .. name .. " is not valid.") end
  return v
end

local function check_description(a)
  local v = a:str("Description")
  if v and not engine.CHECKS.description(v) then raise("InvalidDescription.Malformed") end
  return v
end

-- Components -----------------------------------------------------------------------------------

local component_actions = {}

component_actions.CreateImageComponent = {
  op = "custom",
  honours = { "Name", "Description", "SystemType", "ComponentType", "ComponentVersion", "Content", "Tag",
    "ResourceGroupId" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local name = check_text(a, "Name")
    local description = check_description(a)
    local system = a:enum("SystemType", { "Linux" }, "Linux")
    local kind = a:enum("ComponentType", { "Build", "Test" }, "Build")
    local version = a:str("ComponentVersion")
    if version and not version:match("^%d+%.%d+%.%d+$") then
      errors.invalid("ComponentVersion", nil, nil, "It is major.minor.patch, such as 1.0.0.")
    end
    local content = a:str("Content") or ""
    for _, line in ipairs(commands(content, "InvalidParameter", "Content")) do
      if line:upper():match("^FROM%s") then errors.invalid("Content", nil, nil, "A component has no FROM command.") end
    end
    local tags = engine.tags(a)
    engine.commit(a)
    local rec = engine.record(emu, ctx, component, { RegionId = region, Description = description or "",
      SystemType = system, ComponentType = kind, ComponentVersion = version or "", Content = content, Owner = "SELF",
      Parameters = {}, Tags = tags, ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group })
    rec.Name = name or rec.ImageComponentId
    engine.store(ctx, rec)
    return { ImageComponentId = rec.ImageComponentId }
  end,
}

component_actions.DescribeImageComponents = {
  op = "describe", page_max = 500, page_size = 50,
  ids = { ImageComponentId = "ImageComponentId" },
  filters = {
    Name = "Name", ComponentType = "ComponentType", ComponentVersion = "ComponentVersion", SystemType = "SystemType",
    Owner = { field = "Owner", enum = { "SELF", "ALIBABA_CLOUD" } },
  },
}

component_actions.DeleteImageComponent = {
  op = "custom", honours = { "ImageComponentId" },
  handler = function(emu, a, ctx)
    local rec = engine.find(ctx, "image_component", a:need("ImageComponentId"), engine.region(emu, a))
    for _, p in ipairs(engine.list(ctx, "image_pipeline")) do
      for _, id in ipairs(components_of(p)) do
        if id == rec.ImageComponentId then
          raise("InvalidImageComponent.InUse", "The component is used by the image pipeline " .. p.ImagePipelineId .. ".")
        end
      end
    end
    engine.commit(a)
    engine.remove(emu, ctx, rec)
    return {}
  end,
}

component = {
  name = "image_component", product = "ecs", id = "ImageComponentId", prefix = "ic", scope = "region", name_field = "Name",
  not_found = "InvalidImageComponent.NotFound",
  fields = {},
  roundtrip = {
    create = { "CreateImageComponent", function(fx) return { RegionId = fx.region, Content = "RUN echo hello" } end },
    describe = { "DescribeImageComponents", function(fx, id)
      return { RegionId = fx.region, ImageComponentId = id and { id } or nil }
    end },
    delete = { "DeleteImageComponent", function(fx, id) return { RegionId = fx.region, ImageComponentId = id } end },
    not_found = "InvalidImageComponent.NotFound",
  },
  actions = component_actions,
}

-- Pipelines ------------------------------------------------------------------------------------

-- The image a base names, visible to the account in the region and Available, or nil.
local function base_image(ctx, region, kind, base)
  local found
  for _, img in ipairs(engine.list(ctx, "image", function(i)
    return i.Status == "Available" and (i.ImageOwnerAlias == "system" or i.RegionId == region)
  end)) do
    if (kind == "IMAGE" and img.ImageId == base) or (kind == "IMAGE_FAMILY" and img.ImageFamily == base) then
      -- the newest image of a family
      if not found or img.CreationTime >= found.CreationTime then found = img end
    end
  end
  return found
end

-- BaseImageType and BaseImage, or those of the FROM line of the build content, which wins.
local function base_of(p)
  for _, line in ipairs(commands(p.BuildContent, "InvalidParameter.BuildContent", "BuildContent")) do
    local kind, base = line:match("^[Ff][Rr][Oo][Mm]%s+([%w_]+):(%S+)")
    if kind then return kind, base end
  end
  return p.BaseImageType, p.BaseImage
end

local pipeline_actions = {}

pipeline_actions.CreateImagePipeline = {
  op = "custom",
  honours = { "BaseImageType", "BaseImage", "Name", "Description", "ImageName", "ImageFamily", "VSwitchId", "InstanceType",
    "SystemDiskSize", "InternetMaxBandwidthOut", "DeleteInstanceOnFailure", "BuildContent", "TestContent", "AddAccount",
    "ToRegionId", "NvmeSupport", "Tag", "ResourceGroupId" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local kind = a:need("BaseImageType")
    if kind ~= "IMAGE" and kind ~= "IMAGE_FAMILY" then
      raise("UnsupportedParameter.NotEmulated", "BaseImageType \"" .. kind .. "\" is not emulated: the emulator builds "
        .. "from IMAGE or IMAGE_FAMILY.")
    end
    local rec = engine.record(emu, ctx, pipeline, { RegionId = region, BaseImageType = kind, BaseImage = a:str("BaseImage") or "",
      Description = check_description(a) or "", ImageName = check_text(a, "ImageName", "InvalidImageName.Malformed") or "",
      ImageFamily = check_text(a, "ImageFamily") or "", BuildContent = a:str("BuildContent") or "",
      TestContent = a:str("TestContent") or "", InstanceType = a:str("InstanceType") or "",
      SystemDiskSize = a:int("SystemDiskSize", 40, 20, 500), InternetMaxBandwidthOut = a:int("InternetMaxBandwidthOut", 0, 0, 100),
      DeleteInstanceOnFailure = a:bool("DeleteInstanceOnFailure", true),
      NvmeSupport = a:enum("NvmeSupport", { "auto", "supported", "unsupported" }, "auto"), VSwitchId = a:str("VSwitchId") or "",
      AddAccounts = a:list("AddAccount"), ToRegionIds = a:list("ToRegionId"),
      ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group })
    local name = check_text(a, "Name")
    commands(rec.TestContent, "InvalidParameter", "TestContent")
    local base_kind, base = base_of(rec)
    if not base or base == "" or not base_image(ctx, region, base_kind, base) then
      raise("InvalidImage.NotFound", "The specified BaseImage \"" .. tostring(base) .. "\" does not exist.")
    end
    if rec.InstanceType ~= "" then
      local ok = false
      for _, t in ipairs(fixtures.INSTANCE_TYPES) do ok = ok or t.id == rec.InstanceType end
      if not ok then raise("InvalidInstanceType.NotFound") end
    end
    if rec.VSwitchId ~= "" then engine.find(ctx, "vswitch", rec.VSwitchId, region) end
    if #rec.AddAccounts > 20 or #rec.ToRegionIds > 20 then
      errors.invalid(#rec.AddAccounts > 20 and "AddAccount" or "ToRegionId", nil, nil, "At most 20.")
    end
    for _, r in ipairs(rec.ToRegionIds) do
      if not emu.regions:get(r) then raise("InvalidRegionId.NotFound") end
    end
    for _, acc in ipairs(rec.AddAccounts) do
      local known = false
      for id in pairs(emu.keys) do known = known or emu:account_of(id) == acc end
      if not known or acc == ctx.world.account then raise("InvalidAccount.NotFound") end
    end
    rec.Tags = engine.tags(a)
    engine.commit(a)
    rec.Name = name or rec.ImagePipelineId
    engine.store(ctx, rec)
    return { ImagePipelineId = rec.ImagePipelineId }
  end,
}

pipeline_actions.DescribeImagePipelines = {
  op = "describe", page_max = 500, page_size = 50,
  ids = { ImagePipelineId = "ImagePipelineId" },
  filters = { Name = "Name" },
}

pipeline_actions.DeleteImagePipeline = {
  op = "custom", honours = { "ImagePipelineId" },
  handler = function(emu, a, ctx)
    local p = engine.find(ctx, "image_pipeline", a:need("ImagePipelineId"), engine.region(emu, a))
    refuse_running(ctx, p)
    engine.commit(a)
    engine.remove(emu, ctx, p)
    return {}
  end,
}

pipeline = {
  name = "image_pipeline", product = "ecs", id = "ImagePipelineId", prefix = "ip", scope = "region", name_field = "Name",
  not_found = "InvalidImagePipeline.NotFound",
  fields = {},
  -- its executions go with it
  on_delete = function(emu, ctx, rec)
    for _, e in ipairs(engine.list(ctx, "image_execution", function(e) return e.ImagePipelineId == rec.ImagePipelineId end)) do
      engine.remove(emu, ctx, e)
    end
  end,
  roundtrip = {
    create = { "CreateImagePipeline", function(fx)
      return { RegionId = fx.region, BaseImageType = "IMAGE", BaseImage = fx.image, BuildContent = "RUN echo hello" }
    end },
    describe = { "DescribeImagePipelines", function(fx, id)
      return { RegionId = fx.region, ImagePipelineId = id and { id } or nil }
    end },
    delete = { "DeleteImagePipeline", function(fx, id) return { RegionId = fx.region, ImagePipelineId = id } end },
    not_found = "InvalidImagePipeline.NotFound",
  },
  actions = pipeline_actions,
}

-- Executions -----------------------------------------------------------------------------------

local function touch(emu, e, message)
  e.ModifiedTime = state.iso(emu:now())
  if message then e.Message = message end
end

local execution_actions = {}

execution_actions.StartImagePipelineExecution = {
  op = "custom", honours = { "ImagePipelineId", "Tag" },
  ignores = { TemplateTag = "deprecated: the service no longer reads it" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local p = engine.find(ctx, "image_pipeline", a:need("ImagePipelineId"), region)
    a:objects("TemplateTag", { "Key", "Value" })
    refuse_running(ctx, p)
    if not base_image(ctx, region, base_of(p)) then raise("InvalidImagePipeline.BaseImageNotFound") end
    for _, id in ipairs(components_of(p)) do
      local c = engine.get(ctx, "image_component", id)
      if not c or c.RegionId ~= region then
        raise("ImageComponent.NotFound", "The image component " .. id .. " is not found.")
      end
    end
    local tags = engine.tags(a)
    engine.commit(a)
    local e = engine.store(ctx, engine.record(emu, ctx, execution, { RegionId = region,
      ImagePipelineId = p.ImagePipelineId, Status = "BUILDING", ImageId = "", Message = "Building the image.",
      ErrorCode = "", ErrorInfo = "", Tags = tags, ResourceGroupId = p.ResourceGroupId }))
    touch(emu, e)
    engine.later(emu, ctx, e, emu.delays.image_build or 0, { Status = "DISTRIBUTING" }, "image_built")
    return { ExecutionId = e.ExecutionId }
  end,
}

-- The end of BUILDING: the image exists.
engine.hooks.image_built = function(emu, world, e)
  local ctx = { world = world }
  local p = engine.get(ctx, "image_pipeline", e.ImagePipelineId)
  local base = p and base_image(ctx, e.RegionId, base_of(p))
  if not base then
    e.Status, e.ErrorCode, e.ErrorInfo = "FAILED", "InvalidImagePipeline.BaseImageNotFound",
      "The BaseImage of the specified ImagePipeline is not found."
    touch(emu, e, "The build failed.")
    return
  end
  local images = engine.kinds.image
  local s = engine.kinds.snapshot.make(emu, ctx, { RegionId = e.RegionId, Size = p.SystemDiskSize, Type = "system" },
    { Status = "accomplished", SnapshotName = "image-builder-" .. e.ExecutionId })
  local prefix = p.ImageName ~= "" and p.ImageName or p.Name
  local features = p.NvmeSupport ~= "auto" and { NvmeSupport = p.NvmeSupport } or nil
  local img = images.make(emu, ctx, { RegionId = e.RegionId, ImageName = prefix .. "_" .. e.ExecutionId,
    Description = p.Description, ImageFamily = p.ImageFamily, OSName = base.OSName, OSType = base.OSType,
    Platform = base.Platform, Architecture = base.Architecture, Size = p.SystemDiskSize, Status = "Available",
    Features = features, mappings = { images.mapping { Device = "/dev/xvda", Size = p.SystemDiskSize,
      SnapshotId = s.SnapshotId, Type = "system" } }, ResourceGroupId = p.ResourceGroupId })
  e.ImageId = img.ImageId
  touch(emu, e, "Distributing the image.")
  engine.later(emu, ctx, e, emu.delays.image_distribute or 0, { Status = "RELEASING" }, "image_distributed")
end

-- The end of DISTRIBUTING: copies in the other regions, shared with the accounts.
engine.hooks.image_distributed = function(emu, world, e)
  local ctx = { world = world }
  local p = engine.get(ctx, "image_pipeline", e.ImagePipelineId)
  local images = engine.kinds.image
  local img = engine.get(ctx, "image", e.ImageId)
  if p and img then
    for _, r in ipairs(p.ToRegionIds or {}) do
      if r ~= img.RegionId then
        -- the copy's snapshot is in its own region
        local src = img.DiskDeviceMappings[1]
        local s = engine.kinds.snapshot.make(emu, ctx, { RegionId = r, Size = img.Size, Type = "system" },
          { Status = "accomplished", SnapshotName = "image-builder-" .. e.ExecutionId, SourceRegionId = img.RegionId,
            SourceSnapshotId = src.SnapshotId })
        local copy = images.make(emu, ctx, { RegionId = r, ImageName = img.ImageName, Description = img.Description,
          ImageFamily = img.ImageFamily, OSName = img.OSName, OSType = img.OSType, Platform = img.Platform,
          Architecture = img.Architecture, Size = img.Size, Status = "Available", Features = img.Features,
          mappings = { images.mapping { Device = "/dev/xvda", Size = img.Size, SnapshotId = s.SnapshotId, Type = "system" } },
          ResourceGroupId = img.ResourceGroupId })
        copy.IsCopied, copy._copy_of = true, { RegionId = img.RegionId, ImageId = img.ImageId }
      end
    end
    if #(p.AddAccounts or {}) > 0 then
      img._shared = {}
      for i, acc in ipairs(p.AddAccounts) do img._shared[i] = { account = acc, time = state.iso(emu:now()) } end
      images.sync_shares(emu, ctx, img)
    end
  end
  touch(emu, e, "Releasing the build resources.")
  engine.later(emu, ctx, e, emu.delays.image_release or 0, { Status = "SUCCESS" }, "image_released")
end

engine.hooks.image_released = function(emu, _, e)
  touch(emu, e, "The image is built.")
end

execution_actions.CancelImagePipelineExecution = {
  op = "custom", honours = { "ExecutionId" },
  ignores = { TemplateTag = "deprecated: the service no longer reads it" },
  handler = function(emu, a, ctx)
    local e = engine.find(ctx, "image_execution", a:need("ExecutionId"), engine.region(emu, a))
    a:objects("TemplateTag", { "Key", "Value" })
    if e.Status ~= "BUILDING" and e.Status ~= "DISTRIBUTING" and e.Status ~= "RELEASING" then
      raise("InvalidStatus.CancelFailed")
    end
    engine.commit(a)
    e.Status = "CANCELLING"
    touch(emu, e, "Cancelling.")
    -- the pending phase's end no longer applies
    engine.later(emu, ctx, e, emu.delays.image_release or 0, { Status = "CANCELLED" }, "image_released")
    return {}
  end,
}

execution_actions.DescribeImagePipelineExecutions = {
  op = "describe", page_max = 500, page_size = 50,
  filters = {
    ImagePipelineId = "ImagePipelineId", ExecutionId = "ExecutionId",
    Status = { field = "Status", match = function(rec, v)
      for s in v:gmatch("[^,]+") do
        if rec.Status == s then return true end
      end
      return false
    end },
  },
  prepare = function(_, a)
    if not a:has("ImagePipelineId") and not a:has("ExecutionId") then errors.missing("ImagePipelineId") end
    for s in (a:str("Status") or ""):gmatch("[^,]+") do
      if not EXEC_STATUSES[s] then errors.invalid("Status", nil, nil, "Valid values: BUILDING, DISTRIBUTING, RELEASING, "
        .. "SUCCESS, FAILED, CANCELLING, CANCELLED.") end
    end
  end,
}

execution = {
  name = "image_execution", product = "ecs", id = "ExecutionId", prefix = "exec", scope = "region",
  not_found = "InvalidImagePipelineExecution.NotFound",
  fields = {},
  actions = execution_actions,
}

return { component, pipeline, execution }
