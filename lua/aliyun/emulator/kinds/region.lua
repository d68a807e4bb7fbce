-- Regions, zones and instance types: the fixed geography every account shares
-- (DescribeRegions, DescribeZones, DescribeInstanceTypes, DescribeInstanceTypeFamilies,
-- DescribeAvailableResource).
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"

local raise = errors.raise

local LANGS = { "zh-CN", "en-US", "ja" }

local function type_ids()
  local out = {}
  for i, t in ipairs(fixtures.INSTANCE_TYPES) do out[i] = t.id end
  return out
end

local function families()
  local out, seen = {}, {}
  for _, t in ipairs(fixtures.INSTANCE_TYPES) do
    if not seen[t.family] then
      seen[t.family] = true
      out[#out + 1] = t
    end
  end
  return out
end

local function category(t)
  if t.burst then return "Shared" end
  if t.family:match("%.c") then return "Compute-optimized" end
  if t.family:match("%.r") then return "Memory-optimized" end
  return "General-purpose"
end

local actions = {}

-- DescribeRegions' rows, made once per geography: it never changes (a reset makes a new one),
-- and answers are rendered from a handler's result without changing it.
local region_rows = setmetatable({}, { __mode = "k" })

actions.DescribeRegions = {
  op = "custom", honours = { "AcceptLanguage", "InstanceChargeType", "ResourceType" },
  handler = function(emu, a)
    a:enum("AcceptLanguage", LANGS)
    a:enum("InstanceChargeType", { "PrePaid", "PostPaid", "SpotWithPriceLimit", "SpotAsPriceGo" })
    a:enum("ResourceType", { "instance", "disk", "reservedinstance", "scu" })
    local out = region_rows[emu.regions]
    if not out then
      out = {}
      for _, r in ipairs(emu.regions:list()) do
        out[#out + 1] = { RegionId = r.RegionId, LocalName = r.LocalName, RegionEndpoint = r.RegionEndpoint,
          Status = "available" }
      end
      region_rows[emu.regions] = out
    end
    return { Regions = { Region = out } }
  end,
}

actions.DescribeZones = {
  op = "custom", honours = { "AcceptLanguage", "InstanceChargeType", "SpotStrategy", "Verbose" },
  handler = function(emu, a)
    local rid = engine.region(emu, a)
    a:enum("AcceptLanguage", LANGS)
    a:enum("InstanceChargeType", { "PrePaid", "PostPaid" })
    a:enum("SpotStrategy", { "NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo" })
    local verbose = a:bool("Verbose", true)
    local region = emu.regions:get(rid)
    local out = {}
    for _, z in ipairs(region.zones) do
      local zone = { ZoneId = z, LocalName = region.LocalName .. " Zone " .. z:sub(-1):upper(), ZoneType = "AvailabilityZone" }
      if verbose then
        zone.AvailableResourceCreation = { "Instance", "Disk", "VSwitch" }
        zone.AvailableDiskCategories = fixtures.DISK_CATEGORIES
        zone.AvailableVolumeCategories = {}
        zone.AvailableInstanceTypes = type_ids()
      end
      out[#out + 1] = zone
    end
    return { Zones = { Zone = out } }
  end,
}

actions.DescribeInstanceTypeFamilies = {
  op = "custom", honours = { "Generation" },
  handler = function(emu, a)
    engine.region(emu, a)
    local gen = a:str("Generation")
    local out = {}
    for _, t in ipairs(families()) do
      if not gen or t.generation == gen then out[#out + 1] = { InstanceTypeFamilyId = t.family, Generation = t.generation } end
    end
    return { InstanceTypeFamilies = { InstanceTypeFamily = out } }
  end,
}

actions.DescribeInstanceTypes = {
  op = "custom",
  honours = { "InstanceTypes", "InstanceTypeFamily", "InstanceTypeFamilies", "InstanceCategory", "InstanceCategories",
    "MinimumCpuCoreCount", "MaximumCpuCoreCount", "MinimumMemorySize", "MaximumMemorySize", "MinimumEniQuantity",
    "MinimumEniPrivateIpAddressQuantity", "CpuArchitecture", "MaxResults", "NextToken" },
  handler = function(emu, a, ctx)
    local function set(name, one)
      local list = a:list(name)
      if one and a:has(one) then list[#list + 1] = a:str(one) end
      if #list == 0 then return nil end
      local s = {}
      for _, v in ipairs(list) do s[v] = true end
      return s
    end
    local types, fams, cats = set("InstanceTypes"), set("InstanceTypeFamilies", "InstanceTypeFamily"),
      set("InstanceCategories", "InstanceCategory")
    local min_cpu, max_cpu = a:int("MinimumCpuCoreCount"), a:int("MaximumCpuCoreCount")
    local min_mem, max_mem = a:number("MinimumMemorySize"), a:number("MaximumMemorySize")
    local min_eni, min_ips = a:int("MinimumEniQuantity"), a:int("MinimumEniPrivateIpAddressQuantity")
    local arch = a:enum("CpuArchitecture", { "X86", "ARM" })
    local rows = {}
    for _, t in ipairs(fixtures.INSTANCE_TYPES) do
      if (not types or types[t.id]) and (not fams or fams[t.family]) and (not cats or cats[category(t)])
        and (not min_cpu or t.cpu >= min_cpu) and (not max_cpu or t.cpu <= max_cpu)
        and (not min_mem or t.memory >= min_mem) and (not max_mem or t.memory <= max_mem)
        and (not min_eni or t.enis >= min_eni) and (not min_ips or t.ips >= min_ips) and arch ~= "ARM" then
        rows[#rows + 1] = { InstanceTypeId = t.id, InstanceTypeFamily = t.family, CpuCoreCount = t.cpu,
          MemorySize = t.memory, EniQuantity = t.enis, EniPrivateIpAddressQuantity = t.ips,
          EniTotalQuantity = t.enis, EniIpv6AddressQuantity = t.ips, CpuArchitecture = "X86",
          InstanceCategory = category(t), InstanceFamilyLevel = t.burst and "CreditEntryLevel" or "EnterpriseLevel",
          GPUAmount = 0, GPUSpec = "", LocalStorageAmount = 0, DiskQuantity = 17, NvmeSupport = "required" }
      end
    end
    local page, meta = engine.page(emu, a, ctx, rows, { page_size = 1600, page_max = 1600, max_results = 1600 })
    return { InstanceTypes = { InstanceType = page }, NextToken = meta.NextToken }
  end,
}

actions.DescribeAvailableResource = {
  op = "custom", honours = { "DestinationResource", "ZoneId", "InstanceType", "InstanceChargeType", "IoOptimized",
    "NetworkCategory", "SystemDiskCategory", "DataDiskCategory", "ResourceType", "SpotStrategy", "Cores", "Memory" },
  -- the action names its own codes (Invalid.RegionId, Invalid.<Param>, ...) where others
  -- answer InvalidRegionId.NotFound and InvalidParameter
  handler = function(emu, a)
    local rid = a:need("RegionId")
    if not emu.regions:get(rid) then raise("Invalid.RegionId") end
    local dest = a:enum("DestinationResource", { "Zone", "IoOptimized", "InstanceType", "SystemDisk", "DataDisk",
      "Network", "ddh" }, nil, "Invalid.DestinationResource")
    local zone = a:str("ZoneId")
    if zone and emu.zones[zone] ~= rid then raise("InvalidZoneId.NotFound") end
    local itype = a:str("InstanceType")
    a:enum("InstanceChargeType", { "PrePaid", "PostPaid" }, nil, "Invalid.InstanceChargeType")
    a:enum("ResourceType", { "instance", "disk", "reservedinstance", "ddh" }, nil, "Invalid.ResourceType")
    a:enum("SpotStrategy", { "NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo" }, nil, "Invalid.SpotStrategy")
    a:enum("IoOptimized", { "none", "optimized" }, nil, "Invalid.IoOptimized")
    a:enum("NetworkCategory", { "vpc", "classic" }, nil, "Invalid.NetworkCategory")
    local sys_cat, data_cat = a:str("SystemDiskCategory"), a:str("DataDiskCategory")
    local cores, mem = a:int("Cores"), a:number("Memory")
    -- Cores and Memory pick instance types, and only when no InstanceType is given
    if (cores or mem) and itype then raise("InvalidParam.TypeAndCpuMem.Conflict") end
    if dest ~= "InstanceType" then
      if cores then raise("InvalidParam.Cores") end
      if mem then raise("InvalidParam.Memory") end
    end
    local zones = {}
    for _, z in ipairs(emu.regions:get(rid).zones) do
      if not zone or z == zone then
        local supported = {}
        local function add(value, extra)
          local s = { Value = value, Status = "Available", StatusCategory = "WithStock" }
          for k, v in pairs(extra or {}) do s[k] = v end
          supported[#supported + 1] = s
        end
        if dest == "InstanceType" or dest == "Zone" then
          for _, t in ipairs(fixtures.INSTANCE_TYPES) do
            if (not itype or itype == t.id) and (not cores or cores == t.cpu) and (not mem or mem == t.memory) then
              add(t.id)
            end
          end
        elseif dest == "SystemDisk" or dest == "DataDisk" then
          for _, c in ipairs(fixtures.DISK_CATEGORIES) do
            local want = dest == "SystemDisk" and sys_cat or data_cat
            if not want or want == c then
              local lim = fixtures.SIZE_LIMITS[c]
              add(c, { Min = lim[1], Max = lim[2], Unit = "GiB" })
            end
          end
        elseif dest == "Network" then
          add("vpc")
        elseif dest == "IoOptimized" then
          add("optimized")
        end
        zones[#zones + 1] = { ZoneId = z, RegionId = rid, Status = "Available", StatusCategory = "WithStock",
          AvailableResources = { { Type = dest, SupportedResources = supported } } }
      end
    end
    return { AvailableZones = { AvailableZone = zones } }
  end,
}

return { name = "region", product = "ecs", id = "RegionId", actions = actions }
