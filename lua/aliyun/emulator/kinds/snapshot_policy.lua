-- Automatic snapshot policies. A policy applied to disks (ApplyAutoSnapshotPolicy) shows on
-- them (AutoSnapshotPolicyId, EnableAutomatedSnapshotPolicy) and makes their automatic
-- snapshots on the emulator's clock: at each of its TimePoints (hours, UTC+8 as the service
-- reads them) on each of its RepeatWeekdays (1 Monday .. 7 Sunday), one snapshot per disk
-- (named auto_<yyyymmdd>_<n>, SnapshotType auto), kept RetentionDays days (-1: kept until
-- deleted), copied to TargetCopyRegions when EnableCrossRegionCopy is on. As the service
-- does, a firing skips a disk whose snapshot is still in progress, whose instance is
-- starting or stopping, or which has never been attached. When the clock jumps, the firings
-- it jumped over happen with their own times.
--
-- The policy actions take their parameters in lower camel case (regionId, diskIds) and answer
-- every bad parameter with ParameterInvalid, the message naming it (404 for a policy that
-- does not exist), as the service's pages give them.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise
local floor = math.floor

local UTC8 = 8 * 3600

local policy

local function invalid(what, status)
  raise("ParameterInvalid", "The specified " .. what .. " parameter is invalid.", status)
end

local function missing_policy(message)
  raise("ParameterInvalid", message or "The specified automatic snapshot policy does not exist.", 404)
end

local function region_of(emu, a)
  local r = a:need("regionId")
  if not emu.regions:get(r) then invalid("RegionId") end
  return r
end

-- A JSON array (or comma list) of integers lo..hi, each once, at most `max`; nil when absent.
local function numbers(a, param, what, lo, hi, max)
  if not a:has(param) then return nil end
  local list, seen = {}, {}
  for _, v in ipairs(a:strings(param, "ParameterInvalid", 403)) do
    local n = tostring(v):match("^%s*(%d+)%s*$")
    n = n and tonumber(n)
    if not n or n < lo or n > hi or seen[n] then invalid(what) end
    seen[n] = true
    list[#list + 1] = n
  end
  if #list == 0 or #list > max then invalid(what) end
  table.sort(list)
  return list
end

local function json_strings(list)
  local parts = {}
  for i, v in ipairs(list) do parts[i] = '"' .. tostring(v) .. '"' end
  return "[" .. table.concat(parts, ",") .. "]"
end

local function retention(a, param, what)
  local v = a:str(param)
  if v == nil then return nil end
  local n = v:match("^%-?%d+$") and tonumber(v)
  if not n or (n ~= -1 and (n < 1 or n > 65536)) then invalid(what) end
  return n
end

-- Reads the settings a create or modify call carries into rec (only those present).
local function read_settings(emu, a, rec, region)
  local name = a:str("autoSnapshotPolicyName")
  if name then
    if not engine.CHECKS.name(name) then invalid("AutoSnapshotPolicyName") end
    rec.AutoSnapshotPolicyName = name
  end
  local hours = numbers(a, "timePoints", "TimePoints", 0, 23, 24)
  if hours then rec._hours, rec.TimePoints = hours, json_strings(hours) end
  local days = numbers(a, "repeatWeekdays", "RepeatWeekDays", 1, 7, 7)
  if days then rec._days, rec.RepeatWeekdays = days, json_strings(days) end
  local keep = retention(a, "retentionDays", "RetentionDays")
  if keep then rec.RetentionDays = keep end
  local copy = a:bool("EnableCrossRegionCopy")
  if copy ~= nil then rec.EnableCrossRegionCopy = copy end
  if a:has("TargetCopyRegions") then
    local targets = a:strings("TargetCopyRegions", "ParameterInvalid", 403)
    -- the service copies to one region
    if #targets > 1 then invalid("TargetCopyRegions") end
    for _, t in ipairs(targets) do
      if not emu.regions:get(t) or t == region then invalid("TargetCopyRegions") end
    end
    rec._targets, rec.TargetCopyRegions = targets, json_strings(targets)
  end
  local copied = retention(a, "CopiedSnapshotsRetentionDays", "CopiedSnapshotsRetentionDays")
  if copied then rec.CopiedSnapshotsRetentionDays = copied end
  if rec.EnableCrossRegionCopy and #(rec._targets or {}) == 0 then invalid("TargetCopyRegions") end
end

-- The first firing strictly after t (epoch seconds), or nil when the policy has no time.
local function next_firing(p, t)
  local days = {}
  for _, d in ipairs(p._days or {}) do days[d] = true end
  local day = floor((t + UTC8) / 86400)
  for dd = day, day + 8 do
    if days[(dd + 3) % 7 + 1] then -- 1970-01-01 was a Thursday (4)
      for _, h in ipairs(p._hours or {}) do
        local at = dd * 86400 + h * 3600 - UTC8
        if at > t then return at end
      end
    end
  end
  return nil
end

local function schedule(emu, ctx, p, after)
  local at = next_firing(p, after)
  if at then engine.at(emu, ctx, p, math.max(at, engine.now(emu) + 0.001), {}, "snapshot_policy_fire") end
end

-- Whether the policy may snapshot the disk now (the service skips the rest).
local function ready(ctx, d)
  if d.Status ~= "In_use" and d.Status ~= "Available" then return false end
  if d.InstanceId ~= "" then
    local inst = engine.get(ctx, "instance", d.InstanceId)
    if inst and inst.Status ~= "Running" and inst.Status ~= "Stopped" then return false end
  elseif not d._ever_attached then
    return false
  end
  return not engine.kinds.disk.creating_snapshot(ctx, d)
end

-- One firing at time t: a snapshot of each ready disk, and its copies.
local function fire(emu, ctx, p, t)
  local snapshot = engine.kinds.snapshot
  local date = os.date("!%Y%m%d", floor(t + UTC8))
  for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.AutoSnapshotPolicyId == p.AutoSnapshotPolicyId end)) do
    if ready(ctx, d) then
      local prefix = "auto_" .. date .. "_"
      local n = #engine.list(ctx, "snapshot", function(s)
        return s.SourceDiskId == d.DiskId and s.SnapshotName:sub(1, #prefix) == prefix
      end) + 1
      local keep = (p.RetentionDays or -1) > 0 and p.RetentionDays or nil
      local s = snapshot.make(emu, ctx, d, { SnapshotName = prefix .. n, SnapshotType = "auto", created = t,
        RetentionDays = keep, carry = { _policy = p.AutoSnapshotPolicyId } })
      if p.EnableCrossRegionCopy then
        for _, target in ipairs(p._targets or {}) do
          local copied = (p.CopiedSnapshotsRetentionDays or -1) > 0 and p.CopiedSnapshotsRetentionDays or nil
          snapshot.make(emu, ctx, { RegionId = target, DiskId = d.DiskId, Size = d.Size, Type = d.Type,
            Encrypted = d.Encrypted, KMSKeyId = d.KMSKeyId }, { SnapshotName = prefix .. n, SnapshotType = "auto",
            created = t, RetentionDays = copied, SourceRegionId = d.RegionId, SourceSnapshotId = s.SnapshotId })
        end
      end
    end
  end
end

-- One firing per timer, at the time it was due; the next one is a timer of its own, so that
-- when the clock jumps, the firings and the snapshots' completions and expiries between them
-- happen in the order of their times (engine.tick runs due timers in time order).
engine.hooks.snapshot_policy_fire = function(emu, world, p, e)
  local ctx = { world = world }
  local t = e and e.at or engine.now(emu)
  fire(emu, ctx, p, t)
  schedule(emu, ctx, p, t)
end

local function find(a, ctx, region)
  local id = a:need("autoSnapshotPolicyId")
  local p = engine.get(ctx, "auto_snapshot_policy", id)
  if not p then missing_policy() end
  if p.RegionId ~= region then missing_policy("The specified automatic snapshot policy does not exist in the region.") end
  return p
end

-- The disks a call names (diskIds: a JSON array), each in the region.
local function disks_of(a, ctx, region, code, status, message)
  local ids = a:strings("diskIds", "ParameterInvalid", 403)
  if #ids == 0 then invalid("DiskIds") end
  local out = {}
  for i, id in ipairs(ids) do
    local d = engine.get(ctx, "disk", id)
    if not d or d.RegionId ~= region then raise(code, message, status) end
    out[i] = d
  end
  return out
end

local function detach_policy(d)
  d.AutoSnapshotPolicyId, d.EnableAutomatedSnapshotPolicy = "", false
end

local actions = {}

actions.CreateAutoSnapshotPolicy = {
  op = "custom",
  honours = { "regionId", "autoSnapshotPolicyName", "timePoints", "repeatWeekdays", "retentionDays",
    "EnableCrossRegionCopy", "TargetCopyRegions", "CopiedSnapshotsRetentionDays", "Tag", "ResourceGroupId" },
  handler = function(emu, a, ctx)
    local region = region_of(emu, a)
    local rec = engine.record(emu, ctx, policy, { RegionId = region, AutoSnapshotPolicyName = "", Status = "Normal",
      Type = "Custom", EnableCrossRegionCopy = false, TargetCopyRegions = "", CopiedSnapshotsRetentionDays = -1,
      ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group })
    for _, p in ipairs({ "timePoints", "repeatWeekdays", "retentionDays" }) do a:need(p) end
    read_settings(emu, a, rec, region)
    rec.Tags = engine.tags(a)
    local n = #engine.list(ctx, "auto_snapshot_policy", function(p) return p.RegionId == region end)
    if n >= 100 then raise("AutoSnapshotPolicy.QuotaExceed") end
    engine.commit(a)
    engine.store(ctx, rec)
    schedule(emu, ctx, rec, emu:now())
    return { AutoSnapshotPolicyId = rec.AutoSnapshotPolicyId }
  end,
}

actions.DescribeAutoSnapshotPolicyEx = {
  op = "describe", page_max = 100,
  filters = { AutoSnapshotPolicyId = "AutoSnapshotPolicyId", AutoSnapshotPolicyName = "AutoSnapshotPolicyName" },
}

actions.ModifyAutoSnapshotPolicyEx = {
  op = "custom",
  honours = { "regionId", "autoSnapshotPolicyId", "autoSnapshotPolicyName", "timePoints", "repeatWeekdays",
    "retentionDays", "EnableCrossRegionCopy", "TargetCopyRegions", "CopiedSnapshotsRetentionDays" },
  handler = function(emu, a, ctx)
    local region = region_of(emu, a)
    local p = find(a, ctx, region)
    local copy = {}
    for k, v in pairs(p) do copy[k] = v end
    read_settings(emu, a, copy, region)
    engine.commit(a)
    for k, v in pairs(copy) do p[k] = v end
    schedule(emu, ctx, p, emu:now())
    return {}
  end,
}

actions.DeleteAutoSnapshotPolicy = {
  op = "custom", honours = { "regionId", "autoSnapshotPolicyId" },
  handler = function(emu, a, ctx)
    local p = find(a, ctx, region_of(emu, a))
    engine.commit(a)
    engine.remove(emu, ctx, p)
    return {}
  end,
}

actions.ApplyAutoSnapshotPolicy = {
  op = "custom", honours = { "regionId", "autoSnapshotPolicyId", "diskIds" },
  handler = function(emu, a, ctx)
    local region = region_of(emu, a)
    local p = find(a, ctx, region)
    local disks = disks_of(a, ctx, region, "ParameterInvalid", 403, "The specified DiskIds are invalid.")
    engine.commit(a)
    -- a disk has one policy: applying another replaces it
    for _, d in ipairs(disks) do
      d.AutoSnapshotPolicyId, d.EnableAutomatedSnapshotPolicy = p.AutoSnapshotPolicyId, true
    end
    return {}
  end,
}

actions.CancelAutoSnapshotPolicy = {
  op = "custom", honours = { "regionId", "autoSnapshotPolicyId", "diskIds" },
  handler = function(emu, a, ctx)
    local region = region_of(emu, a)
    local only = a:str("autoSnapshotPolicyId")
    if only then find(a, ctx, region) end
    local disks = disks_of(a, ctx, region, "InvalidDiskId.NotFound", 404, "The specified DiskIds are not found.")
    engine.commit(a)
    for _, d in ipairs(disks) do
      if not only or d.AutoSnapshotPolicyId == only then detach_policy(d) end
    end
    return {}
  end,
}

policy = {
  name = "auto_snapshot_policy", product = "ecs", id = "AutoSnapshotPolicyId", prefix = "sp", scope = "region",
  name_field = "AutoSnapshotPolicyName", tag_type = "snapshotpolicy", not_found = "ParameterInvalid",
  fields = {},
  view = function(_, rec, ctx)
    local n = #engine.list(ctx, "disk", function(d) return d.AutoSnapshotPolicyId == rec.AutoSnapshotPolicyId end)
    return { DiskNums = n, VolumeNums = 0 }
  end,
  -- deleting a policy takes it off its disks
  on_delete = function(_, ctx, rec)
    for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.AutoSnapshotPolicyId == rec.AutoSnapshotPolicyId end)) do
      detach_policy(d)
    end
  end,
  roundtrip = {
    create = { "CreateAutoSnapshotPolicy", function(fx)
      return { regionId = fx.region, timePoints = '["1"]', repeatWeekdays = '["1","4"]', retentionDays = 7 }
    end },
    describe = { "DescribeAutoSnapshotPolicyEx", function(fx, id)
      return { RegionId = fx.region, AutoSnapshotPolicyId = id }
    end },
    modify = { "ModifyAutoSnapshotPolicyEx", function(fx, id)
      return { regionId = fx.region, autoSnapshotPolicyId = id, autoSnapshotPolicyName = "renamed" }
    end, "AutoSnapshotPolicyName", "renamed" },
    delete = { "DeleteAutoSnapshotPolicy", function(fx, id)
      return { regionId = fx.region, autoSnapshotPolicyId = id }
    end },
    not_found = "ParameterInvalid",
  },
  actions = actions,
}

policy.next_firing = next_firing

return policy
