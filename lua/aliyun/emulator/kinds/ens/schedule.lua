-- ENS edge nodes and the four actions of the specification documents: RunServiceSchedule
-- with its two flows (containers: Start, Stop, Console; bare metal and VMs: PreSchedule,
-- Confirm, Cancel, Console, with locks that lapse after PreLockedTimeout seconds),
-- RescaleDeviceService, RescaleApplication and BatchEventRedeployInstance.
--
-- Records: ens_node (the fixture's edge nodes, the scope of every ENS kind), ens_pod (each
-- node's idle resources), ens_device (a device's scheduling, by AppId and Uuid), ens_app
-- (an application's resources), ens_device_service (devices RescaleDeviceService made) and
-- ens_event (the fixture's system events).
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"

local arr = json.array
local raise = errors.raise
local bad_field, refuse = common.bad_field, common.refuse

local function record_kind(name, id)
  return { name = name, product = "ens", id = id, scope = "global", actions = {} }
end

local node = record_kind("ens_node", "EnsRegionId")
local pod = record_kind("ens_pod", "InstanceId")
local device = record_kind("ens_device", "DeviceKey")
local app = record_kind("ens_app", "AppId")
local device_service = record_kind("ens_device_service", "DeviceId")
local event = record_kind("ens_event", "EventId")

-- The nodes and their idle pods, and the open system events.
function node.fixture(emu, ctx)
  local port = 1024
  for ni, n in ipairs(fixtures.ENS_NODES) do
    engine.store(ctx, engine.record(emu, ctx, node, { EnsRegionId = n.id, isp = n.isp }))
    for k = 1, n.idle do
      engine.store(ctx, engine.record(emu, ctx, pod, { InstanceId = emu.ids:resource("i", 25), node = n.id,
        index = k, ip = string.format("172.16.%d.%d", 240 + ni, 10 + k), port = port, state = "idle" }))
      port = port + 10
    end
  end
  for _, e in ipairs(fixtures.ENS_EVENTS) do
    engine.store(ctx, engine.record(emu, ctx, event, { EventId = e.id, resource = e.resource, type = e.type,
      status = "Inquiring" }))
  end
end

-- A pre-lock lapses: the pod goes back to the idle pool.
engine.hooks.ens_prelock_lapse = function(_, world, dev)
  local p = engine.coll(world, "ens_pod"):get(dev.pod)
  if p and p.device == dev.DeviceKey then p.state, p.device = "idle", nil end
end

local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, x in ipairs { a, b, c, d } do
    if tonumber(x) > 255 then return false end
  end
  return true
end

local SERVICE_ACTIONS = { "Start", "Stop", "Cancel", "PreSchedule", "Console", "Confirm" }

-- The nodes a ScheduleStrategy allows ({"selectLevel": "RegionId", "values": [...]}).
local function allowed_nodes(a)
  local strategy = a:json("ScheduleStrategy", "InvalidParameter.ScheduleStrategy")
  if strategy == nil then return nil end
  if type(strategy) ~= "table" or type(strategy.values) ~= "table" then bad_field("ScheduleStrategy") end
  local level = strategy.selectLevel or "RegionId"
  local set = {}
  for _, v in ipairs(strategy.values) do set[tostring(v)] = level end
  return set, level
end

local function pick_idle(a, ctx)
  local set, level = allowed_nodes(a)
  for _, r in ipairs(engine.list(ctx, "ens_pod")) do
    if r.state == "idle" then
      local n = engine.get(ctx, "ens_node", r.node)
      if not set or (level == "RegionId" and set[r.node]) or (level ~= "RegionId" and set[n.isp]) then
        return r
      end
    end
  end
  raise("ens.interface.error", "An error occurred while calling the API: no idle resource matches the request.", 400)
end

local function command_results(a)
  local cmds = a:json("ServiceCommands", "InvalidParameter.ServiceCommands")
  local out = arr {}
  if cmds == nil then return out end
  if type(cmds) ~= "table" then bad_field("ServiceCommands") end
  for _, group in ipairs(cmds) do
    if type(group) ~= "table" or type(group.commands) ~= "table" then bad_field("ServiceCommands") end
    for _, c in ipairs(group.commands) do
      out[#out + 1] = { Command = tostring(c), ContainerName = group.containerName or "", ResultMsg = "success" }
    end
  end
  return out
end

local function check_directories(a)
  local dirs = a:json("Directorys", "InvalidParameter.Directorys")
  if dirs == nil then return end
  if type(dirs) ~= "table" then bad_field("Directorys") end
  for _, d in ipairs(dirs) do
    if type(d) ~= "string" or d:sub(1, 1) ~= "/" or d:find("/../", 1, true) or d:sub(-3) == "/.." then
      bad_field("Directorys")
    end
  end
end

local function answer(r, a, repeated)
  local out = { CommandResults = { CommandResult = command_results(a) }, Index = r.index, InstanceId = r.InstanceId,
    InstanceIp = r.ip, InstancePort = r.port, TcpPorts = true }
  if repeated ~= nil then out.RequestRepeated = repeated and "true" or "false" end
  return out
end

local function release(ctx, dev)
  local p = engine.get(ctx, "ens_pod", dev.pod)
  if p and p.device == dev.DeviceKey then p.state, p.device = "idle", nil end
end

local function run_service_schedule(emu, a, ctx)
  local app_id, uuid, ip = a:need("AppId"), a:need("Uuid"), a:need("ClientIp")
  local action = a:need("ServiceAction")
  if not common.has(SERVICE_ACTIONS, action) then bad_field("ServiceAction") end
  if not ipv4(ip) then bad_field("ClientIp") end
  local timeout = a:int("PreLockedTimeout", 300, 1, 86400, "InvalidParameter.PreLockedTimeout")
  check_directories(a)
  local key = app_id .. "\n" .. uuid
  local dev = engine.get(ctx, "ens_device", key)
  local p = dev and engine.get(ctx, "ens_pod", dev.pod)
  local coll = engine.coll(ctx.world, "ens_device")
  if action == "Start" or action == "PreSchedule" then
    if dev and dev.state == "scheduled" then return answer(p, a, true) end
    if dev and dev.state == "prelocked" then
      if action == "PreSchedule" then return answer(p, a, true) end
      refuse("the device holds a pre-scheduled resource; Confirm or Cancel it first")
    end
    if dev then coll:remove(key) end -- an expired lock
    p = pick_idle(a, ctx)
    dev = engine.record(emu, ctx, device, { DeviceKey = key, app = app_id, uuid = uuid, client_ip = ip,
      pod = p.InstanceId })
    p.device = key
    engine.store(ctx, dev)
    if action == "Start" then
      dev.state, p.state = "scheduled", "scheduled"
    else
      dev.state, p.state = "prelocked", "prelocked"
      engine.later(emu, ctx, dev, timeout, { state = "expired" }, "ens_prelock_lapse")
    end
    return answer(p, a, false)
  elseif action == "Confirm" then
    if dev and dev.state == "scheduled" then return answer(p, a, true) end
    if dev and dev.state == "expired" then
      coll:remove(key)
      refuse("the pre-locked resource was released after PreLockedTimeout; PreSchedule again")
    end
    if not dev or dev.state ~= "prelocked" then refuse("the device has no pre-scheduled resource to confirm") end
    engine.later(emu, ctx, dev, 0, { state = "scheduled" }) -- the lapse no longer applies
    p.state = "scheduled"
    return answer(p, a, false)
  elseif action == "Cancel" then
    if not dev or (dev.state ~= "prelocked" and dev.state ~= "expired") then
      refuse("the device has no pre-scheduled resource to cancel")
    end
    release(ctx, dev)
    engine.remove(emu, ctx, dev)
    return answer(p, a, false)
  elseif action == "Stop" then
    if not dev or dev.state ~= "scheduled" then refuse("the device has no scheduled resource to stop") end
    release(ctx, dev)
    engine.remove(emu, ctx, dev)
    return answer(p, a, false)
  end
  -- Console: the device's current scheduling, without RequestRepeated
  if not dev or (dev.state ~= "scheduled" and dev.state ~= "prelocked") then
    refuse("the device is not in the scheduling state")
  end
  return answer(p, a, nil)
end

-- [{"regionCode": ..., "ispCode": ..., "count": n}, ...], each checked.
local function selector(a, ctx, need_region)
  local sel = a:json("ResourceSelector", "InvalidParameter.ResourceSelector")
  if sel == nil then errors.missing("ResourceSelector") end
  if type(sel) ~= "table" or #sel == 0 then bad_field("ResourceSelector") end
  for _, item in ipairs(sel) do
    if type(item) ~= "table" then bad_field("ResourceSelector") end
    local count = tonumber(item.count)
    if not count or count < 1 or count ~= math.floor(count) or count > 1000 then bad_field("ResourceSelector") end
    if need_region and not engine.get(ctx, "ens_node", tostring(item.regionCode)) then bad_field("ResourceSelector") end
  end
  return sel
end

local function rescale_device_service(emu, a, ctx)
  a:enum("RescaleType", { "Add" }, nil, "InvalidParameter.RescaleType")
  a:enum("RescaleLevel", { "RegionId" }, nil, "InvalidParameter.RescaleLevel")
  local sel = selector(a, ctx, true)
  local ip_type = a:int("IpType", 1, nil, nil, "InvalidParameter.IpType")
  if ip_type ~= 1 and ip_type ~= 2 then bad_field("IpType") end
  a:int("Timeout", 300, 1, nil, "InvalidParameter.Timeout")
  local info = a:json("ResourceInfo", "InvalidParameter.ResourceInfo")
  if info ~= nil and type(info) ~= "table" then bad_field("ResourceInfo") end
  local spec = a:str("ResourceSpec") or (info and info.specName) or "ens.a6e.large"
  local ids, details = arr {}, arr {}
  local n = engine.coll(ctx.world, "ens_device_service"):count()
  for _, item in ipairs(sel) do
    local nd = engine.get(ctx, "ens_node", item.regionCode)
    for _ = 1, item.count do
      n = n + 1
      local dev = engine.record(emu, ctx, device_service, { DeviceId = emu.ids:resource("b", 25),
        region = nd.EnsRegionId, ip = string.format("10.%d.%d.%d", 150 + n % 50, n % 250, 10 + n % 200),
        server = "ens-nc" .. n, type = spec, status = "Running", isp = item.ispCode or nd.isp,
        mac = string.format("24:0B:88:%02X:%02X:%02X", n % 256, (n * 7) % 256, (n * 13) % 256),
        service = a:str("ServiceId") or "", app = a:str("AppId") or "", ip_type = ip_type })
      engine.store(ctx, dev)
      ids[#ids + 1] = dev.DeviceId
      details[#details + 1] = { RegionID = dev.region, ID = dev.DeviceId, IP = dev.ip, Server = dev.server,
        Type = dev.type, Status = dev.status, Mac = dev.mac, ISP = dev.isp }
    end
  end
  local h = emu.ids:hex(32)
  return { DeviceIds = ids, ResourceDetailInfos = details,
    OrderId = h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" .. h:sub(17, 20) .. "-" .. h:sub(21, 32) }
end

local function rescale_application(emu, a, ctx)
  local app_id = a:need("AppId")
  local rtype = a:enum("RescaleType", { "Add", "Del" }, nil, "InvalidParameter.RescaleType")
  local level = a:enum("RescaleLevel", { "AreaIspCode", "RegionId", "InstanceId" }, "AreaIspCode",
    "InvalidParameter.RescaleLevel")
  local sel = selector(a, ctx, level == "RegionId")
  a:int("Timeout", 300, 1, nil, "InvalidParameter.Timeout")
  local rec = engine.get(ctx, "ens_app", app_id)
  if not rec then
    rec = engine.store(ctx, engine.record(emu, ctx, app, { AppId = app_id, resources = {}, version = "stable" }))
  end
  local function key(item)
    if level == "RegionId" then return "region:" .. tostring(item.regionCode) end
    if level == "InstanceId" then return "instance:" .. tostring(item.instanceId or item.regionCode or "") end
    return "isp:" .. tostring(item.areaCode or item.regionCode or "") .. "/" .. tostring(item.ispCode or "")
  end
  if rtype == "Del" then
    local need = {}
    for _, item in ipairs(sel) do need[key(item)] = (need[key(item)] or 0) + item.count end
    for k, c in pairs(need) do
      if (rec.resources[k] or 0) < c then refuse("the application has fewer resources than asked to release") end
    end
    for k, c in pairs(need) do rec.resources[k] = rec.resources[k] - c end
  else
    for _, item in ipairs(sel) do rec.resources[key(item)] = (rec.resources[key(item)] or 0) + item.count end
    rec.version = a:str("ToAppVersion") or rec.version
  end
  return {}
end

local function batch_event_redeploy(emu, a, ctx)
  local infos = a:json("EventInfos", "InvalidParameter.EventInfos")
  if infos == nil then errors.missing("EventInfos") end
  if type(infos) ~= "table" or #infos == 0 then bad_field("EventInfos") end
  local now_ms = emu:now() * 1000
  local results = arr {}
  for _, info in ipairs(infos) do
    if type(info) ~= "table" then bad_field("EventInfos") end
    local e = info.EventId and engine.get(ctx, "ens_event", info.EventId)
    if not e and info.ResourceId then
      for _, x in ipairs(engine.list(ctx, "ens_event")) do
        if x.resource == info.ResourceId and x.status == "Inquiring" then e = x end
      end
    end
    local ops = info.OpsType or "immediate"
    local r = { EventId = info.EventId or (e and e.EventId) or "", ResourceId = info.ResourceId or (e and e.resource) or "" }
    if not e then
      r.Code, r.Message = 404, "the event does not exist"
    elseif info.ResourceId and info.ResourceId ~= e.resource then
      r.Code, r.Message = 400, "the event does not belong to the resource"
    elseif ops ~= "immediate" and ops ~= "scheduled" then
      r.Code, r.Message = 400, "OpsType must be immediate or scheduled"
    elseif e.status == "Executed" then
      r.Code, r.Message = 400, "the event has already been executed"
    elseif ops == "scheduled" and not (tonumber(info.PlanTime) and tonumber(info.PlanTime) > now_ms) then
      r.Code, r.Message = 400, "PlanTime (milliseconds, in the future) is required when OpsType is scheduled"
    else
      if ops == "immediate" then
        e.status, e.executed = "Executed", now_ms
      else
        e.status, e.plan = "Scheduled", tonumber(info.PlanTime)
      end
      r.Code, r.Message = 200, "success"
    end
    results[#results + 1] = r
  end
  return { Results = results }
end

device.actions = {
  RunServiceSchedule = { op = "custom", handler = run_service_schedule, honours = { "AppId", "Uuid", "ClientIp",
    "ServiceAction", "ScheduleStrategy", "ServiceCommands", "PreLockedTimeout", "Directorys", "PodConfigName" } },
}
device_service.actions = {
  RescaleDeviceService = { op = "custom", handler = rescale_device_service, honours = { "ResourceSelector",
    "ResourceSpec", "ResourceInfo", "RescaleType", "RescaleLevel", "Timeout", "ServiceId", "AppId", "IpType",
    "ImageId", "OrderType", "InstanceChargeType", "ResourceAttribute", "ResourceTimeout", "PostPaidType", "Tags" } },
}
app.actions = {
  RescaleApplication = { op = "custom", handler = rescale_application, honours = { "AppId", "RescaleType",
    "RescaleLevel", "ResourceSelector", "Timeout", "ToAppVersion", "OrderType", "RescaleTimeout" } },
}
event.actions = {
  BatchEventRedeployInstance = { op = "custom", handler = batch_event_redeploy, honours = { "EventInfos" } },
}

return { node, pod, device, app, device_service, event }
