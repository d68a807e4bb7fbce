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
  { id = "ubuntu_22_04_x64_20G_alibase_20240101.vhd", size = 20, os = "Ubuntu 22.04 64 bit", platform = "Ubuntu",
    family = "acs:ubuntu_22_04_x64" },
  { id = "centos_7_9_x64_20G_alibase_20240101.vhd", size = 20, os = "CentOS 7.9 64 bit", platform = "CentOS",
    family = "acs:centos_7_9_x64" },
  { id = "aliyun_3_x64_40G_alibase_20240101.vhd", size = 40, os = "Alibaba Cloud Linux 3", platform = "Aliyun",
    family = "acs:alibaba_cloud_linux_3" },
  { id = "win2022_21H2_x64_dtc_en-us_40G_alibase_20240101.vhd", size = 40, os = "Windows Server 2022 64 bit",
    platform = "Windows Server 2022", os_type = "windows", family = "acs:windows_server_2022" },
}

-- Instances per region: three, all Running; the third has no cloud assistant client
-- (so that InstallCloudAssistant has something to do).
fixtures.INSTANCES_PER_REGION = 3

-- The instance types the emulator offers in every zone: id, family, vCPUs, memory (GiB),
-- network interfaces and private IPs per interface, generation.
fixtures.INSTANCE_TYPES = {
  { id = "ecs.g7.large", family = "ecs.g7", cpu = 2, memory = 8, enis = 3, ips = 6, generation = "ecs-5" },
  { id = "ecs.g7.xlarge", family = "ecs.g7", cpu = 4, memory = 16, enis = 4, ips = 15, generation = "ecs-5" },
  { id = "ecs.c7.large", family = "ecs.c7", cpu = 2, memory = 4, enis = 3, ips = 6, generation = "ecs-5" },
  { id = "ecs.c7.xlarge", family = "ecs.c7", cpu = 4, memory = 8, enis = 4, ips = 15, generation = "ecs-5" },
  { id = "ecs.r7.large", family = "ecs.r7", cpu = 2, memory = 16, enis = 3, ips = 6, generation = "ecs-5" },
  { id = "ecs.t6-c1m1.large", family = "ecs.t6", cpu = 2, memory = 2, enis = 1, ips = 1, generation = "ecs-4",
    burst = true },
}

-- The types of the fixture's instances, in turn.
fixtures.FIXTURE_TYPES = { "ecs.g7.large", "ecs.c7.xlarge", "ecs.r7.large" }

-- The RAM roles the account has (the emulator does not emulate RAM; options.ram_roles adds).
fixtures.RAM_ROLES = { "EcsInstanceRole" }

-- The account's default resource group (the emulator does not emulate Resource Manager:
-- any rg-<letters and digits> id is taken as an existing group).
fixtures.DEFAULT_RESOURCE_GROUP = "rg-acfmemu0default"

-- ENS edge nodes with idle resources for RunServiceSchedule and the rescale actions.
fixtures.ENS_NODES = {
  { id = "cn-chengdu-telecom-2", isp = "telecom", idle = 3 },
  { id = "cn-wuxi-telecom_unicom_cmcc-3", isp = "telecom", idle = 3 },
  { id = "cn-shanghai-cmcc", isp = "cmcc", idle = 2 },
  { id = "cn-chongqing-1", isp = "unicom", idle = 2 },
}

-- ENS instance types of the fixture's nodes: vCPUs, memory (GiB).
fixtures.ENS_INSTANCE_TYPES = {
  { id = "ens.sn1.stiny", family = "ens.sn1", cpu = 1, memory = 1 },
  { id = "ens.sn1.small", family = "ens.sn1", cpu = 1, memory = 2 },
  { id = "ens.sn1.medium", family = "ens.sn1", cpu = 2, memory = 4 },
  { id = "ens.sn1.large", family = "ens.sn1", cpu = 4, memory = 8 },
  { id = "ens.sn1.xlarge", family = "ens.sn1", cpu = 8, memory = 16 },
  { id = "ens.se1.large", family = "ens.se1", cpu = 4, memory = 32 },
}

-- ENS public images (size in GiB).
fixtures.ENS_IMAGES = {
  { id = "centos_6_08_64_20G_alibase_20171208", size = 20, os = "CentOS 6.8 64bit", platform = "CentOS" },
  { id = "centos_7_9_x64_20G_alibase_20240101", size = 20, os = "CentOS 7.9 64bit", platform = "CentOS" },
  { id = "ubuntu_22_04_x64_20G_alibase_20240101", size = 20, os = "Ubuntu 22.04 64bit", platform = "Ubuntu" },
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
