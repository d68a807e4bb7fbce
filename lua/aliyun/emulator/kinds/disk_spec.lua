-- ModifyDiskSpec: a disk's category or an ESSD's performance level, changed at once, under the
-- service's rules (the ModifyDiskSpec page): the disk In_use or Available, its instance
-- Running or Stopped, no snapshot of it in progress; a basic (cloud) disk changes nothing; a
-- subscription disk only goes up (category and level); a pay-as-you-go ESSD goes up or down
-- but not down to PL0; a level needs the capacity the ESSD page gives it (PL2 461 GiB and
-- more, PL3 1261 GiB and more).
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise

-- The categories a disk may change to, slowest first (the service also offers cloud_auto and
-- cloud_essd_entry, which the emulator does not make).
local RANK = { cloud_efficiency = 1, cloud_ssd = 2, cloud_essd = 3 }
local LEVELS = { PL0 = 0, PL1 = 1, PL2 = 2, PL3 = 3 }
local MIN_SIZE = { PL0 = 1, PL1 = 20, PL2 = 461, PL3 = 1261 }

-- (a list: a module's one table is a kind only when it has a name)
return { {
  extends = "disk",
  actions = {
    ModifyDiskSpec = {
      op = "custom", honours = { "DiskId", "DiskCategory", "PerformanceLevel" },
      handler = function(emu, a, ctx)
        local disks = engine.kinds.disk
        local d = engine.find(ctx, "disk", a:need("DiskId"))
        local category = a:str("DiskCategory")
        local level = a:str("PerformanceLevel")
        if category and not RANK[category] then
          raise("InvalidDiskCategory.ValueNotSupported", "The specified parameter \"DiskCategory\" is not valid: the "
            .. "emulator changes disks to cloud_efficiency, cloud_ssd or cloud_essd.")
        end
        if level and not LEVELS[level] then raise("InvalidPerformanceLevel.Malformed") end
        if d.Status ~= "In_use" and d.Status ~= "Available" then raise("IncorrectDiskStatus") end
        if d.InstanceId ~= "" then
          local inst = engine.get(ctx, "instance", d.InstanceId)
          if inst and inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
        end
        if disks.creating_snapshot(ctx, d) then raise("DiskCreatingSnapshot") end
        if not RANK[d.Category] then
          raise("OperationDenied", "The type of the disk does not support the operation: a " .. d.Category
            .. " disk keeps its category.")
        end
        local prepaid = d.DiskChargeType == "PrePaid"
        local new_category = category or d.Category
        if prepaid and RANK[new_category] < RANK[d.Category] then
          raise("OperationDenied", "The type of the disk does not support the operation: a subscription disk cannot "
            .. "change to a slower category.")
        end
        local new_level = ""
        if new_category == "cloud_essd" then
          -- an ESSD keeps its level unless told; a disk becoming one gets the default PL1
          new_level = level or (d.Category == "cloud_essd" and d.PerformanceLevel) or "PL1"
          if d.Category == "cloud_essd" and new_level ~= d.PerformanceLevel then
            local up = LEVELS[new_level] > LEVELS[d.PerformanceLevel]
            if prepaid and not up then
              raise("OperationDenied", "The type of the disk does not support the operation: the performance level of "
                .. "a subscription ESSD only goes up.")
            end
            if not up and new_level == "PL0" then
              raise("OperationDenied", "The type of the disk does not support the operation: a pay-as-you-go ESSD "
                .. "does not go down to PL0.")
            end
          end
          if d.Size < MIN_SIZE[new_level] then
            raise("OperationDenied.PerformanceLevelNotMatch", "The specified PerformanceLevel and disk size do not "
              .. "match: " .. new_level .. " takes " .. MIN_SIZE[new_level] .. " GiB or more.")
          end
        elseif level then
          raise("OperationDenied", "The type of the disk does not support the operation: performance levels are "
            .. "for cloud_essd disks.")
        end
        engine.commit(a)
        d.Category, d.PerformanceLevel = new_category, new_level
        d.IOPS = disks.iops(d.Category, d.Size)
        local out = { TaskId = emu.ids:resource("t") }
        if prepaid then out.OrderId = tostring(1000000000000000 + emu.ids:number(0, 99999999)) end
        return out
      end,
    },
  },
} }
