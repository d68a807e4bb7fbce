-- JSON decoding: core.json_decode beside Debian's lua-cjson on the same 2 MB
-- DescribeInstances-shaped response, and whether 64-bit integers survive exactly.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"
local core = lib.core

local SECONDS = tonumber(os.getenv("BENCH_SECONDS")) or 2
local TARGET_BYTES = 2 * 1024 * 1024

-- A deterministic generator (LCG), so every run decodes the same bytes.
local seed = 20240501
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end

local function hexid(prefix, n)
  local t = {}
  for i = 1, n do
    local d = rnd(36)
    t[i] = string.char(d < 10 and 48 + d or 87 + d)
  end
  return prefix .. table.concat(t)
end

local STATUSES = { "Running", "Stopped", "Starting", "Stopping" }
local ZONES = { "cn-hangzhou-b", "cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-i" }
local TYPES = { "ecs.g7.large", "ecs.c7.xlarge", "ecs.r7.2xlarge", "ecs.g6e.4xlarge" }

-- 64-bit integers above 2^53 are placed in each instance (SerialNumber64): a decoder that
-- goes through doubles cannot give them back exactly.
local BIG_BASE = 9007199254740993 -- 2^53 + 1

local function instance(i)
  local id = hexid("i-bp1", 17)
  local ip = string.format("10.%d.%d.%d", rnd(256), rnd(256), 1 + rnd(254))
  local created = string.format("2024-%02d-%02dT%02d:%02dZ", 1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60))
  local tags = {}
  for t = 1, 1 + rnd(4) do
    tags[t] = string.format('{"TagKey":"key-%d","TagValue":"value \\"%d\\" \\u963f\\u91cc"}', t, rnd(1000))
  end
  local disks = {}
  for d = 1, 1 + rnd(3) do
    disks[d] = string.format('{"DiskId":"%s","Size":%d,"Category":"cloud_essd","PerformanceLevel":"PL%d"}',
      hexid("d-bp1", 17), 20 + rnd(2000), rnd(4))
  end
  return table.concat {
    '{"InstanceId":"', id, '","InstanceName":"web-', tostring(i), '","Description":"bench instance ',
    tostring(i), ' \\/ line\\nbreak","ImageId":"aliyun_3_x64_20G_alibase_20240528.vhd",',
    '"RegionId":"cn-hangzhou","ZoneId":"', ZONES[1 + rnd(4)], '","InstanceType":"', TYPES[1 + rnd(4)],
    '","InstanceTypeFamily":"ecs.g7","Cpu":', tostring(1 << (1 + rnd(5))), ',"Memory":',
    tostring(1024 * (1 + rnd(64))), ',"Status":"', STATUSES[1 + rnd(4)],
    '","CreationTime":"', created, '","StartTime":"', created, '","ExpiredTime":"2099-12-31T15:59Z",',
    '"InternetChargeType":"PayByTraffic","InternetMaxBandwidthIn":', tostring(rnd(200)),
    ',"InternetMaxBandwidthOut":', tostring(rnd(100)), ',"InstanceChargeType":"PostPaid",',
    '"SpotPriceLimit":', string.format("%.3f", rnd(100000) / 1000), ',"SpotStrategy":"NoSpot",',
    '"DeletionProtection":', (rnd(2) == 1 and "true" or "false"), ',"IoOptimized":true,',
    '"SerialNumber":"', hexid("", 8), '-', hexid("", 4), '-', hexid("", 12), '",',
    '"SerialNumber64":', tostring(BIG_BASE + 2 * i), ',',
    '"HostName":"iZbp1', hexid("", 12), 'Z","OSName":"Alibaba Cloud Linux  3.2104 LTS 64\\u4f4d",',
    '"OSType":"linux","GPUAmount":0,"GPUSpec":"","CreditSpecification":"","DeploymentSetId":"",',
    '"KeyPairName":null,"ResourceGroupId":"rg-acfm', hexid("", 11), '",',
    '"VpcAttributes":{"VpcId":"', hexid("vpc-bp1", 17), '","VSwitchId":"', hexid("vsw-bp1", 17),
    '","NatIpAddress":"","PrivateIpAddress":{"IpAddress":["', ip, '"]}},',
    '"PublicIpAddress":{"IpAddress":[]},"InnerIpAddress":{"IpAddress":[]},',
    '"EipAddress":{"AllocationId":"","IpAddress":"","InternetChargeType":"","Bandwidth":0},',
    '"SecurityGroupIds":{"SecurityGroupId":["', hexid("sg-bp1", 17), '"]},',
    '"NetworkInterfaces":{"NetworkInterface":[{"NetworkInterfaceId":"', hexid("eni-bp1", 17),
    '","Type":"Primary","MacAddress":"00:16:3e:', string.format("%02x:%02x:%02x", rnd(256), rnd(256), rnd(256)),
    '","PrimaryIpAddress":"', ip, '","PrivateIpSets":{"PrivateIpSet":[{"PrivateIpAddress":"', ip,
    '","Primary":true}]}}]},',
    '"Tags":{"Tag":[', table.concat(tags, ","), ']},',
    '"Disks":{"Disk":[', table.concat(disks, ","), ']},',
    '"OperationLocks":{"LockReason":[]},"MetadataOptions":{"HttpEndpoint":"enabled","HttpTokens":"optional"},',
    '"CpuOptions":{"CoreCount":', tostring(1 + rnd(16)), ',"ThreadsPerCore":2,"Numa":""},',
    '"StoppedMode":"Not-applicable","Recyclable":false,"DeviceAvailable":true,"LocalStorageAmount":0}',
  }
end

local function generate()
  local parts, size, i = {}, 0, 0
  while size < TARGET_BYTES - 4096 do
    i = i + 1
    local s = instance(i)
    parts[i] = s
    size = size + #s + 1
  end
  local body = '{"RequestId":"8B6A1B9E-1234-4C2D-9E8F-0A1B2C3D4E5F","TotalCount":' .. i
    .. ',"PageNumber":1,"PageSize":' .. i .. ',"NextToken":"","Instances":{"Instance":['
    .. table.concat(parts, ",") .. "]}}"
  return body, i
end

local function run()
  local body, count = generate()
  local ok, cjson = pcall(require, "cjson")
  local ours = core.json_decode(body)
  assert(type(ours) == "table" and #ours.Instances.Instance == count, "core.json_decode failed on the bench document")

  -- exact integers: every SerialNumber64 must come back as the integer that was written
  local function exact(doc)
    local good = 0
    for i, inst in ipairs(doc.Instances.Instance) do
      local v = inst.SerialNumber64
      if math.type(v) == "integer" and v == BIG_BASE + 2 * i then good = good + 1 end
    end
    return good
  end
  local ours_exact = exact(ours)

  local mb = #body / (1024 * 1024)
  if not ok then
    local ours_rate = lib.best_rate(5, function() core.json_decode(body) end, 1000, SECONDS / 10, 1)
    lib.row(string.format("JSON decode, %.1f MB DescribeInstances (%d instances)", mb, count),
      string.format("%.0f MB/s", ours_rate * mb), "lua-cjson not installed", "-", ">= 1x", "n/a")
    return
  end
  local theirs = cjson.decode(body)
  local theirs_exact = exact(theirs)
  -- rounds alternate between the two decoders, so a busy spell on the machine hits both;
  -- the best round of each counts
  local ours_rate, theirs_rate = 0, 0
  for _ = 1, 7 do
    ours_rate = math.max(ours_rate, (lib.rate(function() core.json_decode(body) end, 1000, SECONDS / 14, 1)))
    theirs_rate = math.max(theirs_rate, (lib.rate(function() cjson.decode(body) end, 1000, SECONDS / 14, 1)))
  end
  local r = ours_rate / theirs_rate
  lib.row(string.format("JSON decode, %.1f MB DescribeInstances (%d instances)", mb, count),
    string.format("%.0f MB/s", ours_rate * mb), string.format("%.0f MB/s lua-cjson", theirs_rate * mb),
    lib.fmt_ratio(r), ">= 1x", r >= 1)
  lib.row("JSON integers > 2^53 decoded exactly", string.format("%d/%d", ours_exact, count),
    string.format("%d/%d lua-cjson", theirs_exact, count), "-", "all exact", ours_exact == count)
end

run()
