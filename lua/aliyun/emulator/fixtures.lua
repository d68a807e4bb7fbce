-- The world the emulator starts with: regions and zones, a few Running instances per
-- region (each with its system disk), public images, and ENS edge nodes with idle
-- resources. Fixed data, so that specs and playbooks can name things.
local fixtures = {}

fixtures.ACCOUNT = "1234567890123456"

fixtures.REGIONS = {
  { id = "cn-hangzhou", name = "China (Hangzhou)", zones = { "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j" } },
  { id = "cn-shanghai", name = "China (Shanghai)", zones = { "cn-shanghai-e", "cn-shanghai-f" } },
  { id = "cn-beijing", name = "China (Beijing)", zones = { "cn-beijing-g", "cn-beijing-h" } },
  { id = "ap-southeast-1", name = "Singapore", zones = { "ap-southeast-1a", "ap-southeast-1b" } },
  { id = "eu-central-1", name = "Germany (Frankfurt)", zones = { "eu-central-1a", "eu-central-1b" } },
  { id = "us-west-1", name = "US (Silicon Valley)", zones = { "us-west-1a", "us-west-1b" } },
}

fixtures.DISK_CATEGORIES = { "cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd" }

-- Size limits per category (GiB), from the CreateDisk page.
fixtures.SIZE_LIMITS = {
  cloud = { 5, 2000 },
  cloud_efficiency = { 20, 32768 },
  cloud_ssd = { 20, 32768 },
  cloud_essd = { 20, 32768 },
}

fixtures.IMAGES = {
  { id = "ubuntu_22_04_x64_20G_alibase_20240101.vhd", size = 20, os = "Ubuntu 22.04 64 bit", platform = "Ubuntu" },
  { id = "centos_7_9_x64_20G_alibase_20240101.vhd", size = 20, os = "CentOS 7.9 64 bit", platform = "CentOS" },
  { id = "aliyun_3_x64_40G_alibase_20240101.vhd", size = 40, os = "Alibaba Cloud Linux 3", platform = "Aliyun" },
}

-- Instances per region: three, all Running; the third has no cloud assistant client
-- (so that InstallCloudAssistant has something to do).
fixtures.INSTANCES_PER_REGION = 3

fixtures.INSTANCE_TYPES = { "ecs.g7.large", "ecs.c7.xlarge", "ecs.r7.large" }

-- ENS edge nodes with idle resources for RunServiceSchedule and the rescale actions.
fixtures.ENS_NODES = {
  { id = "cn-chengdu-telecom-2", isp = "telecom", idle = 3 },
  { id = "cn-wuxi-telecom_unicom_cmcc-3", isp = "telecom", idle = 3 },
  { id = "cn-shanghai-cmcc", isp = "cmcc", idle = 2 },
  { id = "cn-chongqing-1", isp = "unicom", idle = 2 },
}

-- ENS system events open for BatchEventRedeployInstance (fixed ids so that playbooks can name them).
fixtures.ENS_EVENTS = {
  { id = "e-emu0000000000000001", resource = "i-emuens000000000000001", type = "Instance:SystemFailure.Redeploy" },
  { id = "e-emu0000000000000002", resource = "i-emuens000000000000002", type = "Instance:SystemMaintenance.Redeploy" },
  { id = "e-emu0000000000000003", resource = "i-emuens000000000000003", type = "Instance:SystemMaintenance.Redeploy" },
}

-- Status codes of DescribeInstancesFullStatus.
fixtures.STATUS_CODES = { Pending = 0, Running = 1, Starting = 2, Stopping = 64, Stopped = 80 }

-- Event type and cycle status codes (DescribeInstancesFullStatus, DescribeInstanceHistoryEvents).
fixtures.EVENT_TYPES = {
  ["SystemMaintenance.Reboot"] = 1,
  ["InstanceExpiration.Stop"] = 34,
  ["SystemFailure.Reboot"] = 65,
  ["InstanceFailure.Reboot"] = 66,
}
fixtures.EVENT_CYCLE = { Executed = 0, Avoided = 8, Canceled = 16, Scheduled = 24, Executing = 32, Failed = 64 }

-- An 8x8 grey baseline JPEG, built by hand (one quantisation table of ones, one-code
-- Huffman tables, a single DC-only block): GetInstanceScreenshot answers a real JPEG.
fixtures.SCREENSHOT_JPEG_HEX = table.concat {
  "ffd8ffe000104a46494600010100000100010000ffdb004300", string.rep("01", 64),
  "ffc0000b080008000801011100",
  "ffc4001400", "01", string.rep("00", 15), "00",
  "ffc4001410", "01", string.rep("00", 15), "00",
  "ffda0008010100003f00", "3f", "ffd9",
}

return fixtures
