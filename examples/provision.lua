-- A provisioning playbook: a security group and a key pair, a launch template and an
-- instance launched from it and waited on until Running (Pending, Starting, Running), tags,
-- two data disks attached and waited on until In_use, a cloud assistant command whose output
-- is printed, an ENS device scheduled, then everything cleaned up (the instance stopped and
-- deleted, the key pair and the security group deleted). Progress is printed as it goes; any failure ends
-- it with a non-zero exit status (after cleaning up what was made).
--
-- With no ALIYUN_ENDPOINT it starts the local emulator over HTTP (nginx on 127.0.0.1) and
-- uses its key pair; with ALIYUN_ENDPOINT (and ALIYUN_ENS_ENDPOINT for ENS) it talks to that
-- endpoint with the credentials of the usual chain (environment, profile ...).
--   lua5.4 examples/provision.lua          (or: make demo)
local aliyun = require "aliyun"
local core = require "aliyun.core"

local REGION = os.getenv("ALIYUN_REGION") or "cn-hangzhou"

local function say(fmt, ...)
  io.write(string.format(fmt, ...), "\n")
  io.flush()
end

-- A failure: raised with error() and reported once at the top.
local function check(res, err, what)
  if res == nil then error({ what = what or (type(err) == "table" and err.action) or "a call", err = err }, 0) end
  return res
end

-- Polls until ok(value) or the deadline; bounded, sleeping between tries.
local function wait_for(what, probe, ok, seconds)
  local deadline = core.monotonic() + (seconds or 60)
  while true do
    local v = probe()
    if ok(v) then return v end
    if core.monotonic() > deadline then error({ what = "waiting for " .. what, err = "timed out" }, 0) end
    core.sleep(0.5)
  end
end

local server
local opts = {}
local endpoint = os.getenv("ALIYUN_ENDPOINT")
if endpoint and endpoint ~= "" then
  opts.endpoint = endpoint
  say("using the endpoint %s", endpoint)
else
  local err
  server, err = require("aliyun.emulator.server").start {}
  if not server then
    io.stderr:write("provision: could not start the emulator: ", tostring(err), "\n")
    os.exit(1)
  end
  opts.endpoint, opts.access_key_id, opts.access_key_secret = server.url, "testid", "testsecret"
  say("started the local emulator on %s", server.url)
end

local ecs = aliyun.ecs(opts)
local ens_opts = {}
for k, v in pairs(opts) do ens_opts[k] = v end
ens_opts.endpoint = os.getenv("ALIYUN_ENS_ENDPOINT") or opts.endpoint
local ens = aliyun.ens(ens_opts)

-- What was made, so that cleanup knows what to undo.
local made = { disks = {} }

local function disk_status(id)
  local res = check(ecs:DescribeDisks { RegionId = REGION, DiskIds = { id } }, nil, "DescribeDisks")
  local d = res.Disks.Disk[1]
  return d and d.Status or "gone"
end

-- Polls an instance until its Status is `want`, printing each state it passes through.
local function wait_instance(id, want)
  local seen
  return wait_for(id .. " to be " .. want, function()
    local r = check(ecs:DescribeInstances { RegionId = REGION, InstanceIds = { id } }, nil, "DescribeInstances")
    local i = r.Instances.Instance[1]
    local status = i and i.Status or "gone"
    if status ~= seen then
      say("  %s is %s", id, status)
      seen = status
    end
    return i
  end, function(i) return i and i.Status == want end, 120)
end

local function provision()
  -- the region's default network: a vSwitch in the first zone that has one
  local vsw = check(ecs:DescribeVSwitches { RegionId = REGION, IsDefault = true }).VSwitches.VSwitch[1]
  if not vsw then error({ what = "DescribeVSwitches", err = "no default vSwitch in " .. REGION }, 0) end

  -- a security group that lets SSH and HTTP in, and a key pair
  local sg = check(ecs:CreateSecurityGroup { RegionId = REGION, VpcId = vsw.VpcId, SecurityGroupName = "provision-web",
    Description = "made by examples/provision.lua" })
  made.security_group = sg.SecurityGroupId
  check(ecs:AuthorizeSecurityGroup { RegionId = REGION, SecurityGroupId = sg.SecurityGroupId, Permissions = {
    { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0", Description = "ssh" },
    { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", Description = "http" } } })
  say("created security group %s with SSH and HTTP open", sg.SecurityGroupId)
  local key_name = "provision-key-" .. os.time()
  check(ecs:ImportKeyPair { RegionId = REGION, KeyPairName = key_name,
    PublicKeyBody = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProvisionDemoKeyOnlyForTheEmulator demo@lua-aliyun" })
  made.key_pair = key_name
  say("imported key pair %s", key_name)

  -- a launch template, and an instance launched from it, waited on until Running
  local image = os.getenv("ALIYUN_IMAGE_ID") or "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
  local name = "provision-" .. os.time()
  local tpl = check(ecs:CreateLaunchTemplate { RegionId = REGION, LaunchTemplateName = name,
    ImageId = image, InstanceType = os.getenv("ALIYUN_INSTANCE_TYPE") or "ecs.g7.large", ZoneId = vsw.ZoneId,
    SystemDisk = { Category = "cloud_essd", Size = 40 }, VersionDescription = "made by examples/provision.lua" })
  made.template = tpl.LaunchTemplateId
  say("created launch template %s (%s)", name, tpl.LaunchTemplateId)
  local run = check(ecs:RunInstances { RegionId = REGION, LaunchTemplateId = tpl.LaunchTemplateId,
    SecurityGroupId = sg.SecurityGroupId, VSwitchId = vsw.VSwitchId, KeyPairName = key_name,
    InstanceName = "provision-web-1", InternetMaxBandwidthOut = 5, Tag = { { Key = "app", Value = "provision" } } })
  made.instance = run.InstanceIdSets.InstanceIdSet[1]
  say("launched instance %s, waiting until Running", made.instance)
  local inst = wait_instance(made.instance, "Running")
  say("instance %s (%s) is Running at %s, public IP %s", inst.InstanceId, inst.InstanceType,
    inst.VpcAttributes.PrivateIpAddress.IpAddress[1], tostring(inst.PublicIpAddress.IpAddress[1]))
  check(ecs:TagResources { RegionId = REGION, ResourceType = "instance", ResourceId = { inst.InstanceId },
    Tag = { { Key = "owner", Value = "demo" } } })
  local tags = check(ecs:ListTagResources { RegionId = REGION, ResourceType = "instance",
    ResourceId = { inst.InstanceId } }).TagResources.TagResource
  local shown = {}
  for _, t in ipairs(tags) do shown[#shown + 1] = t.TagKey .. "=" .. t.TagValue end
  table.sort(shown)
  say("instance tags: %s", table.concat(shown, ", "))

  local status = check(ecs:DescribeCloudAssistantStatus { RegionId = REGION, InstanceId = { inst.InstanceId } })
  local st = status.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[1]
  if not st or tostring(st.CloudAssistantStatus):lower() ~= "true" then
    check(ecs:InstallCloudAssistant { RegionId = REGION, InstanceId = { inst.InstanceId } })
    say("installed the cloud assistant on %s", inst.InstanceId)
  end

  -- two data disks, attached, waited on until In_use
  for i = 1, 2 do
    local d = check(ecs:CreateDisk { RegionId = REGION, ZoneId = inst.ZoneId, Size = 20 * i,
      DiskCategory = "cloud_essd", DiskName = "provision-data-" .. i })
    made.disks[#made.disks + 1] = d.DiskId
    say("created disk %s (%d GiB), waiting until Available", d.DiskId, 20 * i)
  end
  for _, id in ipairs(made.disks) do
    wait_for(id .. " to be Available", function() return disk_status(id) end, function(s) return s == "Available" end)
    check(ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = id })
    say("attaching %s to %s", id, inst.InstanceId)
  end
  for _, id in ipairs(made.disks) do
    wait_for(id .. " to be In_use", function() return disk_status(id) end, function(s) return s == "In_use" end)
    say("disk %s is In_use", id)
  end

  -- a cloud assistant command, run on the instance, its output printed
  local script = "echo provisioned by lua-aliyun\nhostname\nuname -a\n"
  local cmd = check(ecs:CreateCommand { RegionId = REGION, Name = "provision-check", Type = "RunShellScript",
    CommandContent = core.base64(script), Timeout = 60 })
  made.command = cmd.CommandId
  local inv = check(ecs:InvokeCommand { RegionId = REGION, CommandId = cmd.CommandId, InstanceId = { inst.InstanceId } })
  say("invoked command %s as %s, waiting for it to finish", cmd.CommandId, inv.InvokeId)
  local result = wait_for("invocation " .. inv.InvokeId, function()
    local r = check(ecs:DescribeInvocationResults { RegionId = REGION, InvokeId = inv.InvokeId })
    return r.Invocation.InvocationResults.InvocationResult[1]
  end, function(r) return r and r.InvokeRecordStatus ~= "Running" end)
  say("command %s on %s (exit code %s), output:", result.InvokeRecordStatus, result.InstanceId, tostring(result.ExitCode))
  for line in (core.base64_decode(result.Output) or ""):gmatch("[^\n]+") do say("  | %s", line) end
  if result.InvokeRecordStatus ~= "Finished" or result.ExitCode ~= 0 then
    error({ what = "the cloud assistant command", err = "ended " .. result.InvokeRecordStatus }, 0)
  end

  -- an ENS device scheduled on an idle edge resource
  made.ens = { AppId = "provision-app", Uuid = "provision-device-1", ClientIp = "180.166.45.146" }
  local sched = check(ens:RunServiceSchedule { AppId = made.ens.AppId, Uuid = made.ens.Uuid,
    ClientIp = made.ens.ClientIp, ServiceAction = "Start",
    ServiceCommands = { { containerName = "android", commands = { "ls -l /data" } } } })
  say("scheduled ENS device %s on %s (%s:%s)", made.ens.Uuid, sched.InstanceId, sched.InstanceIp,
    tostring(sched.InstancePort))
end

-- Undoes what was made, newest first; reports but does not stop on a failure.
local function cleanup()
  local ok = true
  local function try(res, err, what)
    if res == nil then
      ok = false
      say("cleanup: %s failed: %s", what, tostring(err))
    end
    return res
  end
  if made.ens then
    if try(ens:RunServiceSchedule { AppId = made.ens.AppId, Uuid = made.ens.Uuid, ClientIp = made.ens.ClientIp,
      ServiceAction = "Stop" }) then say("released ENS device %s", made.ens.Uuid) end
  end
  if made.command then
    if try(ecs:DeleteCommand { RegionId = REGION, CommandId = made.command }) then
      say("deleted command %s", made.command)
    end
  end
  for _, id in ipairs(made.disks) do
    local pok, perr = pcall(function()
      local s = disk_status(id)
      if s == "Creating" or s == "Attaching" then
        s = wait_for(id .. " to settle", function() return disk_status(id) end,
          function(x) return x == "Available" or x == "In_use" end)
      end
      if s == "In_use" then
        check(ecs:DetachDisk { InstanceId = made.instance, DiskId = id })
        say("detaching %s", id)
        wait_for(id .. " to be Available", function() return disk_status(id) end, function(x) return x == "Available" end)
      end
      check(ecs:DeleteDisk { DiskId = id })
      say("deleted disk %s", id)
    end)
    if not pok then
      ok = false
      say("cleanup: disk %s: %s", id, type(perr) == "table" and tostring(perr.err) or tostring(perr))
    end
  end
  if made.instance then
    local pok, perr = pcall(function()
      local i = check(ecs:DescribeInstances { RegionId = REGION, InstanceIds = { made.instance } }).Instances.Instance[1]
      if i and i.Status ~= "Stopped" then
        if i.Status ~= "Running" then wait_instance(made.instance, "Running") end
        check(ecs:StopInstance { InstanceId = made.instance })
        say("stopping instance %s", made.instance)
        wait_instance(made.instance, "Stopped")
      end
      check(ecs:DeleteInstance { InstanceId = made.instance })
      say("deleted instance %s (its system disk and network interface went with it)", made.instance)
    end)
    if not pok then
      ok = false
      say("cleanup: instance %s: %s", made.instance, type(perr) == "table" and tostring(perr.err) or tostring(perr))
    end
  end
  if made.key_pair then
    if try(ecs:DeleteKeyPairs { RegionId = REGION, KeyPairNames = { made.key_pair } }) then
      say("deleted key pair %s", made.key_pair)
    end
  end
  if made.security_group then
    if try(ecs:DeleteSecurityGroup { RegionId = REGION, SecurityGroupId = made.security_group }) then
      say("deleted security group %s", made.security_group)
    end
  end
  if made.template then
    if try(ecs:DeleteLaunchTemplate { RegionId = REGION, LaunchTemplateId = made.template }) then
      say("deleted launch template %s", made.template)
    end
  end
  return ok
end

local pok, failure = pcall(provision)
if not pok then
  local what = type(failure) == "table" and failure.what or "the playbook"
  local err = type(failure) == "table" and failure.err or failure
  say("FAILED: %s: %s", tostring(what), tostring(err))
end
local clean = cleanup()
if server then
  server.stop()
  say("stopped the local emulator")
end
if pok and clean then say("done: everything provisioned, checked and cleaned up") end
os.exit((pok and clean) and 0 or 1)
