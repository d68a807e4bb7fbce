-- The one-shot command line: bin/aliyun-lua run as a subprocess against the in-process
-- emulator (--emulator), with a clean environment and a temporary HOME; its stdout, its
-- stderr and its exit codes. The parts that need a moving clock (waiters) run cli.main in
-- this process with the emulator's transport handed in.
local aliyun = require "aliyun"
local cli = require "aliyun.cli"
local core = require "aliyun.core"
local emulator = require "aliyun.emulator"
local json = require "aliyun.json"

local ROOT = debug.getinfo(1, "S").source:sub(2):match("^(.*)/spec/cli_spec%.lua$") or "."
if ROOT:sub(1, 1) ~= "/" then ROOT = os.getenv("PWD") .. "/" .. ROOT end
local BIN = ROOT .. "/bin/aliyun-lua"

local shell = require "support.shell"
local quote, slurp = shell.quote, shell.slurp

local tmp -- a private directory: HOME and the stderr file
local _ -- what a case does not look at (stdout, mostly)

-- run({args...}, {env}) -> exit code, stdout, stderr
local function run(args, env)
  return shell.command(tmp, BIN, args, env)
end

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local DISK -- the first fixture disk of cn-hangzhou (same seed, same ids)
local INSTANCE
local ZONE

setup(function()
  local p = assert(io.popen("mktemp -d /tmp/aliyun-cli-spec.XXXXXX"))
  tmp = p:read("l")
  p:close()
  assert(tmp and tmp ~= "")
  -- profiles, none of them the current one (so no default region creeps into other cases)
  os.execute("mkdir -p " .. quote(tmp .. "/.aliyun"))
  local f = assert(io.open(tmp .. "/.aliyun/config.json", "w"))
  f:write(json.encode { current = "none", profiles = {
    { name = "shanghai", mode = "AK", access_key_id = "testid", access_key_secret = "testsecret", region_id = "cn-shanghai" },
    { name = "wrong", mode = "AK", access_key_id = "testid", access_key_secret = "notthesecret", region_id = "cn-hangzhou" },
    { name = "typo", mode = "AK", access_key_id = "testid", access_key_secret = "testsecret", region_id = "cn-hangzou" },
  } })
  f:close()
  os.execute("chmod 600 " .. quote(tmp .. "/.aliyun/config.json")) -- as aliyun-cli writes it
  local ecs = aliyun.ecs { endpoint = "http://127.0.0.1", access_key_id = "testid", access_key_secret = "testsecret",
    transport = emulator.transport {} }
  DISK = assert(ecs:DescribeDisks { RegionId = "cn-hangzhou" }).Disks.Disk[1].DiskId
  INSTANCE = assert(ecs:DescribeInstances { RegionId = "cn-hangzhou" }).Instances.Instance[1].InstanceId
  ZONE = assert(ecs:DescribeZones { RegionId = "cn-hangzhou" }).Zones.Zone[1].ZoneId
end)

teardown(function()
  if tmp and tmp:match("^/tmp/aliyun%-cli%-spec%.") then os.execute("rm -rf " .. quote(tmp)) end
end)

describe("aliyun-lua one-shot", function()
  it("prints the call's JSON on stdout and exits 0", function()
    local code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou",
      "--DiskIds", '["' .. DISK .. '"]' }
    assert.equal(0, code)
    assert.equal("", err)
    local r = assert(json.decode(out))
    assert.equal(1, r.TotalCount)
    assert.equal(DISK, r.Disks.Disk[1].DiskId)
    assert.truthy(out:find('\n  "Disks": {', 1, true)) -- indented, keys sorted
  end)

  it("takes --Name=value and converts numbers by the parameter's type", function()
    local code, out = run { "--emulator", "ecs", "DescribeDisks", "--RegionId=cn-hangzhou", "--PageSize=2",
      "--PageNumber", "1" }
    assert.equal(0, code)
    local r = json.decode(out)
    assert.equal(2, r.PageSize)
    assert.equal(2, #r.Disks.Disk)
  end)

  it("fails validation with exit 1 and one line on stderr, nothing on stdout", function()
    local code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--DiskIds", '["d-1"]' }
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal(1, #lines(err))
    assert.truthy(err:find("validation: missing required parameter RegionId", 1, true))

    code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--DiskId", "d-1" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("unknown parameter DiskId", 1, true), err)
    assert.truthy(err:find("DiskIds", 1, true), err) -- the nearest name is offered

    code, out, err = run { "--emulator", "ecs", "CreateDisk", "--RegionId", "cn-hangzhou", "--Size", "big" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("Size", 1, true), err)
    assert.equal(1, #lines(err))

    -- a list parameter whose JSON is broken is refused before anything is sent
    code, out, err = run { "--emulator", "ecs", "RunInstances", "--RegionId", "cn-hangzhou", "--SecurityGroupIds", "[oops" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("SecurityGroupIds is not valid JSON", 1, true), err)
  end)

  it("names the nearest action for a misspelt one", function()
    local code, out, err = run { "--emulator", "ecs", "DescribeDisk", "--RegionId", "cn-hangzhou" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("did you mean DescribeDisks", 1, true), err)
  end)

  it("gives the service's error as one line with exit 1", function()
    local code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "xx-nowhere-1" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal(1, #lines(err))
    assert.truthy(err:find("^aliyun DescribeDisks: service %(HTTP 404%) InvalidRegionId.NotFound: .*%[RequestId [%w-]+%]\n$"), err)
  end)

  it("reports missing credentials as one line, never reaching the network", function()
    local code, out, err = run({ "--endpoint", "http://127.0.0.1:9", "ecs", "DescribeRegions" },
      { ALIBABA_CLOUD_CONFIG_FILE = "/nonexistent/config.json" })
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal(1, #lines(err))
    assert.truthy(err:find("credentials", 1, true), err)
  end)

  it("--profile picks the key pair and the default region from ~/.aliyun/config.json", function()
    local code, out, err = run { "--emulator", "--profile", "shanghai", "ecs", "DescribeDisks", "--dryrun" }
    assert.equal(0, code, err)
    local url = json.decode(out).url
    assert.truthy(url:find("RegionId=cn-shanghai", 1, true), url)
    assert.truthy(url:find("AccessKeyId=testid", 1, true), url)
    code, out, err = run { "--emulator", "--profile", "shanghai", "ecs", "DescribeRegions" }
    assert.equal(0, code, err)
    assert.truthy(json.decode(out).Regions)
    -- --region wins over the profile's region
    code, out = run { "--emulator", "--profile", "shanghai", "--region", "cn-beijing", "ecs", "DescribeDisks", "--dryrun" }
    assert.equal(0, code)
    assert.truthy(json.decode(out).url:find("RegionId=cn-beijing", 1, true))
    -- the profile's key is the one used: a wrong secret is refused by the service
    code, out, err = run { "--emulator", "--profile", "wrong", "ecs", "DescribeRegions" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal(1, #lines(err))
    assert.truthy(err:find("SignatureDoesNotMatch", 1, true), err)
    assert.is_nil(err:find("notthesecret", 1, true))
    code, out, err = run { "--emulator", "--profile", "nosuch", "ecs", "DescribeRegions" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("no profile named 'nosuch'", 1, true), err)
  end)

  it("refuses unknown options and products with exit 2", function()
    local code, _, err = run { "--bogus" }
    assert.equal(2, code)
    assert.truthy(err:find("unknown option --bogus", 1, true))
    code, _, err = run { "ecz", "DescribeDisks" }
    assert.equal(2, code)
    assert.truthy(err:find("did you mean ecs", 1, true), err)
    code, _, err = run { "--output", "xml", "ecs", "DescribeRegions" }
    assert.equal(2, code)
    assert.truthy(err:find("json, table or cols=A,B", 1, true), err)
    code, _, err = run { "ecs" }
    assert.equal(2, code)
    assert.truthy(err:find("an action is needed", 1, true), err)
  end)

  describe("aliyun-cli's spellings", function()
    it("--output cols= rows= num= (no format word) prints a table by JMESPath rows", function()
      local code, out, err = run { "--emulator", "ecs", "DescribeInstances", "--RegionId", "cn-hangzhou",
        "--output", "cols=InstanceId,Status", "rows=Instances.Instance[]", "num=true" }
      assert.equal(0, code, err)
      local l = lines(out)
      assert.truthy(l[1]:match("^Num | InstanceId%s+| Status$"), l[1])
      assert.equal("0   | " .. INSTANCE .. " | Running", l[3])
      assert.equal(5, #l) -- header, rule, three instances
      -- nested fields and the [n] path syntax in a column
      code, out, err = run { "--emulator", "ecs", "DescribeInstances", "--RegionId", "cn-hangzhou",
        "--output", "table", "cols=InstanceId,VpcAttributes.PrivateIpAddress.IpAddress[0]", "rows=Instances.Instance" }
      assert.equal(0, code, err)
      assert.truthy(lines(out)[3]:match("^i%-%w+ | %d+%.%d+%.%d+%.%d+$"), out)
    end)

    it("--output with a column or rows path that finds nothing is an error, not blanks", function()
      local code, out, err = run { "--emulator", "ecs", "DescribeInstances", "--RegionId", "cn-hangzhou",
        "--output", "cols=InstanceId,Statu", "rows=Instances.Instance[]" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("no field Statu in the rows of Instances.Instance[]; did you mean Status?", 1, true), err)
      code, out, err = run { "--emulator", "ecs", "DescribeInstances", "--RegionId", "cn-hangzhou",
        "--output", "cols=InstanceId", "rows=Instances.Instances[]" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("finds nothing in the result; its list is at Instances.Instance[]", 1, true), err)
      code, _, err = run { "--emulator", "ecs", "DescribeInstances", "--output", "cols=A", "rows=Instances.Instance[?Status=='x']" }
      assert.equal(2, code)
      assert.truthy(err:find("is not supported", 1, true), err)
      code, _, err = run { "--emulator", "ecs", "DescribeInstances", "--output", "json", "cols=A" }
      assert.equal(2, code)
      assert.truthy(err:find("leave out json", 1, true), err)
    end)

    it("takes flat --Name.N.Field parameters for lists and structures", function()
      local code, out, err = run { "--emulator", "ecs", "CreateDisk", "--RegionId", "cn-hangzhou", "--ZoneId", ZONE,
        "--Size", "20", "--Tag.1.Key", "env", "--Tag.1.Value", "prod", "--Tag.2.Key", "team", "--dryrun" }
      assert.equal(0, code, err)
      local url = json.decode(out).url
      assert.truthy(url:find("&Tag.1.Key=env&Tag.1.Value=prod&Tag.2.Key=team&", 1, true), url)
      -- a structure's fields, typed by the tables
      code, out, err = run { "--emulator", "ecs", "RunInstances", "--RegionId", "cn-hangzhou", "--ImageId", "m-1",
        "--InstanceType", "ecs.g6.large", "--SystemDisk.Category", "cloud_essd", "--SystemDisk.Size", "40", "--dryrun" }
      assert.equal(0, code, err)
      url = json.decode(out).url
      assert.truthy(url:find("SystemDisk.Category=cloud_essd", 1, true), url)
      assert.truthy(url:find("SystemDisk.Size=40", 1, true), url)
      -- a hole in the numbering is refused before anything is sent
      code, out, err = run { "--emulator", "ecs", "CreateDisk", "--RegionId", "cn-hangzhou", "--ZoneId", ZONE,
        "--Tag.1.Key", "a", "--Tag.3.Key", "c" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("hole", 1, true), err)
      -- and the call itself goes through: the disk carries the tag
      code, out, err = run { "--emulator", "ecs", "CreateDisk", "--RegionId", "cn-hangzhou", "--ZoneId", ZONE,
        "--Size", "20", "--Tag.1.Key", "env", "--Tag.1.Value", "prod" }
      assert.equal(0, code, err)
      assert.truthy(json.decode(out).DiskId, out)
    end)

    it("takes the key pair from --access-key-id and --access-key-secret (and --sts-token)", function()
      local code, out, err = run { "--emulator", "--access-key-id", "testid", "--access-key-secret", "notit", "ecs",
        "DescribeRegions" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("SignatureDoesNotMatch", 1, true), err)
      assert.is_nil(err:find("notit", 1, true))
      code, _, err = run { "--emulator", "--access-key-id", "testid", "--access-key-secret", "testsecret", "ecs",
        "DescribeRegions" }
      assert.equal(0, code, err)
      -- the token travels (and a dry run masks it, with the signature)
      code, out, err = run { "--emulator", "--access-key-id", "stsid", "--access-key-secret", "s", "--sts-token", "tok-SECRET",
        "ecs", "DescribeRegions", "--cli-dry-run" }
      assert.equal(0, code, err)
      local r = json.decode(out)
      assert.truthy(r.url:find("SecurityToken=****", 1, true), r.url)
      assert.truthy(r.url:find("Signature=****", 1, true), r.url)
      assert.is_nil(out:find("tok-SECRET", 1, true))
      assert.is_nil(out:find("\"s\"", 1, true))
      code, _, err = run { "--emulator", "--access-key-id", "testid", "ecs", "DescribeRegions" }
      assert.equal(2, code)
      assert.truthy(err:find("--access-key-id and --access-key-secret go together", 1, true), err)
    end)

    it("--quiet prints nothing on success and keeps the exit code", function()
      local code, out, err = run { "--emulator", "--quiet", "ecs", "DescribeRegions" }
      assert.equal(0, code, err)
      assert.equal("", out)
      code, out, err = run { "--emulator", "-q", "ecs", "DescribeDisks" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("RegionId", 1, true), err)
    end)

    it("--insecure sends plain HTTP, --secure HTTPS; a port with no scheme is refused", function()
      local code, out, err = run { "--insecure", "--region", "cn-hangzhou", "--access-key-id", "a", "--access-key-secret", "b",
        "ecs", "DescribeRegions", "--dryrun" }
      assert.equal(0, code, err)
      assert.truthy(json.decode(out).url:find("^http://ecs%-cn%-hangzhou%.aliyuncs%.com/"), out)
      code, out = run { "--secure", "--endpoint", "ecs.example.test", "--access-key-id", "a", "--access-key-secret", "b",
        "ecs", "DescribeRegions", "--dryrun" }
      assert.equal(0, code)
      assert.truthy(json.decode(out).url:find("^https://ecs%.example%.test/"), out)
      code, _, err = run { "--insecure", "--endpoint", "https://ecs.example.test", "ecs", "DescribeRegions" }
      assert.equal(2, code)
      assert.truthy(err:find("--insecure", 1, true), err)
      code, _, err = run { "--endpoint", "127.0.0.1:8080", "ecs", "DescribeRegions" }
      assert.equal(2, code)
      assert.truthy(err:find("needs a scheme: http://127.0.0.1:8080", 1, true), err)
    end)

    it("refuses the combinations that would drop something: --pager with --waiter, --dryrun with either, --quiet with --dryrun",
      function()
        local base = { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou" }
        local function with(...)
          local t = {}
          for _, a in ipairs(base) do t[#t + 1] = a end
          for _, a in ipairs { ... } do t[#t + 1] = a end
          return t
        end
        local code, out, err = run(with("--pager", "--waiter", "expr=TotalCount", "to=3"))
        assert.equal(2, code)
        assert.equal("", out)
        assert.truthy(err:find("--pager and --waiter do not go together", 1, true), err)
        code, _, err = run(with("--dryrun", "--pager"))
        assert.equal(2, code)
        assert.truthy(err:find("leave out --pager", 1, true), err)
        code, _, err = run(with("--cli-dry-run", "--quiet"))
        assert.equal(2, code)
        assert.truthy(err:find("--quiet", 1, true), err)
        code, _, err = run(with("--pager", "PageNumber=1"))
        assert.equal(2, code)
        assert.truthy(err:find("--pager takes path=PATH; not PageNumber=", 1, true), err)
        code, _, err = run(with("--read-timeout", "soon"))
        assert.equal(2, code)
        assert.truthy(err:find("--read-timeout takes seconds", 1, true), err)
        code, _, err = run(with("--connect-timeout", "0"))
        assert.equal(2, code)
        assert.truthy(err:find("--connect-timeout takes seconds", 1, true), err)
        for _, n in ipairs { "-1", "11", "2.5" } do
          -- at most 10, as the client's max_retries
          code, _, err = run(with("--retry-count", n))
          assert.equal(2, code, n)
          assert.truthy(err:find("--retry-count takes a count from 0 to 10", 1, true), err)
        end
        code, _, err = run(with("--outptu", "json"))
        assert.equal(2, code)
        assert.truthy(err:find("did you mean --output", 1, true), err)
      end)
  end)

  describe("wrong results become errors", function()
    it("--pager path= that names no list fails, naming the list", function()
      local code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--PageSize", "1",
        "--pager", "path=Disks.Disks" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("its list is at Disks.Disk", 1, true), err)
      -- the official spelling with [] works
      code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--PageSize", "1",
        "--pager", "path=Disks.Disk[]" }
      assert.equal(0, code, err)
      assert.truthy(#json.decode(out).Disks.Disk > 1)
    end)

    it("--plot on a listing that is not a monitoring series fails", function()
      local code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--plot" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("not a monitoring series", 1, true), err)
    end)
  end)

  describe("regions", function()
    it("an unknown --region is refused with the nearest known ones, before anything is sent", function()
      local code, out, err = run { "--emulator", "--region", "cn-hangzou", "ecs", "DescribeInstances" }
      assert.equal(2, code)
      assert.equal("", out)
      assert.truthy(err:find("unknown region 'cn-hangzou'; did you mean cn-hangzhou", 1, true), err)
      -- a RegionId that picks the endpoint is checked the same way (no DNS error)
      code, _, err = run({ "ecs", "DescribeInstances", "--RegionId", "cn-hangzou" },
        { ALIBABA_CLOUD_ACCESS_KEY_ID = "a", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "b" })
      assert.equal(1, code)
      assert.truthy(err:find("--RegionId: unknown region 'cn-hangzou'", 1, true), err)
      -- and so is a profile's region_id
      code, _, err = run { "--emulator", "--profile", "typo", "ecs", "DescribeInstances" }
      assert.equal(1, code)
      assert.truthy(err:find("region_id: unknown region 'cn-hangzou'", 1, true), err)
    end)

    it("the region fills RegionId when the action takes one and none was given", function()
      local code, out, err = run { "--emulator", "--region", "cn-beijing", "ecs", "DescribeInstances" }
      assert.equal(0, code, err)
      assert.equal("cn-beijing", json.decode(out).Instances.Instance[1].RegionId)
      code, out, err = run { "--emulator", "--profile", "shanghai", "ecs", "DescribeInstances" }
      assert.equal(0, code, err)
      assert.equal("cn-shanghai", json.decode(out).Instances.Instance[1].RegionId)
      -- a RegionId given wins
      code, out = run { "--emulator", "--region", "cn-beijing", "ecs", "DescribeInstances", "--RegionId", "cn-hangzhou" }
      assert.equal(0, code)
      assert.equal("cn-hangzhou", json.decode(out).Instances.Instance[1].RegionId)
    end)

    it("a missing profile is reported before the missing RegionId", function()
      local code, out, err = run { "--emulator", "--profile", "nope", "ecs", "DescribeInstances" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("--profile nope: ", 1, true), err)
      assert.truthy(err:find("no profile named 'nope'", 1, true), err)
      assert.is_nil(err:find("RegionId", 1, true))
    end)
  end)

  describe("messages in flags", function()
    it("a missing region asks for --region, not region = \"...\"", function()
      local code, _, err = run { "--emulator", "ecs", "DescribeInstances" }
      assert.equal(1, code)
      assert.truthy(err:find("missing required parameter RegionId (String): choose a region with --region NAME", 1, true), err)
      code, _, err = run({ "ecs", "DescribeRegions" }, { ALIBABA_CLOUD_ACCESS_KEY_ID = "a", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "b" })
      assert.equal(1, code)
      assert.truthy(err:find("no region: give --region NAME", 1, true), err)
      assert.is_nil(err:find("region =", 1, true))
    end)

    it("with only the key id in the environment, says the secret is missing", function()
      local code, _, err = run({ "--endpoint", "http://127.0.0.1:9", "ecs", "DescribeRegions" },
        { ALIBABA_CLOUD_ACCESS_KEY_ID = "someid", ALIBABA_CLOUD_CONFIG_FILE = "/nonexistent/config.json" })
      assert.equal(1, code)
      assert.equal(1, #lines(err))
      assert.truthy(err:find("ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not", 1, true), err)
      assert.truthy(err:find("--access-key-id", 1, true), err)
    end)
  end)

  describe("--help", function()
    it("for the command", function()
      local code, out = run { "--help" }
      assert.equal(0, code)
      assert.truthy(out:find("usage: aliyun-lua", 1, true))
      assert.truthy(out:find("--waiter", 1, true))
      -- the defaults are shown
      assert.truthy(out:find("(default timeout=600\n%s+interval=2)") or out:find("default timeout=600 interval=2", 1, true), out)
      assert.truthy(out:find("--read-timeout S        seconds to wait for an answer  (default 10;", 1, true), out)
      assert.truthy(out:find("(default 3)", 1, true), out)
      assert.truthy(out:find("--output json           indented JSON                  (the default)", 1, true), out)
    end)

    it("for a product: its actions", function()
      local code, out = run { "ens", "--help" }
      assert.equal(0, code)
      assert.truthy(out:find("ens (API version 2017-11-10)", 1, true))
      assert.truthy(out:find("\n  DescribeInstances", 1, true))
    end)

    it("for an action: parameters with type and required flag", function()
      local code, out = run { "ecs", "CreateDisk", "--help" }
      assert.equal(0, code)
      assert.truthy(out:find("ecs CreateDisk", 1, true))
      assert.truthy(out:match("\n  RegionId%s+String%s+required\n"))
      assert.truthy(out:match("\n  Size%s+Integer\n"))
      assert.truthy(out:match("\n  Tag%s+RepeatList\n    Key%s+String\n"))
    end)

    it("for an unknown action: the nearest names, exit 2", function()
      local code, _, err = run { "ecs", "CreateDisks", "--help" }
      assert.equal(2, code)
      assert.truthy(err:find("did you mean CreateDisk", 1, true), err)
    end)
  end)

  it("--output table: one row per item, chosen columns", function()
    local code, out = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--output", "table",
      "cols=DiskId,Status" }
    assert.equal(0, code)
    local l = lines(out)
    assert.truthy(l[1]:match("^DiskId%s+| Status$"), l[1])
    assert.truthy(l[2]:match("^%-+%+%-+$"), l[2])
    assert.equal(DISK .. " | In_use", l[3])
  end)

  it("--dryrun prints the signed request and sends nothing", function()
    local code, out = run { "--emulator", "--region", "cn-hangzhou", "ecs", "DescribeDisks", "--dryrun" }
    assert.equal(0, code)
    local r = assert(json.decode(out))
    assert.equal("POST", r.method)
    assert.truthy(r.url:find("Action=DescribeDisks", 1, true))
    assert.truthy(r.url:find("RegionId=cn-hangzhou", 1, true)) -- --region fills RegionId
    assert.truthy(r.url:find("Signature=", 1, true))
    assert.is_nil(r.url:find("testsecret", 1, true))
  end)

  it("--pager merges every page into one list", function()
    local code, out = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--PageSize", "1",
      "--pager" }
    assert.equal(0, code)
    local r = json.decode(out)
    local all = json.decode(select(2, run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou" }))
    assert.equal(all.TotalCount, #r.Disks.Disk)
    assert.truthy(#r.Disks.Disk > 1)
    for i, d in ipairs(all.Disks.Disk) do assert.equal(d.DiskId, r.Disks.Disk[i].DiskId) end
  end)

  it("--waiter returns at once when the state is reached, with a progress line", function()
    local code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou",
      "--DiskIds", '["' .. DISK .. '"]', "--waiter", "expr=Disks.Disk[0].Status", "to=In_use" }
    assert.equal(0, code)
    assert.equal(DISK, json.decode(out).Disks.Disk[1].DiskId)
    assert.truthy(err:find("DescribeDisks: Disks.Disk[0].Status = In_use", 1, true), err)
  end)

  it("--waiter gives up with a timeout error and exit 1", function()
    local code, out, err = run { "--emulator", "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou",
      "--DiskIds", '["' .. DISK .. '"]', "--waiter", "expr=Disks.Disk[0].Status", "to=Available", "timeout=0" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("timeout: still not ready", 1, true), err)
    assert.truthy(err:find("last state: In_use", 1, true), err)
  end)

  it("--plot draws the monitoring series", function()
    local t = os.time() - 120
    t = t - t % 60
    local function iso(x) return os.date("!%Y-%m-%dT%H:%M:%SZ", x) end
    local args = { "--emulator", "ecs", "DescribeInstanceMonitorData", "--InstanceId", INSTANCE,
      "--StartTime", iso(t - 1800), "--EndTime", iso(t), "--plot", "metric=CPU", "height=5" }
    local code, out, err = run(args)
    assert.equal(0, code, err)
    local l = lines(out)
    assert.truthy(l[1]:match("^CPU  %(%d+ points, min %d+, max %d+"), l[1])
    assert.equal(5 + 3, #l) -- title, 5 rows, axis, time range
    assert.truthy(out:find("█", 1, true))
    -- without a UTF-8 locale, ASCII
    code, out = run(args, { LANG = "C" })
    assert.equal(0, code)
    assert.is_nil(out:find("█", 1, true))
    assert.truthy(out:find("#", 1, true))
    -- a metric the series lacks
    args[#args - 1] = "metric=Nope"
    code, out, err = run(args)
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("no metric Nope", 1, true), err)
  end)

  it("--save writes GetInstanceScreenshot's JPEG", function()
    local file = tmp .. "/shot.jpg"
    local code, out, err = run { "--emulator", "ecs", "GetInstanceScreenshot", "--RegionId", "cn-hangzhou",
      "--InstanceId", INSTANCE, "--save", file }
    assert.equal(0, code, err)
    assert.equal("", out)
    assert.truthy(err:find("saved %d+ bytes to"), err)
    local bytes = slurp(file)
    assert.equal("\255\216\255", bytes:sub(1, 3)) -- JPEG SOI and a marker
    assert.equal("\255\217", bytes:sub(-2))
  end)
end)

describe("cli in process", function()
  it("converts parameter values by type", function()
    local p = assert(cli.build_params("ecs", "CreateDisk", {
      { "RegionId", "cn-hangzhou" }, { "Size", "20" }, { "Encrypted", "true" },
      { "Tag", '[{"Key":"k","Value":"v"}]' }, { "ProvisionedIops", "3000" },
    }))
    assert.equal(20, p.Size)
    assert.equal("integer", math.type(p.Size))
    assert.equal(true, p.Encrypted)
    assert.same({ { Key = "k", Value = "v" } }, p.Tag)
    assert.equal(3000, p.ProvisionedIops)
    -- a RepeatList given one bare value is a list of one; a String stays text (DiskIds is JSON text)
    assert.same({ "sg-1" }, assert(cli.build_params("ecs", "RunInstances", { { "SecurityGroupIds", "sg-1" } })).SecurityGroupIds)
    assert.equal('["d-1"]', assert(cli.build_params("ecs", "DescribeDisks", { { "DiskIds", '["d-1"]' } })).DiskIds)
    -- by style: a flat Array takes JSON and becomes a table (sent Permissions.1.IpProtocol), a
    -- comma-joined list takes one bare value, a json-style Json keeps its text
    assert.same({ { IpProtocol = "tcp" } }, assert(cli.build_params("ecs", "AuthorizeSecurityGroup",
      { { "Permissions", '[{"IpProtocol":"tcp"}]' } })).Permissions)
    assert.same({ "a,b" }, assert(cli.build_params("ens", "DescribeHistoryEvents", { { "EventTypes", "a,b" } })).EventTypes)
    assert.equal('[{"EventId":"e"}]', assert(cli.build_params("ens", "BatchEventRedeployInstance",
      { { "EventInfos", '[{"EventId":"e"}]' } })).EventInfos)
    local _, err = cli.build_params("ecs", "CreateDisk", { { "Size", "1" }, { "Size", "2" } })
    assert.equal("validation", err.kind)
  end)

  it("parses flags with their key=value words", function()
    local a = assert(cli.parse { "ecs", "DescribeDisks", "--waiter", "expr=A.B", "to=x", "--RegionId", "r",
      "--output", "table", "cols=A", "--quiet" })
    assert.same({ "ecs", "DescribeDisks" }, a.positional)
    assert.same({ expr = "A.B", to = "x" }, a.sub.waiter)
    assert.same({ format = "table", cols = "A" }, a.sub.output)
    assert.same({ { "RegionId", "r" } }, a.params)
    assert.truthy(a.flags.quiet)
    assert.is_nil(cli.parse { "--waiter", "expr=A" })
    -- the official client's table spelling: no format word, cols/rows/num
    a = assert(cli.parse { "--output", "cols=InstanceId,Status", "rows=Instances.Instance[]", "num=true", "-p", "x" })
    assert.same({ format = "table", cols = "InstanceId,Status", rows = "Instances.Instance[]", num = "true" }, a.sub.output)
    assert.equal("x", a.flags.profile)
    -- --version with a date is the API version to call
    a = assert(cli.parse { "ecs", "DescribeRegions", "--version", "2014-05-26" })
    assert.equal("2014-05-26", a.flags.api_version)
    assert.is_nil(a.flags.version)
  end)

  it("--waiter follows a disk from Creating to Available on the emulator's clock", function()
    local t = 1800000000
    local emu = emulator.new { seed = 3, now = function() return t end, sleep = function() end }
    local copts = { endpoint = "http://127.0.0.1", access_key_id = "testid", access_key_secret = "testsecret",
      transport = emulator.transport(emu), sleep = function(s) t = t + s end }
    local ecs = aliyun.ecs(copts)
    local zone = assert(ecs:DescribeZones { RegionId = "cn-hangzhou" }).Zones.Zone[1].ZoneId
    local disk = assert(ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20 }).DiskId
    local out, err = {}, {}
    local code = cli.main({ "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--DiskIds", '["' .. disk .. '"]',
      "--waiter", "expr=Disks.Disk[0].Status", "to=Available", "interval=1" },
      { client_opts = copts, stdout = function(s) out[#out + 1] = s end, stderr = function(s) err[#err + 1] = s end })
    assert.equal(0, code, table.concat(err))
    assert.equal("Available", json.decode(table.concat(out)).Disks.Disk[1].Status)
    local progress = table.concat(err)
    assert.truthy(progress:find("= Creating", 1, true), progress)
    assert.truthy(progress:find("= Available", 1, true), progress)
    assert.truthy(t > 1800000000)
  end)

  local function waiter_world(delays)
    local t = 1800000000
    local emu = emulator.new { seed = 3, now = function() return t end, sleep = function() end, delays = delays }
    local slept = {}
    local copts = { endpoint = "http://127.0.0.1", access_key_id = "testid", access_key_secret = "testsecret",
      transport = emulator.transport(emu), sleep = function(s) slept[#slept + 1] = s t = t + s end }
    local clock = function() return t end
    return copts, clock, slept
  end

  local function main_with(args, copts, clock)
    local out, err = {}, {}
    local code = cli.main(args, { client_opts = copts, clock = clock, stdout = function(s) out[#out + 1] = s end,
      stderr = function(s) err[#err + 1] = s end })
    return code, table.concat(out), table.concat(err)
  end

  it("--waiter keeps its interval and gives up when timeout= is up, not before", function()
    local copts, clock, slept = waiter_world { disk_create = 1000 }
    local ecs = aliyun.ecs(copts)
    local zone = assert(ecs:DescribeZones { RegionId = "cn-hangzhou" }).Zones.Zone[1].ZoneId
    local disk = assert(ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20 }).DiskId
    local code, out, err = main_with({ "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--DiskIds", '["' .. disk .. '"]',
      "--waiter", "expr=Disks.Disk[0].Status", "to=Available", "timeout=5", "interval=1" }, copts, clock)
    assert.equal(1, code)
    assert.equal("", out)
    assert.same({ 1, 1, 1, 1, 1 }, slept) -- every second, for five seconds
    assert.truthy(err:find("still not ready after 5 s and 6 polls; last state: Creating", 1, true), err)
  end)

  it("--waiter on a resource that is not there fails at the second poll", function()
    local copts, clock, slept = waiter_world()
    local code, out, err = main_with({ "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--DiskIds", '["d-nosuchdisk"]',
      "--waiter", "expr=Disks.Disk[0].Status", "to=Available", "interval=3" }, copts, clock)
    assert.equal(1, code)
    assert.equal("", out)
    assert.same({ 3 }, slept)
    assert.truthy(err:find("nothing to wait for: the resource is not there", 1, true), err)
  end)

  it("passes --read-timeout, --connect-timeout and --retry-count to the client", function()
    local copts = waiter_world()
    local seen = {}
    local send = copts.transport.send
    copts.transport = function(req)
      seen[#seen + 1] = req
      return nil, "refused"
    end
    local code, _, err = main_with({ "--read-timeout", "7", "--connect-timeout", "2.5", "--retry-count", "1", "ecs",
      "DescribeRegions" }, copts)
    assert.equal(1, code)
    assert.truthy(err:find("network: refused", 1, true), err)
    assert.equal(2, #seen) -- one retry
    assert.equal(7, seen[1].timeout)
    assert.equal(2.5, seen[1].connect_timeout)
    assert.truthy(send)
  end)

  it("completes products, actions, parameter names, options and their values", function()
    local complete = require("aliyun.completion").complete
    assert.same({ "ecs", "ens" }, complete("aliyun-lua "))
    assert.same({ "DescribeDisksFullStatus" }, complete("aliyun-lua ecs DescribeDisksF"))
    assert.same({ "--RegionId" }, complete("aliyun-lua ecs DescribeDisks --Reg"))
    assert.same({ "--Tag" }, complete("aliyun-lua --region cn-hangzhou ecs CreateDisk --Size 20 --Ta"))
    assert.same({ "cn-beijing", "cn-beijing-finance-1" }, complete("aliyun-lua --region cn-bei"))
    assert.same({ "cols=", "json", "num=", "rows=", "table" }, complete("aliyun-lua ecs DescribeDisks --output "))
    assert.same({ "rows=" }, complete("aliyun-lua ecs DescribeDisks --output cols=A r"))
    assert.same({ "ecs", "ens" }, complete("aliyun-lua --output table e"))
    assert.same({ "--profile" }, complete("aliyun-lua --pro"))
  end)

  it("help texts name unknown products and actions", function()
    assert.is_nil((cli.product_help("ecz")))
    local _, why = cli.action_help("ecs", "CreateDisks")
    assert.truthy(why:find("CreateDisk", 1, true))
  end)

  it("saves nothing from a result without a payload", function()
    local n, why = cli.save({ RequestId = "" }, "/nonexistent/x")
    assert.is_nil(n)
    assert.truthy(why:find("no payload", 1, true))
    assert.truthy(core.base64_decode("AAAA"))
  end)
end)
