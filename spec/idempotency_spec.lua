-- Creates that a playbook can repeat without fear: the error of an action that takes a
-- ClientToken carries the token every attempt used (err.client_token), and calling again
-- with it never makes a second resource, whatever the service and the network did to the
-- first call. The service is the emulator (aliyun.testing, virtual time), its faults the
-- ones the README lists: throttling, status 503, dropped connections and commit_drop (the
-- create takes effect, the answer is lost).
local aliyun = require "aliyun"
local errors = require "aliyun.errors"
local testing = require "aliyun.testing"

local REGION, ZONE = "cn-hangzhou", "cn-hangzhou-h"
local FAULTS = {
  { type = "throttling" }, { type = "status", status = 503 }, { type = "close" }, { type = "commit_drop" },
}

-- Queues n faults or passes for CreateDisk, a fault with probability `rate` (a latency of
-- 0 s is a pass: it takes the queue's place and changes nothing). Seeded: the same run each
-- time. Returns how many of each type were queued.
local function storm(cloud, n, rate, seed)
  math.randomseed(seed)
  local queued = {}
  for _ = 1, n do
    if math.random() < rate then
      local f = FAULTS[math.random(#FAULTS)]
      cloud:inject("CreateDisk", f)
      queued[f.type] = (queued[f.type] or 0) + 1
    else
      cloud:inject("CreateDisk", { type = "latency", seconds = 0 })
    end
  end
  return queued
end

-- The disks of this test (named idem-N), counted with DescribeDisks, every page.
local function count_disks(ecs)
  local names, total = {}, 0
  for page, err in ecs:pages("DescribeDisks", { RegionId = REGION, PageSize = 100 }) do
    assert(page, tostring(err))
    for _, d in ipairs(page.Disks.Disk) do
      if type(d.DiskName) == "string" and d.DiskName:match("^idem%-%d+$") then
        total = total + 1
        names[d.DiskName] = (names[d.DiskName] or 0) + 1
      end
    end
  end
  return total, names
end

-- The playbook: create disk i; on an error, call again with the same parameters and the
-- error's ClientToken (at most `tries` calls in all). `fresh` forgets the token instead, as
-- a playbook did before errors carried it. Returns the number of calls that failed.
local function create_all(ecs, n, tries, fresh)
  local failures = 0
  for i = 1, n do
    local params = { RegionId = REGION, ZoneId = ZONE, Size = 20, DiskName = "idem-" .. i }
    local res, err
    for _ = 1, tries do
      res, err = ecs:CreateDisk(params)
      if res then break end
      failures = failures + 1
      assert.is_true(errors.is_error(err))
      assert.is_string(err.client_token, tostring(err))
      params.ClientToken = not fresh and err.client_token or nil
    end
    assert(res, "disk " .. i .. " not made after " .. tries .. " calls: " .. tostring(err))
  end
  return failures
end

describe("a create that failed", function()
  local cloud
  before_each(function() cloud = testing.start { seed = 3, strict = true } end)
  after_each(function() cloud:stop() end)

  it("carries the ClientToken every attempt used, in the error and its line", function()
    local seen = {}
    local ecs = aliyun.ecs { region = REGION, max_retries = 2, debug = function(line)
      seen[#seen + 1] = line
    end }
    cloud:inject("CreateDisk", { type = "throttling", count = 3 })
    local res, err = ecs:CreateDisk { RegionId = REGION, ZoneId = ZONE, Size = 20 }
    assert.is_nil(res)
    assert.are.equal("Throttling", err.code)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", err.client_token)
    assert.matches("%[ClientToken " .. err.client_token:gsub("%-", "%%-") .. "%]$", tostring(err))
    -- three attempts went out, each with that token
    local sent = 0
    for _, line in ipairs(seen) do
      if line:match("^aliyun > CreateDisk") then
        sent = sent + 1
        assert.truthy(line:find("ClientToken=" .. err.client_token, 1, true), line)
      end
    end
    assert.are.equal(3, sent)
    -- the caller's own token is the one carried; so is a validation error's
    cloud:inject("CreateDisk", { type = "close" })
    local _, err2 = ecs:CreateDisk({ RegionId = REGION, ZoneId = ZONE, Size = 20, ClientToken = "mine-1" },
      { max_retries = 0 })
    assert.are.equal("mine-1", err2.client_token)
    local _, err3 = ecs:CreateDisk { RegionId = REGION, ZoneId = ZONE, Size = "twenty" }
    assert.are.equal("validation", err3.kind)
    assert.is_string(err3.client_token)
    -- actions that take no ClientToken carry none
    local _, err4 = ecs:DescribeDisks { RegionId = REGION, PageSize = "many" }
    assert.is_nil(err4.client_token)
  end)

  it("called again with err.client_token returns the first disk instead of a second", function()
    local ecs = aliyun.ecs { region = REGION, max_retries = 0 }
    cloud:inject("CreateDisk", { type = "commit_drop" })
    local params = { RegionId = REGION, ZoneId = ZONE, Size = 20, DiskName = "idem-1" }
    local res, err = ecs:CreateDisk(params)
    assert.is_nil(res)
    assert.are.equal("network", err.kind)
    params.ClientToken = err.client_token
    local again = assert(ecs:CreateDisk(params))
    assert.are.equal(1, (count_disks(ecs)))
    local _, names = count_disks(ecs)
    assert.are.equal(1, names["idem-1"])
    local d = assert(ecs:DescribeDisks { RegionId = REGION, DiskIds = { again.DiskId } })
    assert.are.equal(1, d.TotalCount)
  end)

  it("batch: each failed create carries its own token", function()
    local ecs = aliyun.ecs { region = REGION, max_retries = 0 }
    cloud:inject("CreateDisk", { type = "status", status = 503, count = 2 })
    local calls = {}
    for i = 1, 3 do calls[i] = { "CreateDisk", { RegionId = REGION, ZoneId = ZONE, Size = 20, DiskName = "idem-" .. i } } end
    calls[4] = { "DescribeRegions", {} }
    local results = ecs:batch(calls)
    local tokens = {}
    for i = 1, 3 do
      if errors.is_error(results[i]) then
        assert.is_string(results[i].client_token)
        tokens[#tokens + 1] = results[i].client_token
        calls[i][2].ClientToken = results[i].client_token
      end
    end
    assert.are.equal(2, #tokens)
    assert.are_not.equal(tokens[1], tokens[2])
    assert.is_nil(results[4].client_token)
    for i = 1, 3 do
      if calls[i][2].ClientToken then assert(ecs:CreateDisk(calls[i][2])) end
    end
    assert.are.equal(3, (count_disks(ecs)))
  end)
end)

describe("200 creates under heavy faults", function()
  local cloud
  before_each(function() cloud = testing.start { seed = 5, strict = true } end)
  after_each(function() cloud:stop() end)

  it("end with exactly 200 disks when the playbook calls again with err.client_token", function()
    local queued = storm(cloud, 2000, 0.6, 18)
    for _, f in ipairs(FAULTS) do assert.is_true((queued[f.type] or 0) > 100, f.type) end
    local ecs = aliyun.ecs { region = REGION }
    local failures = create_all(ecs, 200, 12)
    -- heavy enough that the client's own retries ran out again and again
    assert.is_true(failures >= 10, "only " .. failures .. " calls failed")
    cloud:clear_faults()
    local total, names = count_disks(ecs)
    assert.are.equal(200, total)
    for i = 1, 200 do assert.are.equal(1, names["idem-" .. i], "idem-" .. i) end
  end)

  it("(what the token prevents) end with more than 200 when each call again takes a new token", function()
    storm(cloud, 2000, 0.6, 18)
    local ecs = aliyun.ecs { region = REGION }
    create_all(ecs, 200, 12, true)
    cloud:clear_faults()
    assert.is_true((count_disks(ecs)) > 200)
  end)
end)
