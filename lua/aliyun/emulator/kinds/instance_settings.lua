-- The instance actions beyond making, running and releasing instances (kinds/instance.lua):
-- RAM roles, billing (charge type, renewal, auto-release, the subscription spec), the spec
-- and bandwidth, the private pool, deployment, maintenance, metadata options and the VPC
-- attributes. Codes come from each action's published error table.
--   RAM roles       the account's roles are emu.ram_roles (the emulator does not emulate RAM)
--   auto-release    a timer in its own slot: the instance is released when the clock passes it
--   type changes    Stopped, within the families the service lists as compatible
--   bandwidth       Running or Stopped; subscriptions downgrade at most three times
--   VPC attributes  Stopped, started once since its last network change; same zone
local cidr = require "aliyun.emulator.cidr"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local instance = require("aliyun.emulator.kinds.instance").module

local raise = errors.raise
local arr = json.array

-- Billing answers carry the order the service would open; the emulator opens none.
local function order_id(emu)
  return tostring(1000000000000000 + emu.ids:number(0, 99999999))
end

local BILLING = { AutoPay = "billing: the emulator charges nothing" }

-- Families an instance type may change to ("Instance families that support instance type
-- changes"), for the families the emulator offers.
local SEVENTH = { ["ecs.g7"] = true, ["ecs.c7"] = true, ["ecs.r7"] = true }
local COMPATIBLE = {
  ["ecs.g7"] = SEVENTH, ["ecs.c7"] = SEVENTH, ["ecs.r7"] = SEVENTH,
  ["ecs.t6"] = { ["ecs.t6"] = true, ["ecs.s6"] = true, ["ecs.g6"] = true, ["ecs.c6"] = true, ["ecs.r6"] = true,
    ["ecs.hfg6"] = true, ["ecs.hfc6"] = true, ["ecs.hfr6"] = true },
}

local function compatible(from, to)
  return (COMPATIBLE[from] or {})[to] == true
end

-- The instances of a list parameter, each of the region (code: what an unknown one gives).
local function instances_of(ctx, ids, region, code, status)
  local recs = {}
  for i, id in ipairs(ids) do
    local rec = engine.get(ctx, "instance", id)
    if not rec or rec.RegionId ~= region then
      raise(code or "InvalidInstanceId.NotFound", "The specified InstanceId \"" .. id .. "\" does not exist.", status)
    end
    recs[i] = instance.kept(rec)
  end
  return recs
end

-- An instance by id (the kind's not-found code unless another is given), with its settings.
local function find(ctx, id, region, code)
  return instance.kept(engine.find(ctx, "instance", id, region, code))
end

local function running_or_stopped(rec)
  return rec.Status == "Running" or rec.Status == "Stopped"
end

local actions = {}

---------------------------------------------------------------------------------------------
-- RAM roles

actions.DescribeInstanceRamRole = {
  op = "custom", honours = { "InstanceIds", "RamRoleName", "PageNumber", "PageSize" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local ids = a:strings("InstanceIds", "InvalidInstanceIds.Malformed")
    local role = a:str("RamRoleName")
    if #ids == 0 and not role then
      raise("InvalidParameter.AllEmpty", "Give InstanceIds or RamRoleName (or both).")
    end
    if #ids > 100 then raise("InvalidInstanceIds.Malformed", "At most 100 instance ids.") end
    local wanted = nil
    if #ids > 0 then
      wanted = {}
      for _, rec in ipairs(instances_of(ctx, ids, region)) do wanted[rec.InstanceId] = true end
    end
    local items = engine.list(ctx, "instance", function(rec)
      return rec.RegionId == region and (rec.RamRoleName or "") ~= "" and (not wanted or wanted[rec.InstanceId])
        and (not role or rec.RamRoleName == role)
    end)
    local page, body = engine.page(emu, a, ctx, items, { page_size = 10, page_max = 50 })
    local sets = arr {}
    for i, rec in ipairs(page) do sets[i] = { InstanceId = rec.InstanceId, RamRoleName = rec.RamRoleName } end
    body.InstanceRamRoleSets = { InstanceRamRoleSet = sets }
    body.RegionId = region
    return body
  end,
}

-- The role a call names, which the account must have.
local function role_of(emu, name)
  if not emu.ram_roles[name] then
    raise("InvalidRamRole.NotFound", "The specified RamRoleName \"" .. name .. "\" does not exist.")
  end
  return name
end

-- The instances of an Attach/DetachInstanceRamRole call: 1 to 100 of the region.
local function role_targets(emu, a, ctx)
  local region = engine.region(emu, a)
  local ids = a:strings("InstanceIds", "InvalidInstanceIds.Malformed")
  if #ids == 0 then errors.missing("InstanceIds") end
  if #ids > 100 then raise("InvalidInstanceIds.Malformed", "At most 100 instance ids.") end
  return instances_of(ctx, ids, region)
end

-- One instance's line in the results; the codes of a refused instance are not published,
-- so the emulator says what happened in its own words.
local function result(rec, code, message)
  return { InstanceId = rec.InstanceId, Success = code == nil, Code = code or "200", Message = message or "success" }
end

actions.AttachInstanceRamRole = {
  op = "custom", honours = { "InstanceIds", "RamRoleName", "Policy" },
  handler = function(emu, a, ctx)
    local role = role_of(emu, a:need("RamRoleName"))
    local policy = a:str("Policy")
    if policy then
      local ok, doc = pcall(json.decode, policy)
      if #policy > 1024 or not ok or type(doc) ~= "table" then
        raise("InvalidParameter", "The specified parameter \"Policy\" is not valid: a JSON policy document of 1 to "
          .. "1,024 characters.")
      end
    end
    local recs = role_targets(emu, a, ctx)
    engine.commit(a)
    local results, failed = arr {}, 0
    for i, rec in ipairs(recs) do
      if (rec.RamRoleName or "") ~= "" then
        failed = failed + 1
        results[i] = result(rec, "InvalidInstance.RamRoleAttached", "The instance already has the instance RAM role "
          .. rec.RamRoleName .. ".")
      else
        -- the policy narrows the role inside the instance; nothing the API shows
        rec.RamRoleName, rec._ram_policy = role, policy
        results[i] = result(rec)
      end
    end
    return { AttachInstanceRamRoleResults = { AttachInstanceRamRoleResult = results }, FailCount = failed,
      RamRoleName = role, TotalCount = #recs }
  end,
}

actions.DetachInstanceRamRole = {
  op = "custom", honours = { "InstanceIds", "RamRoleName" },
  handler = function(emu, a, ctx)
    local role = a:str("RamRoleName")
    if role then role_of(emu, role) end
    local recs = role_targets(emu, a, ctx)
    engine.commit(a)
    local results, failed = arr {}, 0
    for i, rec in ipairs(recs) do
      local had = rec.RamRoleName or ""
      if had == "" or (role and had ~= role) then
        failed = failed + 1
        results[i] = result(rec, "InvalidRamRole.NotAttached", had == "" and "The instance has no instance RAM role."
          or "The instance has the instance RAM role " .. had .. ", not " .. role .. ".")
      else
        rec.RamRoleName, rec._ram_policy = nil, nil
        results[i] = result(rec)
        results[i].InstanceRamRoleSets = { InstanceRamRoleSet = { { InstanceId = rec.InstanceId, RamRoleName = had } } }
      end
    end
    return { DetachInstanceRamRoleResults = { DetachInstanceRamRoleResult = results }, FailCount = failed,
      RamRoleName = role or "", TotalCount = #recs }
  end,
}

---------------------------------------------------------------------------------------------
-- Billing: the charge type, renewal and the auto-release time

-- The disks of an instance that follow its charge type: the system disk always, the data
-- disks when asked (to subscription) or when the instance goes back to pay-as-you-go.
local function charge_disks(ctx, rec, to, data_too)
  for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.InstanceId == rec.InstanceId end)) do
    if d.Type == "system" or to == "PostPaid" or data_too then d.DiskChargeType = to end
  end
end

actions.ModifyInstanceChargeType = {
  op = "custom", ignores = BILLING,
  honours = { "InstanceIds", "InstanceChargeType", "Period", "PeriodUnit", "IncludeDataDisks", "IsDetailFee" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local ids = a:strings("InstanceIds", "InvalidParameter.InstanceIds")
    if #ids > 20 then raise("InstancesIdQuotaExceed") end
    local to = a:enum("InstanceChargeType", { "PrePaid", "PostPaid" }, "PrePaid",
      "InvalidInstanceChargeType.ValueNotSupported")
    a:enum("PeriodUnit", { "Month" }, "Month", "InvalidPeriod.UnitMismatch")
    local period = a:int("Period", 1, nil, nil, "InvalidPeriod")
    if to == "PrePaid" and not instance.PERIODS[period] then raise("InvalidPeriod") end
    local data_too = a:bool("IncludeDataDisks", false)
    local detail = a:bool("IsDetailFee", false)
    local recs = instances_of(ctx, ids, region)
    for _, rec in ipairs(recs) do
      if not running_or_stopped(rec) then
        raise("InvalidStatus.ValueNotSupported", "The instance " .. rec.InstanceId .. " is " .. rec.Status
          .. ": its charge type changes while it is Running or Stopped.")
      end
      if rec.InstanceChargeType == to then
        raise("InvalidInstanceChargeType.ValueNotSupported", "The instance " .. rec.InstanceId .. " is already " .. to .. ".")
      end
      if to == "PrePaid" and rec.SpotStrategy ~= "NoSpot" then
        raise("InvalidInstanceChargeType.ValueNotSupported", "A preemptible instance cannot become a subscription.")
      end
      if to == "PrePaid" and rec.AutoReleaseTime ~= "" then raise("ReleaseTimeHaveBeenSet") end
    end
    engine.commit(a)
    local fees = arr {}
    for _, rec in ipairs(recs) do
      rec.InstanceChargeType = to
      if to == "PrePaid" then
        rec.ExpiredTime = state.iso_minute(emu:now() + period * 30 * 86400)
        rec._renewal = { status = "Normal", duration = 1, unit = "Month" }
      else
        rec.ExpiredTime = "2099-12-31T15:59Z"
        -- a refund's details, when asked: the emulator charged nothing
        if detail then fees[#fees + 1] = { InstanceId = rec.InstanceId, Fee = "0", Currency = "CNY" } end
      end
      charge_disks(ctx, rec, to, data_too)
    end
    return { OrderId = order_id(emu), FeeOfInstances = { FeeOfInstance = fees } }
  end,
}

-- Renewal periods: months 1, 2, 3, 6, 12; years 1, 2, 3 (ModifyInstanceAutoRenewAttribute).
local DURATIONS = { Month = { [1] = true, [2] = true, [3] = true, [6] = true, [12] = true },
  Year = { [1] = true, [2] = true, [3] = true } }
local UNITS = { month = "Month", year = "Year" }

-- The subscription instances of a renewal call's InstanceId (comma-separated, up to 100).
local function renewal_targets(ctx, a, region, required)
  local ids = a:strings("InstanceId")
  if #ids == 0 and required then raise("MissingParameter.InstanceId", "InstanceId should not be null.", 403) end
  if #ids > 100 then raise("InvalidParameter.ToManyInstanceIds") end
  local recs = instances_of(ctx, ids, region, "InvalidParameter.InvalidInstanceId", 403)
  for _, rec in ipairs(recs) do
    if rec.InstanceChargeType ~= "PrePaid" then raise("ChargeTypeViolation", "Pay-As-You-Go instances do not support "
      .. "this operation (" .. rec.InstanceId .. ").") end
  end
  return recs, #ids > 0
end

actions.DescribeInstanceAutoRenewAttribute = {
  op = "custom", honours = { "InstanceId", "RenewalStatus", "PageNumber", "PageSize" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local status = a:enum("RenewalStatus", { "AutoRenewal", "Normal", "NotRenewal" }, nil, "InvalidParameter.RenewalStatus")
    local recs, named = renewal_targets(ctx, a, region, false)
    if not named and not status then raise("InvalidParameter.RenewalStatusInstanceId") end
    if not named then
      recs = engine.list(ctx, "instance", function(r) return r.RegionId == region and r.InstanceChargeType == "PrePaid" end)
      for _, rec in ipairs(recs) do instance.kept(rec) end
    end
    local items = {}
    for _, rec in ipairs(recs) do
      if not status or rec._renewal.status == status then items[#items + 1] = rec end
    end
    local page, body = engine.page(emu, a, ctx, items, { page_size = 10, page_max = 100 })
    local out = arr {}
    for i, rec in ipairs(page) do
      local r = rec._renewal
      out[i] = { InstanceId = rec.InstanceId, AutoRenewEnabled = r.status == "AutoRenewal", Duration = r.duration,
        PeriodUnit = r.unit, RenewalStatus = r.status }
    end
    body.InstanceRenewAttributes = { InstanceRenewAttribute = out }
    return body
  end,
}

actions.ModifyInstanceAutoRenewAttribute = {
  op = "custom", honours = { "InstanceId", "Duration", "AutoRenew", "RenewalStatus", "PeriodUnit" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local unit_text = a:str("PeriodUnit")
    local unit = unit_text and UNITS[unit_text:lower()]
    if unit_text and not unit then raise("InvalidPeriodUnit.ValueNotSupported") end
    local duration = a:int("Duration", nil, nil, nil, "InvalidParameter.Duration", 403)
    if duration and not DURATIONS[unit or "Month"][duration] then
      raise("InvalidParameter.Duration", "The renewal Duration must be 1, 2, 3, 6 or 12 months, or 1 to 3 years.", 403)
    end
    local auto = a:bool("AutoRenew")
    local status = a:enum("RenewalStatus", { "AutoRenewal", "Normal", "NotRenewal" }, nil,
      "InvalidParameter.RenewalStatus", 403)
    -- RenewalStatus wins over AutoRenew
    if not status and auto ~= nil then status = auto and "AutoRenewal" or "Normal" end
    local recs = renewal_targets(ctx, a, region, true)
    engine.commit(a)
    for _, rec in ipairs(recs) do
      local r = rec._renewal
      if status then r.status = status end
      if duration then r.duration, r.unit = duration, unit or "Month" elseif unit then r.unit = unit end
    end
    return {}
  end,
}

actions.ModifyInstanceAutoReleaseTime = {
  op = "custom", honours = { "InstanceId", "AutoReleaseTime" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a, true)
    -- the published not-found code of this action
    local rec = find(ctx, a:need("InstanceId"), region, "NoSuchResource")
    local text = a:str("AutoReleaseTime")
    if rec.InstanceChargeType == "PrePaid" then raise("ChargeTypeViolation") end
    local at = text and instance.check_release_time(emu, text) or ""
    engine.commit(a)
    rec.AutoReleaseTime = at
    instance.schedule_release(emu, ctx, rec)
    return {}
  end,
}

---------------------------------------------------------------------------------------------
-- Private pool, deployment, maintenance, metadata options

actions.DescribeInstanceAttachmentAttributes = {
  op = "custom", honours = { "InstanceIds", "PageNumber", "PageSize" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local ids = a:strings("InstanceIds", "InvalidInstanceIds.Malformed")
    if #ids > 100 then raise("InvalidInstanceIds.Malformed", "At most 100 instance ids.") end
    local wanted = {}
    for _, id in ipairs(ids) do wanted[id] = true end
    local items = engine.list(ctx, "instance", function(r) return r.RegionId == region and wanted[r.InstanceId] end)
    local page, body = engine.page(emu, a, ctx, items, { page_size = 10, page_max = 100 })
    local out = arr {}
    for i, rec in ipairs(page) do
      instance.kept(rec)
      out[i] = { InstanceId = rec.InstanceId, PrivatePoolOptionsId = rec._pool.id,
        PrivatePoolOptionsMatchCriteria = rec._pool.match }
    end
    body.Instances = { Instance = out }
    return body
  end,
}

-- A private pool is made by an elasticity assurance or a capacity reservation; the
-- emulator has neither kind (yet), so a named pool does not exist.
local function private_pool(ctx, id)
  for _, k in ipairs { "elasticity_assurance", "capacity_reservation" } do
    if engine.kinds[k] and engine.get(ctx, k, id) then return id end
  end
  raise("Invalid.PrivatePoolOptions.Id", "The PrivatePool \"" .. id .. "\" does not exist.")
end

actions.ModifyInstanceAttachmentAttributes = {
  op = "custom", honours = { "InstanceId", "PrivatePoolOptions.MatchCriteria", "PrivatePoolOptions.Id" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local rec = find(ctx, a:need("InstanceId"), region)
    local match = a:enum("PrivatePoolOptions.MatchCriteria", { "Open", "Target", "None" }, nil, "InvalidParameter")
    local id = a:str("PrivatePoolOptions.Id")
    if match == "Target" and not id then raise("MissingParameter.PrivatePoolOptions.Id") end
    if match ~= "Target" and id then
      raise("InvalidParameter", "PrivatePoolOptions.Id must be empty unless PrivatePoolOptions.MatchCriteria is Target.")
    end
    if id then private_pool(ctx, id) end
    engine.commit(a)
    rec._pool = { match = match, id = id or "" }
    return {}
  end,
}

actions.ModifyInstanceDeployment = {
  op = "custom",
  honours = { "InstanceId", "DeploymentSetId", "DeploymentSetGroupNo", "RemoveFromDeploymentSet", "Force",
    "DedicatedHostId", "DedicatedHostClusterId" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local rec = find(ctx, a:need("InstanceId"), region)
    local force = a:bool("Force", false)
    local remove = a:bool("RemoveFromDeploymentSet", false)
    local set_id = a:str("DeploymentSetId")
    local group = a:int("DeploymentSetGroupNo", nil, 1, 7, "InvalidParameter.DeploymentSetGroupNo")
    -- the emulator has no dedicated hosts: any named one does not exist
    local host, cluster = a:str("DedicatedHostId"), a:str("DedicatedHostClusterId")
    if host then raise("InvalidDedicatedHostId.NotFound") end
    if cluster then raise("InvalidDedicatedHostClusterId.NotFound") end
    if not set_id and not remove then
      raise("MissingParameter", "The input parameter \"DeploymentSetId\" that is mandatory for processing this "
        .. "request is not supplied (or RemoveFromDeploymentSet=true).")
    end
    if set_id and remove then
      raise("InvalidParameter", "DeploymentSetId and RemoveFromDeploymentSet=true exclude each other.")
    end
    if group and not set_id then raise("InvalidParameter.DeploymentSetGroupNo") end
    if set_id and not (engine.kinds.deployment_set and engine.get(ctx, "deployment_set", set_id)) then
      raise("DeploymentSet.NotFound", "The specified deployment set \"" .. set_id .. "\" does not exist.")
    end
    -- moving between hosts: Stopped, or Running with Force
    if not (rec.Status == "Stopped" or force and rec.Status == "Running") then
      raise("IncorrectInstanceStatus", "The instance is " .. rec.Status .. ": stop it, or pass Force=true while it "
        .. "is Running.")
    end
    engine.commit(a)
    rec.DeploymentSetId = set_id or ""
    rec.DeploymentSetGroupNo = group
    return {}
  end,
}

local ACTIONS_ON_MAINTENANCE = { "Stop", "AutoRecover", "AutoRedeploy" }

actions.DescribeInstanceMaintenanceAttributes = {
  op = "custom", honours = { "InstanceId", "PageNumber", "PageSize" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local ids = a:list("InstanceId")
    if #ids > 100 then raise("InvalidParameter", "At most 100 instance ids.", 403) end
    local wanted = nil
    if #ids > 0 then
      wanted = {}
      for _, id in ipairs(ids) do wanted[id] = true end
    end
    local items = engine.list(ctx, "instance", function(r)
      return r.RegionId == region and (not wanted or wanted[r.InstanceId])
    end)
    local page, body = engine.page(emu, a, ctx, items, { page_size = 10, page_max = 100 })
    local out = arr {}
    for i, rec in ipairs(page) do
      local m = instance.kept(rec)._maintenance
      local windows = arr {}
      for k, w in ipairs(m.windows) do windows[k] = { StartTime = w.StartTime, EndTime = w.EndTime } end
      out[i] = { InstanceId = rec.InstanceId, NotifyOnMaintenance = m.notify,
        ActionOnMaintenance = { Value = m.action, DefaultValue = "AutoRecover",
          SupportedValues = { SupportedValue = arr { "Stop", "AutoRecover", "AutoRedeploy" } } },
        MaintenanceWindows = { MaintenanceWindow = windows } }
    end
    body.MaintenanceAttributes = { MaintenanceAttribute = out }
    return body
  end,
}

-- "HH:00:00" -> the hour, or nil.
local function hour_of(text)
  local h = text and text:match("^(%d%d):00:00$")
  h = tonumber(h)
  return h and h < 24 and h or nil
end

actions.ModifyInstanceMaintenanceAttributes = {
  op = "custom", honours = { "InstanceId", "MaintenanceWindow", "ActionOnMaintenance", "NotifyOnMaintenance" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local ids = a:list("InstanceId")
    if #ids == 0 then errors.missing("InstanceId.1") end
    if #ids > 100 then raise("InvalidParameter", "At most 100 instance ids.", 403) end
    local recs = instances_of(ctx, ids, region)
    local windows = a:objects("MaintenanceWindow", { "StartTime", "EndTime" })
    if #windows > 1 then raise("InvalidParameter", "One maintenance window (MaintenanceWindow.1) at most.", 403) end
    for _, w in ipairs(windows) do
      local s, e = hour_of(w.StartTime), hour_of(w.EndTime)
      local span = s and e and (e - s) % 24
      if not span or span < 1 then
        raise("InvalidParameter", "MaintenanceWindow.1.StartTime and EndTime must both be on the hour (HH:00:00), "
          .. "the end 1 to 23 hours after the start.", 403)
      end
    end
    local action = a:enum("ActionOnMaintenance", ACTIONS_ON_MAINTENANCE, nil, "InvalidParameter", 403)
    local notify = a:bool("NotifyOnMaintenance")
    engine.commit(a)
    for _, rec in ipairs(recs) do
      local m = rec._maintenance
      if #windows > 0 then m.windows = { { StartTime = windows[1].StartTime, EndTime = windows[1].EndTime } } end
      if action then m.action = action end
      if notify ~= nil then m.notify = notify end
    end
    return {}
  end,
}

actions.ModifyInstanceMetadataOptions = {
  op = "custom", honours = { "InstanceId", "HttpEndpoint", "HttpTokens", "HttpPutResponseHopLimit", "InstanceMetadataTags" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    -- the emulator keeps metadata options per instance only (no region-wide default)
    local rec = find(ctx, a:need("InstanceId"), region)
    local endpoint = a:enum("HttpEndpoint", { "enabled", "disabled" }, nil, "InvalidHttpEndpoint.NotSupported")
    local tokens = a:enum("HttpTokens", { "optional", "required" }, nil, "InvalidHttpTokens.NotSupported")
    local hops = a:int("HttpPutResponseHopLimit", nil, 1, 64, "InvalidHttpPutResponseHopLimit.NotSupported")
    local tags = a:enum("InstanceMetadataTags", { "enabled", "disabled" }, nil, "InvalidParameter")
    engine.commit(a)
    local m = rec.MetadataOptions
    m.HttpEndpoint = endpoint or m.HttpEndpoint
    m.HttpTokens = tokens or m.HttpTokens
    m.HttpPutResponseHopLimit = hops or m.HttpPutResponseHopLimit
    m.InstanceMetadataTags = tags or m.InstanceMetadataTags
    return {}
  end,
}

---------------------------------------------------------------------------------------------
-- The spec: instance type and bandwidth

-- The system disk category these actions take applies only to retired, non I/O optimized
-- types; every type the emulator offers is I/O optimized, so it is checked and changes nothing.
local function system_category(a)
  a:enum("SystemDisk.Category", { "cloud_efficiency", "cloud_ssd" }, nil, "InvalidParam.SystemDiskCategory")
end

actions.ModifyInstanceSpec = {
  op = "custom",
  honours = { "InstanceId", "InstanceType", "InternetMaxBandwidthOut", "InternetMaxBandwidthIn", "SystemDisk.Category" },
  ignores = {
    Async = "the emulator completes the change before it answers",
    AllowMigrateAcrossZone = "every type the emulator offers is available in every zone",
  },
  handler = function(_, a, ctx)
    local rec = find(ctx, a:need("InstanceId"))
    local type_id = a:str("InstanceType")
    local out = a:int("InternetMaxBandwidthOut", nil, nil, nil, "InvalidParameter")
    local inn = a:int("InternetMaxBandwidthIn", nil, nil, nil, "InvalidParameter.Bandwidth")
    a:bool("Async", false)
    a:bool("AllowMigrateAcrossZone", false)
    system_category(a)
    if rec.InstanceChargeType == "PrePaid" then
      raise("ChargeTypeViolation", "A subscription instance changes its type with ModifyPrepayInstanceSpec and its "
        .. "bandwidth with ModifyInstanceNetworkSpec.")
    end
    local bandwidth = out ~= nil or inn ~= nil
    if type_id and bandwidth then raise("InvalidParameter.Mismatch", "Too many parameters in one request.", 400) end
    local t
    if type_id then
      t = instance.type_of(type_id)
      if not t then raise("InvalidInstanceType.ValueNotSupported") end
      if rec.Status ~= "Stopped" then raise("InvalidInstanceStatus.NotStopped") end
      if t.id == rec.InstanceType or not compatible(rec.InstanceTypeFamily, t.family) then
        raise("DependencyViolation.InstanceType", "The current InstanceType " .. rec.InstanceType
          .. " cannot be changed to " .. t.id .. ".")
      end
    elseif bandwidth then
      if not running_or_stopped(rec) then raise("InvalidStatus.ValueNotSupported", nil, 403) end
      out = out or rec.InternetMaxBandwidthOut
      if out < 0 or out > 100 then
        raise("InvalidParameter", "The specified parameter \"InternetMaxBandwidthOut\" is not valid.")
      end
      if inn and (inn < 1 or inn > math.max(10, out)) then raise("InvalidParameter.Bandwidth") end
    else
      raise("MissingParameter", "Give InstanceType, or InternetMaxBandwidthOut and/or InternetMaxBandwidthIn.")
    end
    engine.commit(a)
    if t then
      instance.set_type(rec, t)
    else
      rec.InternetMaxBandwidthOut = out
      rec.InternetMaxBandwidthIn = inn or math.min(rec.InternetMaxBandwidthIn, math.max(10, out))
    end
    return {}
  end,
}

-- Whether a type has less of anything than another (a downgrade).
local function smaller(t, than)
  return t.cpu < than.cpu or t.memory < than.memory
end

actions.ModifyPrepayInstanceSpec = {
  op = "custom",
  honours = { "InstanceId", "InstanceType", "OperatorType", "SystemDisk.Category", "RebootWhenFinished", "RebootTime" },
  ignores = {
    AutoPay = "billing: the emulator charges nothing",
    MigrateAcrossZone = "every type the emulator offers is available in every zone",
  },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local rec = find(ctx, a:need("InstanceId"), region)
    local t = instance.type_of(a:need("InstanceType"))
    if not t then raise("InvalidInstanceType.ValueNotSupported") end
    local operator = a:enum("OperatorType", { "upgrade", "downgrade" }, "upgrade", "InvalidParameter")
    a:bool("MigrateAcrossZone", false)
    system_category(a)
    local reboot = a:bool("RebootWhenFinished", false)
    local reboot_text = a:str("RebootTime")
    local reboot_at = reboot_text and instance.release_time(reboot_text)
    if reboot_text and not reboot_at then raise("InvalidRebootTime.MalFormed") end
    if reboot_at and reboot_at <= emu:now() then raise("InvalidRebootTime.ValueNotSupported") end
    if rec.InstanceChargeType ~= "PrePaid" then
      raise("InvalidInstanceChargeType.ValueNotSupported", "A pay-as-you-go instance changes its type with "
        .. "ModifyInstanceSpec.")
    end
    local current = instance.type_of(rec.InstanceType)
    if t.id == current.id or not compatible(current.family, t.family) then
      raise("InvalidInstanceType.ValueNotSupported", "The instance type " .. current.id .. " cannot be changed to "
        .. t.id .. ".")
    end
    local down = smaller(t, current)
    if down ~= (operator == "downgrade") then
      raise("InvalidParameter", down and ("A change to " .. t.id .. " is a downgrade: pass OperatorType=downgrade.")
        or ("A change to " .. t.id .. " is an upgrade: OperatorType=downgrade does not apply."))
    end
    if down then
      if rec.Status ~= "Stopped" then raise("InvalidStatus.NotStopped") end
      if rec._downgrades >= 3 then raise("InstanceDowngrade.QuotaExceed") end
    elseif not running_or_stopped(rec) then
      raise("IncorrectInstanceStatus")
    end
    engine.commit(a)
    instance.set_type(rec, t)
    if down then rec._downgrades = rec._downgrades + 1 end
    -- the new type takes effect at the next start; a Running instance restarts when asked
    if reboot and rec.Status == "Running" then instance.reboot(emu, ctx, rec) end
    if reboot_at then engine.at(emu, ctx, rec, reboot_at, nil, "instance_timed_reboot", "reboot") end
    return { OrderId = order_id(emu) }
  end,
}

actions.ModifyInstanceNetworkSpec = {
  op = "custom", ignores = BILLING,
  honours = { "InstanceId", "InternetMaxBandwidthOut", "InternetMaxBandwidthIn", "NetworkChargeType", "AllocatePublicIp" },
  handler = function(emu, a, ctx)
    local rec = find(ctx, a:need("InstanceId"))
    local out = a:int("InternetMaxBandwidthOut", nil, 0, 100, "InvalidInternetMaxBandwidthOut.ValueNotSupported")
    local charge = a:enum("NetworkChargeType", { "PayByBandwidth", "PayByTraffic" }, nil,
      "InvalidInternetChargeType.ValueNotSupported")
    local allocate = a:bool("AllocatePublicIp", false)
    local old = rec.InternetMaxBandwidthOut
    local new = out or old
    local inn = a:int("InternetMaxBandwidthIn", nil, 1, math.max(10, new), "InvalidInternetMaxBandwidthIn.ValueNotSupported")
    if out == nil and inn == nil and charge == nil and not allocate then
      raise("MissingParameter", "Give InternetMaxBandwidthOut, InternetMaxBandwidthIn, NetworkChargeType or "
        .. "AllocatePublicIp.")
    end
    if not running_or_stopped(rec) then raise("IncorrectInstanceStatus") end
    local prepaid = rec.InstanceChargeType == "PrePaid"
    local down = new < old
    if prepaid then
      if rec.InternetChargeType == "PayByBandwidth" and charge == "PayByTraffic" then
        raise("OperationDenied", "The operation is denied due to the instance is PrePaid.")
      end
      if down and (charge or rec.InternetChargeType) == "PayByBandwidth" then
        raise("DecreasedBandwidthNotAllowed", "A subscription paying by bandwidth can only raise its bandwidth.")
      end
      if down and rec._downgrades >= 3 then raise("InstanceDowngrade.QuotaExceed") end
    end
    if allocate and rec.PublicIpAddress then
      raise("InvalidParam.AllocatePublicIp", "The instance already has a public IP address.")
    end
    if allocate and new == 0 then
      raise("InvalidParam.AllocatePublicIp", "A public IP address needs outbound bandwidth above 0.")
    end
    engine.commit(a)
    rec.InternetMaxBandwidthOut = new
    rec.InternetMaxBandwidthIn = inn or math.min(rec.InternetMaxBandwidthIn, math.max(10, new))
    rec.InternetChargeType = charge or rec.InternetChargeType
    if prepaid and down then rec._downgrades = rec._downgrades + 1 end
    -- a subscription raised from 0 gets an address; pay-as-you-go only when asked
    if not rec.PublicIpAddress and new > 0 and (allocate or prepaid and old == 0) then
      rec.PublicIpAddress = instance.public_ip(emu)
    end
    return { OrderId = order_id(emu) }
  end,
}

---------------------------------------------------------------------------------------------
-- VPC attributes: vSwitch, private address, VPC and security groups

actions.ModifyInstanceVpcAttribute = {
  op = "custom", honours = { "InstanceId", "VSwitchId", "PrivateIpAddress", "VpcId", "SecurityGroupId" },
  handler = function(_, a, ctx)
    local rec = find(ctx, a:need("InstanceId"))
    local vsw = engine.find(ctx, "vswitch", a:need("VSwitchId"), rec.RegionId)
    local wanted_ip = a:str("PrivateIpAddress")
    local vpc_id = a:str("VpcId")
    local groups = a:list("SecurityGroupId")
    if rec.Status ~= "Stopped" then
      raise("IncorrectInstanceStatus", "The instance is " .. rec.Status .. ": its VPC attributes change while it is "
        .. "Stopped.", 400)
    end
    if rec._net_pending then
      raise("InvalidPrivateIp.Changing", "Previous action is not finished yet: start the instance once after it is "
        .. "created or after its network changed, then stop it and try again.")
    end
    if vsw.Status ~= "Available" then raise("IncorrectVSwitchStatus") end
    local target = vpc_id or rec.VpcId
    if vpc_id then engine.find(ctx, "vpc", vpc_id, rec.RegionId) end
    if vsw.VpcId ~= target then
      raise("InvalidVSwitchId.NotFound", "Specified virtual switch is not found in current VPC.")
    end
    if vsw.ZoneId ~= rec.ZoneId then raise("InvalidVSwitchId.Mismatch") end
    local moving = target ~= rec.VpcId
    local primary = engine.get(ctx, "eni", rec.NetworkInterfaceId)
    if moving then
      if #groups == 0 then errors.missing("SecurityGroupId.1") end
      local others = engine.list(ctx, "eni", function(e) return e.InstanceId == rec.InstanceId and e.Type ~= "Primary" end)
      if #others > 0 then
        raise("OperationDenied", "An instance with a secondary network interface cannot change its VPC.")
      end
      if primary and (#(primary.SecondaryIps or {}) > 0 or #(primary.Ipv6Addresses or {}) > 0) then
        raise("OperationDenied", "An instance whose primary network interface has secondary private or IPv6 "
          .. "addresses cannot change its VPC.")
      end
    end
    if #groups > 5 then raise("InvalidParameter", "An instance can be in at most 5 security groups.") end
    local seen = {}
    for _, g in ipairs(groups) do
      if seen[g] then raise("InvalidParameter", "The security group " .. g .. " is given twice.") end
      seen[g] = true
      local sg = engine.find(ctx, "security_group", g, rec.RegionId)
      if sg.VpcId ~= target then
        raise("OperationDenied", "The security group " .. g .. " is not in the VPC " .. target .. ".")
      end
    end
    local same_vsw = vsw.VSwitchId == rec.VSwitchId
    local ip = rec.PrivateIpAddress
    if wanted_ip then
      if same_vsw and wanted_ip == rec.PrivateIpAddress then
        raise("InvalidPrivateIpAddress.Duplicated", "error new ip is the same with old ip")
      end
      if not cidr.ip(wanted_ip) then raise("InvalidPrivateIpAddress.Malformed") end
      ip = instance.private_ip(ctx, vsw, wanted_ip, { outside = "InvalidPrivateIpAddress.Mismatch" })
    elseif not same_vsw then
      ip = instance.private_ip(ctx, vsw)
    end
    engine.commit(a)
    local changed = ip ~= rec.PrivateIpAddress or not same_vsw
    rec.VpcId, rec.VSwitchId, rec.PrivateIpAddress = target, vsw.VSwitchId, ip
    if #groups > 0 then rec.SecurityGroupIds = groups end
    if primary then
      primary.VpcId, primary.VSwitchId, primary.PrimaryIpAddress = target, vsw.VSwitchId, ip
      primary.SecurityGroupIds = rec.SecurityGroupIds
    end
    -- the next change waits for a start
    if changed then rec._net_pending = true end
    return {}
  end,
}

-- a list: the file extends the instance kind rather than declaring one
return { { extends = "instance", actions = actions } }
