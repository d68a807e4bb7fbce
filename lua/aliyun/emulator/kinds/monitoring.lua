-- Monitoring (ECS API reference chapter 8): synthetic but deterministic series for
-- instances, disks and ENIs (the same query always gives the same numbers), full status and
-- history events of instances, the console output and a screenshot.
local auth = require "aliyun.emulator.auth"
local core = require "aliyun.core"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local A = {}

local arr = json.array
local raise = errors.raise
local floor = math.floor

local MAX_POINTS = 400
local HISTORY = 30 * 86400

-- StartTime, EndTime and Period as the monitoring pages describe them: ISO 8601 UTC,
-- seconds other than 00 round up to the next minute, Period 60 | 600 | 3600, at most 400
-- points, nothing older than 30 days.
local function window(emu, a)
  local s_text, e_text = a:need("StartTime"), a:need("EndTime")
  local s = auth.parse_timestamp(s_text)
  if not s then raise("InvalidStartTime.Malformed", "The specified parameter \"StartTime\" is not valid.", 400) end
  local e = auth.parse_timestamp(e_text)
  if not e then raise("InvalidEndTime.Malformed", "The specified parameter \"EndTime\" is not valid.", 400) end
  local period = a:int("Period", 60, nil, nil, "InvalidPeriod.ValueNotSupported")
  if period ~= 60 and period ~= 600 and period ~= 3600 then
    raise("InvalidPeriod.ValueNotSupported", "The specified parameter \"Period\" is not valid.", 400)
  end
  if s % 60 ~= 0 then s = s - s % 60 + 60 end
  if e % 60 ~= 0 then e = e - e % 60 + 60 end
  if e < s then raise("InvalidEndTime.Malformed", "The specified parameter \"EndTime\" is earlier than StartTime.", 400) end
  if s < emu:now() - HISTORY then
    raise("InvalidStartTime.TooEarly", "The specified parameter \"StartTime\" is too early.", 400)
  end
  if (e - s) / period > MAX_POINTS then
    raise("InvalidParameter.TooManyDataQueried", "Too many data queried.", 400)
  end
  return s, e, period
end

-- A value between lo and hi that depends only on the resource, the metric and the time.
local function value(id, metric, t, lo, hi)
  local h = state.hash(id .. "/" .. metric .. "/" .. tostring(floor(t)))
  return lo + h % (hi - lo + 1)
end

local function series(emu, a, make)
  local s, e, period = window(emu, a)
  local out = arr {}
  local now = emu:now()
  for t = s, e, period do
    if t > now then break end -- no data from the future
    out[#out + 1] = make(t, period)
  end
  return out
end

A.DescribeInstanceMonitorData = function(emu, a, ctx)
  local inst = engine.find(ctx, "instance", a:need("InstanceId"))
  local points = series(emu, a, function(t)
    local rx, tx = value(inst.InstanceId, "irx", t, 50, 900), value(inst.InstanceId, "itx", t, 50, 900)
    local erx, etx = value(inst.InstanceId, "erx", t, 10, 400), value(inst.InstanceId, "etx", t, 10, 400)
    return {
      InstanceId = inst.InstanceId, CPU = value(inst.InstanceId, "cpu", t, 1, 95),
      IntranetRX = rx, IntranetTX = tx, IntranetBandwidth = floor((rx + tx) / 60),
      InternetRX = erx, InternetTX = etx, InternetBandwidth = floor((erx + etx) / 60),
      IOPSRead = value(inst.InstanceId, "ior", t, 0, 2000), IOPSWrite = value(inst.InstanceId, "iow", t, 0, 800),
      BPSRead = value(inst.InstanceId, "bpr", t, 0, 4096000), BPSWrite = value(inst.InstanceId, "bpw", t, 0, 2048000),
      TimeStamp = state.iso(t),
    }
  end)
  if inst.Status == "Stopped" then points = arr {} end -- a stopped instance reports nothing
  return { MonitorData = { InstanceMonitorData = points } }
end

A.DescribeDiskMonitorData = function(emu, a, ctx)
  local d = engine.get(ctx, "disk", a:need("DiskId"))
  if not d then raise("InvalidDiskId.NotFound", "The DiskId provided does not exist.", 404) end
  local points = series(emu, a, function(t)
    local br, bw = value(d.DiskId, "br", t, 0, 4096), value(d.DiskId, "bw", t, 0, 4096)
    local ir, iw = value(d.DiskId, "ir", t, 0, 300), value(d.DiskId, "iw", t, 0, 300)
    return { DiskId = d.DiskId, BPSRead = br, BPSWrite = bw, BPSTotal = br + bw, IOPSRead = ir, IOPSWrite = iw,
      IOPSTotal = ir + iw, LatencyRead = value(d.DiskId, "lr", t, 0, 5), LatencyWrite = value(d.DiskId, "lw", t, 0, 5),
      TimeStamp = state.iso(t) }
  end)
  if d.Status ~= "In_use" then points = arr {} end -- only disks in use are measured
  return { TotalCount = #points, MonitorData = { DiskMonitorData = points } }
end

A.DescribeEniMonitorData = function(emu, a, ctx)
  engine.region(emu, a, true)
  local inst = engine.find(ctx, "instance", a:need("InstanceId"))
  local eni = a:str("EniId")
  local nic = inst.NetworkInterfaceId
  if eni then
    -- any interface attached to the instance (InUse) is measured
    local e = engine.get(ctx, "eni", eni)
    if e and e.InstanceId == inst.InstanceId and e.Status == "InUse" then nic = eni end
  end
  -- the model has these counters as strings
  local function v(metric, t, hi) return tostring(value(nic, metric, t, 0, hi)) end
  local points = series(emu, a, function(t)
    return { EniId = nic, TimeStamp = state.iso(t), PacketTx = v("ptx", t, 60000), PacketRx = v("prx", t, 60000),
      IntranetTx = v("itx", t, 80000), IntranetRx = v("irx", t, 80000), DropPacketTx = "0", DropPacketRx = "0" }
  end)
  if (eni and eni ~= nic) or inst.Status == "Stopped" then points = arr {} end
  return { TotalCount = #points, MonitorData = { EniMonitorData = points } }
end

local event_kind = { name = "event", product = "ecs", id = "EventId", scope = "region", actions = {} }

-- System events: each region's first instance has one scheduled maintenance reboot and an
-- executed one in its history.
function event_kind.fixture(emu, ctx)
  local base = emu:now()
  local seen = {}
  for _, inst in ipairs(engine.list(ctx, "instance")) do
    if not seen[inst.RegionId] then
      seen[inst.RegionId] = true
      local function event(etype, cycle, publish, not_before, finish)
        engine.store(ctx, engine.record(emu, ctx, event_kind, { EventId = emu.ids:resource("e"),
          instance = inst.InstanceId, RegionId = inst.RegionId, type = etype, cycle = cycle,
          publish = publish, not_before = not_before, finish = finish }))
      end
      event("SystemMaintenance.Reboot", "Executed", base - 6 * 86400, base - 5 * 86400, base - 5 * 86400 + 180)
      event("InstanceExpiration.Stop", "Avoided", base - 4 * 86400, base - 2 * 86400, base - 3 * 86400)
      event("SystemMaintenance.Reboot", "Scheduled", base - 3600, base + 86400, nil)
    end
  end
end

local function code_name(codes, name)
  return { Code = codes[name], Name = name }
end

local function time_range(a, prefix)
  local s, e = a:str(prefix .. ".Start"), a:str(prefix .. ".End")
  local ts, te
  if s then ts = auth.parse_timestamp(s) or errors.invalid(prefix .. ".Start", nil, 403) end
  if e then te = auth.parse_timestamp(e) or errors.invalid(prefix .. ".End", nil, 403) end
  return function(t) return (not ts or t >= ts) and (not te or t <= te) end
end

local EVENT_TYPES = { "SystemMaintenance.Reboot", "SystemFailure.Reboot", "InstanceFailure.Reboot",
  "InstanceExpiration.Stop" }

local function event_filter(a, status_403)
  local code = status_403 and 403 or 400
  local ids = a:list("EventId")
  if #ids > 100 then raise("EventIdLimitExceeded", "The amount of EventId specified exceeds limit 100.", 403) end
  local types = a:list("InstanceEventType")
  if #types > 30 then errors.invalid("InstanceEventType", nil, code) end
  for _, t in ipairs(types) do
    local ok = false
    for _, k in ipairs(EVENT_TYPES) do if k == t then ok = true end end
    if not ok then errors.invalid("InstanceEventType", nil, code) end
  end
  if #types == 0 then
    local one = a:enum("EventType", EVENT_TYPES, nil, nil, code)
    if one then types = { one } end
  end
  local id_set, type_set = {}, {}
  for _, id in ipairs(ids) do id_set[id] = true end
  for _, t in ipairs(types) do type_set[t] = true end
  local nb, pub = time_range(a, "NotBefore"), time_range(a, "EventPublishTime")
  return function(e)
    return (#ids == 0 or id_set[e.EventId]) and (#types == 0 or type_set[e.type]) and nb(e.not_before) and pub(e.publish)
  end
end

local HEALTH = { "OK", "Impaired", "Warning", "Maintaining", "Initializing", "InsufficientData", "NotApplicable" }
local HEALTH_CODES = { OK = 0, Warning = 64, Impaired = 128, Maintaining = 32, Initializing = 16,
  InsufficientData = 256, NotApplicable = 512 }

A.DescribeInstancesFullStatus = function(emu, a, ctx)
  local rid = engine.region(emu, a)
  local ids = a:list("InstanceId")
  if #ids > 100 then raise("InstanceIdLimitExceeded", "The amount of InstanceId specified exceeds limit 100.", 403) end
  local status = a:enum("Status", { "Starting", "Running", "Stopped" }, nil, nil, 403)
  local health = a:enum("HealthStatus", HEALTH, nil, nil, 403)
  local keep_event = event_filter(a, true)
  local id_set = {}
  for _, id in ipairs(ids) do id_set[id] = true end
  local items = engine.list(ctx, "instance", function(i)
    return i.RegionId == rid and (#ids == 0 or id_set[i.InstanceId]) and (not status or i.Status == status)
  end)
  local rows = {}
  for _, inst in ipairs(items) do
    local events = arr {}
    for _, e in ipairs(engine.list(ctx, "event")) do
      if e.instance == inst.InstanceId and e.cycle == "Scheduled" and keep_event(e) then
        events[#events + 1] = { EventId = e.EventId, EventCycleStatus = code_name(fixtures.EVENT_CYCLE, e.cycle),
          EventType = code_name(fixtures.EVENT_TYPES, e.type), EventPublishTime = state.iso(e.publish),
          NotBefore = state.iso(e.not_before) }
      end
    end
    local h = inst.Status == "Stopped" and "NotApplicable" or (#events > 0 and "Warning" or "OK")
    if not health or health == h then
      rows[#rows + 1] = { InstanceId = inst.InstanceId, Status = code_name(fixtures.STATUS_CODES, inst.Status),
        HealthStatus = { Code = HEALTH_CODES[h], Name = h }, ScheduledSystemEventSet = { ScheduledSystemEventType = events } }
    end
  end
  local page, meta = engine.page(emu, a, ctx, rows, { page_max = 100 })
  meta.InstanceFullStatusSet = { InstanceFullStatusType = arr(page) }
  return meta
end

local CYCLES = { "Scheduled", "Avoided", "Executing", "Executed", "Canceled", "Failed", "Inquiring" }

A.DescribeInstanceHistoryEvents = function(emu, a, ctx)
  local rid = engine.region(emu, a)
  local instance = a:str("InstanceId")
  local cycles = a:list("InstanceEventCycleStatus")
  for _, c in ipairs(cycles) do
    local ok = false
    for _, k in ipairs(CYCLES) do if k == c then ok = true end end
    if not ok then errors.invalid("InstanceEventCycleStatus", nil, 403) end
  end
  if #cycles == 0 then
    local one = a:enum("EventCycleStatus", CYCLES, nil, nil, 403)
    if one then cycles = { one } end
  end
  local cycle_set = {}
  for _, c in ipairs(cycles) do cycle_set[c] = true end
  local keep_event = event_filter(a, true)
  -- Tag and ResourceGroupId select events by their instance's tags and group
  local tags, group = engine.tags(a), a:str("ResourceGroupId")
  local function instance_matches(e)
    if #tags == 0 and not group then return true end
    local inst = engine.get(ctx, "instance", e.instance)
    return inst ~= nil and engine.has_tags(inst, tags) and (not group or inst.ResourceGroupId == group)
  end
  local rows = {}
  for _, e in ipairs(engine.list(ctx, "event")) do
    if e.RegionId == rid and (not instance or e.instance == instance) and (#cycles == 0 or cycle_set[e.cycle])
      and keep_event(e) and instance_matches(e) then
      rows[#rows + 1] = { InstanceId = e.instance, EventId = e.EventId,
        EventType = code_name(fixtures.EVENT_TYPES, e.type), EventCycleStatus = code_name(fixtures.EVENT_CYCLE, e.cycle),
        EventPublishTime = state.iso(e.publish), NotBefore = state.iso(e.not_before),
        EventFinishTime = e.finish and state.iso(e.finish) or "", ResourceType = "instance" }
    end
  end
  local page, meta = engine.page(emu, a, ctx, rows, { page_max = 100 })
  meta.InstanceSystemEventSet = { InstanceSystemEventType = arr(page) }
  return meta
end

-- Console output and screenshot: the instance must exist (InvalidParameter, 404) and be
-- Running (IncorrectInstanceStatus, 405).
local function running_instance(emu, a, ctx)
  engine.region(emu, a, true)
  local inst = engine.get(ctx, "instance", a:need("InstanceId"))
  if not inst then raise("InvalidParameter", "The \"InstanceId\" provided is not valid.", 404) end
  if inst.Status ~= "Running" then
    raise("IncorrectInstanceStatus", "The instance status \"" .. inst.Status .. "\" is not applicable.", 405)
  end
  return inst
end

A.GetInstanceConsoleOutput = function(emu, a, ctx)
  local inst = running_instance(emu, a, ctx)
  local lines = {
    "[    0.000000] Linux version 5.10.134 (emulated)",
    "[    0.812345] Booting " .. inst.OSName .. " on " .. inst.InstanceType,
    "[    2.104000] cloud-init: hostname " .. inst.HostName,
    "[    3.500000] Reached target Multi-User System.",
    "",
    inst.OSName .. " " .. inst.HostName .. " ttyS0",
    "",
    inst.HostName .. " login: ",
  }
  local text = table.concat(lines, "\n")
  if a:bool("RemoveSymbols", false) then text = text:gsub("[^%w%s%p]", "") end
  return { InstanceId = inst.InstanceId, ConsoleOutput = core.base64(text), LastUpdateTime = inst.StartTime }
end

local function hex_to_bytes(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

A.GetInstanceScreenshot = function(emu, a, ctx)
  local inst = running_instance(emu, a, ctx)
  a:bool("WakeUp", false)
  return { InstanceId = inst.InstanceId, Screenshot = core.base64(hex_to_bytes(fixtures.SCREENSHOT_JPEG_HEX)) }
end

local HONOURS = {
  DescribeInstanceMonitorData = { "InstanceId", "StartTime", "EndTime", "Period" },
  DescribeDiskMonitorData = { "DiskId", "StartTime", "EndTime", "Period" },
  DescribeEniMonitorData = { "InstanceId", "EniId", "StartTime", "EndTime", "Period" },
  DescribeInstancesFullStatus = { "InstanceId", "Status", "HealthStatus", "EventId", "InstanceEventType", "EventType",
    "NotBefore.Start", "NotBefore.End", "EventPublishTime.Start", "EventPublishTime.End", "PageNumber", "PageSize" },
  DescribeInstanceHistoryEvents = { "InstanceId", "EventCycleStatus", "InstanceEventCycleStatus", "EventId",
    "InstanceEventType", "EventType", "NotBefore.Start", "NotBefore.End", "EventPublishTime.Start",
    "EventPublishTime.End", "PageNumber", "PageSize", "NextToken", "MaxResults", "Tag", "ResourceGroupId" },
  GetInstanceConsoleOutput = { "InstanceId", "RemoveSymbols" },
  GetInstanceScreenshot = { "InstanceId", "WakeUp" },
}

local actions = {}
for name, fn in pairs(A) do actions[name] = { op = "custom", honours = HONOURS[name], handler = fn } end

return { event_kind, { name = "monitoring", product = "ecs", id = "InstanceId", actions = actions } }
