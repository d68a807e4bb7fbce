-- The REPL's session in process (no terminal): evaluation, one-line errors, help,
-- completion, :commands; and the pretty-printer and the chart it uses. The same REPL in a
-- real terminal is spec/integration/repl_spec.lua.
local aliyun = require "aliyun"
local core = require "aliyun.core"
local plot = require "aliyun.plot"
local pretty = require "aliyun.pretty"
local repl = require "aliyun.repl"

local function session()
  local out = {}
  local s = repl.new({ emulator = true }, { write = function(x) out[#out + 1] = x end, color = false })
  local function take()
    local text = table.concat(out)
    for i = #out, 1, -1 do out[i] = nil end
    return text
  end
  return s, take
end

-- readline's word: back to the last of its break characters
local BREAKS = " \t\n\"\\'`@$><=;|&{("
local function complete(s, line)
  local from = #line + 1
  while from > 1 and not BREAKS:find(line:sub(from - 1, from - 1), 1, true) do from = from - 1 end
  return s:complete(line, from, #line)
end

describe("repl session", function()
  it("evaluates expressions and statements, keeps globals, sets _", function()
    local s, take = session()
    assert.is_nil(s:feed("x = 20"))
    assert.is_nil(s:feed("x + 1"))
    assert.equal("21\n", take())
    s:feed("_ * 2")
    assert.equal("42\n", take())
    s:feed("=x")
    assert.equal("20\n", take())
    assert.is_nil(rawget(_G, "x")) -- the session's globals are its own
  end)

  it("continues incomplete chunks", function()
    local s, take = session()
    assert.equal("more", s:feed("function f(a)"))
    assert.equal("more", s:feed("  return a * 2"))
    assert.is_nil(s:feed("end"))
    assert.equal("more", s:feed("f(1) +"))
    assert.is_nil(s:feed("f(2)"))
    assert.equal("6\n", take())
    assert.equal("aliyun>    ...> ", s:prompt(false) .. s:prompt(true))
  end)

  it("prints results pretty and errors on one line", function()
    local s, take = session()
    s:feed('ecs:DescribeDisks{ RegionId = "cn-hangzhou", PageSize = 1 }')
    local out = take()
    assert.truthy(out:find("^{\n  Disks = {\n"), out)
    assert.truthy(out:find("\n  TotalCount = %d+,\n}\n$"), out)
    s:feed("ecs:DescribeDisks{}")
    -- said in the REPL's terms: :region, not the library's region = "..."
    assert.equal("error: aliyun DescribeDisks: validation: missing required parameter RegionId (String): "
      .. 'choose a region with :region NAME, or pass RegionId = "..." in the call\n', take())
    s:feed("ecs:DescribeDisk{}")
    out = take()
    assert.truthy(out:find("^error: aliyun: ecs has no action 'DescribeDisk'; did you mean DescribeDisks"), out)
    s:feed('error("two\\nlines")')
    assert.equal("error: stdin:1: two lines\n", take())
    s:feed("1 +* 2")
    assert.truthy(take():find("^error: stdin:1: unexpected symbol"))
  end)

  it("help() describes actions, products and itself", function()
    local s, take = session()
    s:feed("help(ecs.CreateDisk)")
    local out = take()
    assert.truthy(out:find("^ecs CreateDisk"), out)
    assert.truthy(out:match("\n  RegionId%s+String%s+required\n"), out)
    s:feed("help(ens)")
    assert.truthy(take():find("^ens %(API version 2017%-11%-10%)"))
    s:feed('help("ecs.DescribeDisks")')
    assert.truthy(take():find("^ecs DescribeDisks"))
    s:feed('help("RunInstances")')
    assert.truthy(take():find("^ecs RunInstances"))
    s:feed('help("CreateDisks")')
    assert.truthy(take():find("did you mean CreateDisk", 1, true))
    s:feed("help()")
    assert.truthy(take():find(":profile NAME", 1, true))
    s:feed("help(42)")
    assert.truthy(take():find("^error: help: no help for a number"))
    s:feed("ecs.CreateDisk")
    assert.equal("<action ecs.CreateDisk>\n", take())
  end)

  it("completes products, actions, parameters, fields and commands", function()
    local s = session()
    assert.same({ "ecs", "else", "elseif", "end", "ens", "error" }, complete(s, "e"))
    assert.same({ "ecs:DescribeDisksFullStatus" }, complete(s, "ecs:DescribeDisksF"))
    assert.same({ "ens:DescribeInstanceMonitorData" }, complete(s, "print(ens:DescribeInstanceMonitorD"))
    assert.same({ "ecs:pages" }, complete(s, "ecs:pa"))
    assert.same({ "RegionId = " }, complete(s, "ecs:CreateDisk{ Reg"))
    assert.same({ "PageNumber = ", "PageSize = " }, complete(s, 'ecs:DescribeDisks{ RegionId = "cn-hangzhou", Page'))
    assert.same({ ",Size = " }, complete(s, 'ecs:CreateDisk{ RegionId = "x{",Si'))
    assert.same({}, complete(s, 'ecs:CreateDisk{ RegionId = "x", Size = 2'))
    assert.same({ "Key = " }, complete(s, "ecs:CreateDisk{ Tag = { { K"))
    assert.same({ "Category = " }, complete(s, "ecs:RunInstances{ SystemDisk = { Cat"))
    assert.same({ "aliyun.ecs", "aliyun.ens", "aliyun.errors" }, complete(s, "aliyun.e"))
    assert.same({ ":profile " }, complete(s, ":pro"))
    assert.same({ "cn-hangzhou", "cn-heyuan", "cn-heyuan-acdr-1", "cn-hongkong", "cn-huhehaote" },
      s:complete(":region cn-h", 9, 12))
    -- inside a chunk that goes on over several lines
    assert.equal("more", s:feed("ecs:CreateDisk{"))
    assert.same({ "ZoneId = " }, complete(s, "  Zone"))
  end)

  it(":region, :endpoint and :status switch and show the clients", function()
    local s, take = session()
    local before = s.env.ecs
    s:feed(":region cn-beijing")
    assert.equal("profile (default), region cn-beijing, endpoint in-process emulator\n", take())
    assert.are_not.equal(before, s.env.ecs)
    assert.equal("cn-beijing", s.env.ecs.opts.region)
    assert.equal("aliyun[cn-beijing]> ", s:prompt())
    s:feed(":endpoint http://127.0.0.1:9")
    assert.equal("profile (default), region cn-beijing, endpoint http://127.0.0.1:9\n", take())
    s:feed(":region Not A Region")
    assert.truthy(take():find("^error: :region: region 'Not A Region' is not a region id"))
    s:feed(":nope")
    assert.truthy(take():find("^error: unknown command :nope"))
    assert.equal("quit", s:feed(":quit"))
  end)

  it(":region fills RegionId for calls that take one; an unknown region is refused with the nearest", function()
    local s, take = session()
    s:feed(":region cn-beijing")
    take()
    s:feed("ecs:DescribeInstances{}.Instances.Instance[1].RegionId")
    assert.equal('"cn-beijing"\n', take())
    s:feed(":region cn-hangzou")
    assert.equal("error: :region: unknown region 'cn-hangzou'; did you mean cn-hangzhou, cn-guangzhou?\n", take())
    assert.equal("cn-beijing", s.settings.region)
  end)

  it(":profile refuses a missing profile and one whose region_id is unknown", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    local f = assert(io.open(dir .. "/config.json", "w"))
    f:write('{"current":"ok","profiles":[{"name":"ok","mode":"AK","access_key_id":"testid",'
      .. '"access_key_secret":"testsecret","region_id":"cn-shanghai"},{"name":"typo","mode":"AK",'
      .. '"access_key_id":"testid","access_key_secret":"testsecret","region_id":"cn-shanghia"}]}')
    f:close()
    local saved = os.getenv
    local env = { ALIBABA_CLOUD_CONFIG_FILE = dir .. "/config.json" }
    rawset(os, "getenv", function(k) if env[k] then return env[k] end return saved(k) end)
    local ok, err = pcall(function()
      local s, take = session()
      s:feed(":profile nope")
      assert.truthy(take():find("no profile named 'nope'", 1, true))
      s:feed(":profile typo")
      assert.truthy(take():find("region_id cn-shanghia: unknown region 'cn-shanghia'; did you mean cn-shanghai", 1, true))
      s:feed(":profile ok")
      take()
      -- the profile's region_id fills RegionId
      s:feed("ecs:DescribeInstances{}.Instances.Instance[1].RegionId")
      assert.equal('"cn-shanghai"\n', take())
    end)
    rawset(os, "getenv", saved)
    os.execute("rm -rf " .. dir)
    assert(ok, err)
  end)

  it(":endpoint leaves the in-process emulator and :endpoint alone goes back", function()
    local s, take = session()
    s:feed(":endpoint http://127.0.0.1:9")
    assert.equal("profile (default), region (none), endpoint http://127.0.0.1:9\n", take())
    s:feed("ecs:DescribeRegions{}")
    assert.truthy(take():find("^error: aliyun DescribeRegions: "), "the call left the process")
    s:feed(":endpoint")
    assert.equal("profile (default), region (none), endpoint in-process emulator\n", take())
    s:feed("#ecs:DescribeRegions{}.Regions.Region > 0")
    assert.equal("true\n", take())
    s:feed(":endpoint 127.0.0.1:8080")
    assert.truthy(take():find("needs a scheme: http://127.0.0.1:8080", 1, true))
  end)

  it("says why an assigned call gave nil, and how to call with a colon", function()
    local s, take = session()
    s:feed('r = ecs:DescribeDisks{ RegionId = "xx-nowhere-1" }')
    assert.truthy(take():find("^error: aliyun DescribeDisks: service %(HTTP 404%) InvalidRegionId.NotFound"))
    assert.is_nil(s.env.r)
    s:feed('r = ecs:DescribeDisks{ RegionId = "cn-hangzhou" }')
    assert.equal("", take()) -- success prints nothing, as an assignment does
    assert.truthy(s.env.r.Disks)
    s:feed("t = {} t.x = 1")
    assert.equal("", take())
    s:feed("ecs.DescribeDisks{}")
    assert.truthy(take():find("^error: .*aliyun: ecs%.DescribeDisks{%.%.%.} needs a colon: write ecs:DescribeDisks{%.%.%.}\n$"))
  end)

  it("plot() draws a series or says why not", function()
    local s, take = session()
    s.env.series = { MonitorData = { Data = { { CPU = 1, TimeStamp = "t1" }, { CPU = 3, TimeStamp = "t2" } } } }
    s:feed('plot(series, { height = 2, ascii = true })')
    local out = take()
    assert.truthy(out:find("^CPU  %(2 points, min 1, max 3, avg 2%)\n"), out)
    s:feed("plot({})")
    assert.truthy(take():find("^error: plot: no monitoring series"))
  end)

  it("history goes to ALIYUN_LUA_HISTORY or ~/.aliyun_lua_history", function()
    local env = { HOME = "/home/u" }
    assert.equal("/home/u/.aliyun_lua_history", repl.history_path(function(k) return env[k] end))
    env.ALIYUN_LUA_HISTORY = "/tmp/h"
    assert.equal("/tmp/h", repl.history_path(function(k) return env[k] end))
  end)
end)

describe("pretty", function()
  it("orders keys stably: list items, then numbers, then names", function()
    local t = { "a", "b", zeta = 1, alpha = 2, [10] = "x", ["with space"] = true, ["end"] = 0 }
    assert.equal('{\n  "a",\n  "b",\n  [10] = "x",\n  alpha = 2,\n  ["end"] = 0,\n  ["with space"] = true,\n'
      .. '  zeta = 1,\n}', pretty.format(t, { width = 20 }))
    assert.equal('{ "a", "b", [10] = "x", alpha = 2, ["end"] = 0, ["with space"] = true, zeta = 1 }', pretty.format(t))
  end)

  it("shows null, nested tables, cycles and errors", function()
    local t = { n = aliyun.null, e = aliyun.errors.new { kind = "network", message = "down" }, inner = { {} } }
    t.self = t
    local s = pretty.format(t)
    assert.truthy(s:find("n = null", 1, true))
    assert.truthy(s:find("e = aliyun: network: down", 1, true))
    assert.truthy(s:find("self = <cycle>", 1, true))
    assert.truthy(s:find("inner = { {} },", 1, true), s)
  end)

  it("colours only when asked", function()
    assert.is_nil(pretty.format({ a = "x" }):find("\27", 1, true))
    assert.truthy(pretty.format({ a = "x" }, { color = true }):find("\27[32m", 1, true))
  end)

  it("writes indented JSON with sorted keys", function()
    local v = core.json_decode('{"b":[1,{"c":null}],"a":[],"d":"x"}')
    assert.equal('{\n  "a": [],\n  "b": [\n    1,\n    {\n      "c": null\n    }\n  ],\n  "d": "x"\n}', pretty.json(v))
  end)

  it("finds values by path, [n] from 0", function()
    local r = { Disks = { Disk = { { Status = "A" }, { Status = "B" } } } }
    assert.equal("B", pretty.at(r, "Disks.Disk[1].Status"))
    assert.equal("A", pretty.at(r, "Disks.Disk.1.Status"))
    assert.is_nil(pretty.at(r, "Disks.Nope.X"))
  end)
end)

describe("plot", function()
  local function series(values)
    local pts = {}
    for i, v in ipairs(values) do pts[i] = { CPU = v, Other = 5, TimeStamp = string.format("T%02d", i) } end
    return { MonitorData = { InstanceMonitorData = pts } }
  end

  it("draws one column per point, scaled from 0 to the maximum", function()
    local text = assert(plot.chart(series { 0, 4, 8 }, { width = 3, height = 2, ascii = true }))
    local l = {}
    for line in text:gmatch("[^\n]+") do l[#l + 1] = line end
    assert.equal("CPU  (3 points, min 0, max 8, avg 4)", l[1])
    assert.equal("8 |  #", l[2])
    assert.equal("0 | ##", l[3])
    assert.equal("  +---", l[4])
    assert.truthy(l[5]:find("T01", 1, true) and l[5]:find("T03", 1, true))
  end)

  it("averages into the width when there are more points than columns", function()
    local vals = {}
    for i = 1, 100 do vals[i] = i end
    local text = assert(plot.chart(series(vals), { width = 10, height = 3 }))
    local axis = text:match("\n%s+%+(%-+)\n")
    assert.equal(10, #axis)
  end)

  it("names the metrics a series has when asked for another", function()
    local _, why = plot.chart(series { 1, 2 }, { metric = "Nope" })
    assert.truthy(why:find("it has CPU, Other", 1, true))
    local _, why2 = plot.chart({ MonitorData = { InstanceMonitorData = {} } })
    assert.truthy(why2:find("empty", 1, true))
  end)
end)
