-- ENS (2017-11-10): RunServiceSchedule with its two flows (containers: Start, Stop, Console;
-- bare metal and VMs: PreSchedule, Confirm, Cancel, Console, with locks that lapse after
-- PreLockedTimeout seconds), RescaleDeviceService, RescaleApplication and
-- BatchEventRedeployInstance, over a fixture of edge nodes with idle resources.
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local ens = { product = "ens", actions = {} }
local A = ens.actions

local arr = json.array
local raise = errors.raise

-- The ENS error forms: InvalidParameter.<Field> for a bad field, InvalidParameter with the
-- reason for a request that cannot be carried out.
local function bad_field(name)
  raise("InvalidParameter." .. name, "The specified field " .. name .. " invalid. Please check it again.", 400)
end

local function refuse(why)
  raise("InvalidParameter", "The errorMessage is " .. why .. ". Please check it again.", 400)
end

function ens.init(emu)
  local db = emu.db
  db.ens_nodes = state.collection()
  db.ens_resources = {}
  local port = 1024
  for ni, n in ipairs(fixtures.ENS_NODES) do
    db.ens_nodes:add(n.id, n)
    for k = 1, n.idle do
      db.ens_resources[#db.ens_resources + 1] = {
        id = emu.ids:resource("i", 25), node = n.id, index = k, ip = string.format("172.16.%d.%d", 240 + ni, 10 + k),
        port = port, state = "idle",
      }
      port = port + 10
    end
  end
  db.ens_devices = {}
  db.ens_apps = {}
  db.ens_device_services = state.collection()
  db.ens_events = state.collection()
  for _, e in ipairs(fixtures.ENS_EVENTS) do
    db.ens_events:add(e.id, { id = e.id, resource = e.resource, type = e.type, status = "Inquiring" })
  end
end

-- Pre-locks lapse: the resource goes back to the idle pool.
function ens.tick(emu, now)
  for _, dev in pairs(emu.db.ens_devices) do
    if dev.state == "prelocked" and now >= dev.lock_until then
      dev.resource.state, dev.resource.device = "idle", nil
      dev.state = "expired"
    end
  end
end

local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, x in ipairs { a, b, c, d } do
    if tonumber(x) > 255 then return false end
  end
  return true
end

local ACTIONS = { "Start", "Stop", "Cancel", "PreSchedule", "Console", "Confirm" }

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

local function pick_idle(emu, a)
  local set, level = allowed_nodes(a)
  for _, r in ipairs(emu.db.ens_resources) do
    if r.state == "idle" then
      local node = emu.db.ens_nodes:get(r.node)
      if not set or (level == "RegionId" and set[r.node]) or (level ~= "RegionId" and set[node.isp]) then
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

local function answer(dev, a, repeated)
  local r = dev.resource
  local out = { CommandResults = { CommandResult = command_results(a) }, Index = r.index, InstanceId = r.id,
    InstanceIp = r.ip, InstancePort = r.port, TcpPorts = true }
  if repeated ~= nil then out.RequestRepeated = repeated and "true" or "false" end
  return out
end

A.RunServiceSchedule = function(emu, a)
  local app, uuid, ip = a:need("AppId"), a:need("Uuid"), a:need("ClientIp")
  local action = a:need("ServiceAction")
  local known = false
  for _, v in ipairs(ACTIONS) do if v == action then known = true end end
  if not known then bad_field("ServiceAction") end
  if not ipv4(ip) then bad_field("ClientIp") end
  local timeout = a:int("PreLockedTimeout", 300, 1, 86400, "InvalidParameter.PreLockedTimeout")
  check_directories(a)
  local key = app .. "\0" .. uuid
  local dev = emu.db.ens_devices[key]
  local now = emu:now()
  if action == "Start" or action == "PreSchedule" then
    if dev and dev.state == "scheduled" then return answer(dev, a, true) end
    if dev and dev.state == "prelocked" then
      if action == "PreSchedule" then return answer(dev, a, true) end
      refuse("the device holds a pre-scheduled resource; Confirm or Cancel it first")
    end
    local r = pick_idle(emu, a)
    dev = { app = app, uuid = uuid, client_ip = ip, resource = r }
    if action == "Start" then
      dev.state, r.state = "scheduled", "scheduled"
    else
      dev.state, r.state, dev.lock_until = "prelocked", "prelocked", now + timeout
    end
    r.device = key
    emu.db.ens_devices[key] = dev
    return answer(dev, a, false)
  elseif action == "Confirm" then
    if dev and dev.state == "scheduled" then return answer(dev, a, true) end
    if dev and dev.state == "expired" then
      emu.db.ens_devices[key] = nil
      refuse("the pre-locked resource was released after PreLockedTimeout; PreSchedule again")
    end
    if not dev or dev.state ~= "prelocked" then refuse("the device has no pre-scheduled resource to confirm") end
    dev.state, dev.resource.state = "scheduled", "scheduled"
    return answer(dev, a, false)
  elseif action == "Cancel" then
    if not dev or (dev.state ~= "prelocked" and dev.state ~= "expired") then
      refuse("the device has no pre-scheduled resource to cancel")
    end
    if dev.state == "prelocked" then dev.resource.state, dev.resource.device = "idle", nil end
    emu.db.ens_devices[key] = nil
    return answer(dev, a, false)
  elseif action == "Stop" then
    if not dev or dev.state ~= "scheduled" then refuse("the device has no scheduled resource to stop") end
    dev.resource.state, dev.resource.device = "idle", nil
    emu.db.ens_devices[key] = nil
    return answer(dev, a, false)
  end
  -- Console: the device's current scheduling, without RequestRepeated
  if not dev or (dev.state ~= "scheduled" and dev.state ~= "prelocked") then
    refuse("the device is not in the scheduling state")
  end
  return answer(dev, a, nil)
end

-- [{"regionCode": ..., "ispCode": ..., "count": n}, ...], each checked.
local function selector(emu, a, need_region)
  local sel = a:json("ResourceSelector", "InvalidParameter.ResourceSelector")
  if sel == nil then errors.missing("ResourceSelector") end
  if type(sel) ~= "table" or #sel == 0 then bad_field("ResourceSelector") end
  for _, item in ipairs(sel) do
    if type(item) ~= "table" then bad_field("ResourceSelector") end
    local count = tonumber(item.count)
    if not count or count < 1 or count ~= math.floor(count) or count > 1000 then bad_field("ResourceSelector") end
    if need_region and not emu.db.ens_nodes:get(tostring(item.regionCode)) then bad_field("ResourceSelector") end
  end
  return sel
end

A.RescaleDeviceService = function(emu, a)
  a:enum("RescaleType", { "Add" }, nil, "InvalidParameter.RescaleType")
  a:enum("RescaleLevel", { "RegionId" }, nil, "InvalidParameter.RescaleLevel")
  local sel = selector(emu, a, true)
  local ip_type = a:int("IpType", 1, nil, nil, "InvalidParameter.IpType")
  if ip_type ~= 1 and ip_type ~= 2 then bad_field("IpType") end
  a:int("Timeout", 300, 1, nil, "InvalidParameter.Timeout")
  local info = a:json("ResourceInfo", "InvalidParameter.ResourceInfo")
  if info ~= nil and type(info) ~= "table" then bad_field("ResourceInfo") end
  local spec = a:str("ResourceSpec") or (info and info.specName) or "ens.a6e.large"
  local ids, details = arr {}, arr {}
  local n = emu.db.ens_device_services:count()
  for _, item in ipairs(sel) do
    local node = emu.db.ens_nodes:get(item.regionCode)
    for _ = 1, item.count do
      n = n + 1
      local id = emu.ids:resource("b", 25)
      local dev = { id = id, region = node.id, ip = string.format("10.%d.%d.%d", 150 + n % 50, n % 250, 10 + n % 200),
        server = "ens-nc" .. n, type = spec, status = "Running", isp = item.ispCode or node.isp,
        mac = string.format("24:0B:88:%02X:%02X:%02X", n % 256, (n * 7) % 256, (n * 13) % 256),
        service = a:str("ServiceId") or "", app = a:str("AppId") or "", ip_type = ip_type }
      emu.db.ens_device_services:add(id, dev)
      ids[#ids + 1] = id
      details[#details + 1] = { RegionID = dev.region, ID = id, IP = dev.ip, Server = dev.server, Type = dev.type,
        Status = dev.status, Mac = dev.mac, ISP = dev.isp }
    end
  end
  local h = emu.ids:hex(32)
  return { DeviceIds = ids, ResourceDetailInfos = details,
    OrderId = h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" .. h:sub(17, 20) .. "-" .. h:sub(21, 32) }
end

A.RescaleApplication = function(emu, a)
  local app_id = a:need("AppId")
  local rtype = a:enum("RescaleType", { "Add", "Del" }, nil, "InvalidParameter.RescaleType")
  local level = a:enum("RescaleLevel", { "AreaIspCode", "RegionId", "InstanceId" }, "AreaIspCode",
    "InvalidParameter.RescaleLevel")
  local sel = selector(emu, a, level == "RegionId")
  a:int("Timeout", 300, 1, nil, "InvalidParameter.Timeout")
  local app = emu.db.ens_apps[app_id]
  if not app then
    app = { id = app_id, resources = {}, version = "stable" }
    emu.db.ens_apps[app_id] = app
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
      if (app.resources[k] or 0) < c then refuse("the application has fewer resources than asked to release") end
    end
    for k, c in pairs(need) do app.resources[k] = app.resources[k] - c end
  else
    for _, item in ipairs(sel) do app.resources[key(item)] = (app.resources[key(item)] or 0) + item.count end
    app.version = a:str("ToAppVersion") or app.version
  end
  return {}
end

A.BatchEventRedeployInstance = function(emu, a)
  local infos = a:json("EventInfos", "InvalidParameter.EventInfos")
  if infos == nil then errors.missing("EventInfos") end
  if type(infos) ~= "table" or #infos == 0 then bad_field("EventInfos") end
  local now_ms = emu:now() * 1000
  local results = arr {}
  for _, info in ipairs(infos) do
    if type(info) ~= "table" then bad_field("EventInfos") end
    local e = emu.db.ens_events:get(info.EventId)
    if not e and info.ResourceId then
      for _, x in ipairs(emu.db.ens_events:list()) do
        if x.resource == info.ResourceId and x.status == "Inquiring" then e = x end
      end
    end
    local ops = info.OpsType or "immediate"
    local r = { EventId = info.EventId or (e and e.id) or "", ResourceId = info.ResourceId or (e and e.resource) or "" }
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

return ens
