-- Regions, zones and instances: DescribeRegions, DescribeZones, DescribeInstances over the
-- fixture, plus StartInstance and StopInstance (the disk actions need Stopped instances).
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local regions = { product = "ecs", actions = {} }
local A = regions.actions

local arr = json.array

function regions.init(emu)
  local db = emu.db
  db.regions = state.collection()
  db.zones = {}
  db.instances = state.collection()
  db.images = {}
  for _, img in ipairs(fixtures.IMAGES) do db.images[img.id] = img end
  local created = emu:now() - 30 * 86400
  for ri, r in ipairs(fixtures.REGIONS) do
    db.regions:add(r.id, r)
    for _, z in ipairs(r.zones) do db.zones[z] = r.id end
    for i = 1, fixtures.INSTANCES_PER_REGION do
      local id = emu.ids:resource("i")
      local image = fixtures.IMAGES[(i - 1) % #fixtures.IMAGES + 1]
      db.instances:add(id, {
        id = id, region = r.id, zone = r.zones[(i - 1) % #r.zones + 1],
        name = string.format("emu-%s-%d", r.id, i), host = string.format("iZemu%d%dZ", ri, i),
        type = fixtures.INSTANCE_TYPES[(i - 1) % #fixtures.INSTANCE_TYPES + 1], cpu = 2 * i, memory = 8 * i,
        status = "Running", image = image.id, os = image.os,
        private_ip = string.format("172.16.%d.%d", ri, 10 + i),
        public_ip = string.format("47.%d.%d.%d", 90 + ri, i, 100 + i),
        eni = emu.ids:resource("eni"), mac = string.format("00:16:3e:%02x:%02x:%02x", ri, i, 16 + i),
        vpc = "vpc-emu" .. ri, vswitch = "vsw-emu" .. ri .. (r.zones[(i - 1) % #r.zones + 1]:sub(-1)),
        sg = "sg-emu" .. ri, created = created + ri * 3600 + i * 60,
        assistant = i < fixtures.INSTANCES_PER_REGION, serial = emu.ids:hex(8) .. "-" .. emu.ids:hex(4),
        started = created + ri * 3600 + i * 60,
      })
    end
  end
end

-- The region of the request, checked against the fixture.
function regions.region(emu, a, code, status)
  local id = a:need("RegionId")
  if not emu.db.regions:get(id) then
    errors.raise(code or "InvalidRegionId.NotFound", "The specified RegionId does not exist.", status or 404)
  end
  return id
end

function regions.instance(emu, id, code, status, message)
  local inst = emu.db.instances:get(id)
  if not inst then
    errors.raise(code or "InvalidInstanceId.NotFound", message or "The specified InstanceId does not exist.", status or 404)
  end
  return inst
end

function regions.describe_instance(inst)
  return {
    InstanceId = inst.id, InstanceName = inst.name, Description = "", ImageId = inst.image,
    RegionId = inst.region, ZoneId = inst.zone, Cpu = inst.cpu, Memory = inst.memory,
    InstanceType = inst.type, InstanceTypeFamily = inst.type:match("^(ecs%.%w+)"), HostName = inst.host,
    SerialNumber = inst.serial, Status = inst.status, OSName = inst.os, OSType = "linux",
    SecurityGroupIds = { SecurityGroupId = arr { inst.sg } },
    PublicIpAddress = { IpAddress = arr { inst.public_ip } },
    InnerIpAddress = { IpAddress = arr {} },
    InternetMaxBandwidthIn = 100, InternetMaxBandwidthOut = 5, InternetChargeType = "PayByTraffic",
    CreationTime = state.iso_minute(inst.created), StartTime = state.iso_minute(inst.started),
    InstanceNetworkType = "vpc",
    VpcAttributes = { VpcId = inst.vpc, VSwitchId = inst.vswitch, NatIpAddress = "",
      PrivateIpAddress = { IpAddress = arr { inst.private_ip } } },
    EipAddress = { AllocationId = "", IpAddress = "", InternetChargeType = "", Bandwidth = 0 },
    OperationLocks = { LockReason = arr {} },
    InstanceChargeType = "PostPaid", SpotStrategy = "NoSpot", SpotPriceLimit = 0, DeviceAvailable = true,
    StoppedMode = inst.status == "Stopped" and "KeepCharging" or "Not-applicable", DeploymentSetId = "",
    NetworkInterfaces = { NetworkInterface = arr { { NetworkInterfaceId = inst.eni, MacAddress = inst.mac,
      PrimaryIpAddress = inst.private_ip, Type = "Primary" } } },
    IoOptimized = true, ExpiredTime = "2099-12-31T15:59Z", KeyPairName = "",
  }
end

A.DescribeRegions = function(emu, a)
  a:enum("AcceptLanguage", { "zh-CN", "en-US", "ja" })
  a:enum("InstanceChargeType", { "PrePaid", "PostPaid" })
  a:enum("ResourceType", { "instance", "disk", "reservedinstance", "scu" })
  local out = arr {}
  for _, r in ipairs(emu.db.regions:list()) do
    out[#out + 1] = { RegionId = r.id, LocalName = r.name, RegionEndpoint = "ecs." .. r.id .. ".aliyuncs.com",
      Status = "available" }
  end
  return { Regions = { Region = out } }
end

A.DescribeZones = function(emu, a)
  local rid = regions.region(emu, a)
  a:enum("AcceptLanguage", { "zh-CN", "en-US", "ja" })
  a:enum("InstanceChargeType", { "PrePaid", "PostPaid" })
  a:enum("SpotStrategy", { "NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo" })
  local verbose = a:bool("Verbose", true)
  local out = arr {}
  for i, z in ipairs(emu.db.regions:get(rid).zones) do
    local zone = { ZoneId = z, LocalName = emu.db.regions:get(rid).name .. " Zone " .. z:sub(-1):upper(),
      ZoneType = "AvZone" }
    if verbose then
      zone.AvailableResourceCreation = { ResourceTypes = arr { "Instance", "Disk", "DedicatedHost" } }
      local cats = arr {}
      for k, c in ipairs(fixtures.DISK_CATEGORIES) do cats[k] = c end
      zone.AvailableDiskCategories = { DiskCategories = cats }
      zone.AvailableVolumeCategories = { VolumeCategories = arr {} }
      zone.AvailableInstanceTypes = { InstanceTypes = arr { fixtures.INSTANCE_TYPES[1], fixtures.INSTANCE_TYPES[2],
        i == 1 and fixtures.INSTANCE_TYPES[3] or nil } }
    end
    out[#out + 1] = zone
  end
  return { Zones = { Zone = out } }
end

local INSTANCE_STATUSES = { "Pending", "Running", "Starting", "Stopping", "Stopped" }

A.DescribeInstances = function(emu, a)
  local rid = regions.region(emu, a)
  local zone = a:str("ZoneId")
  local ids = a:json_strings("InstanceIds")
  if ids and #ids > 100 then errors.invalid("InstanceIds", "InvalidInstanceIds.Malformed", 400) end
  local id_set
  if ids then
    id_set = {}
    for _, id in ipairs(ids) do id_set[id] = true end
  end
  local status = a:enum("Status", INSTANCE_STATUSES, nil, "InvalidStatus.ValueNotSupported", 400)
  local name, itype, image = a:str("InstanceName"), a:str("InstanceType"), a:str("ImageId")
  local vpc, vsw = a:str("VpcId"), a:str("VSwitchId")
  local ips = a:json_strings("PrivateIpAddresses")
  local ip_set
  if ips then
    ip_set = {}
    for _, ip in ipairs(ips) do ip_set[ip] = true end
  end
  local items = emu.db.instances:list(function(i)
    return i.region == rid and (not zone or i.zone == zone) and (not id_set or id_set[i.id])
      and (not status or i.status == status) and (not name or i.name == name)
      and (not itype or i.type == itype) and (not image or i.image == image)
      and (not vpc or i.vpc == vpc) and (not vsw or i.vswitch == vsw)
      and (not ip_set or ip_set[i.private_ip])
  end)
  local page, meta = a:page(emu, items, 100, { tokens = true })
  local out = arr {}
  for i, inst in ipairs(page) do out[i] = regions.describe_instance(inst) end
  meta.Instances = { Instance = out }
  return meta
end

A.StopInstance = function(emu, a)
  local inst = regions.instance(emu, a:need("InstanceId"))
  if inst.status ~= "Running" then
    errors.raise("IncorrectInstanceStatus", "The current status of the resource does not support this operation.", 403)
  end
  inst.status = "Stopped"
  inst.stopped_at = emu:now()
  return {}
end

A.StartInstance = function(emu, a)
  local inst = regions.instance(emu, a:need("InstanceId"))
  if inst.status ~= "Stopped" then
    errors.raise("IncorrectInstanceStatus", "The current status of the resource does not support this operation.", 403)
  end
  inst.status = "Running"
  inst.started = emu:now()
  return {}
end

return regions
