-- Encryption by default, per region and account: while it is on, every new disk of the region
-- (CreateDisk, the disks RunInstances makes, ReplaceSystemDisk) comes out encrypted with the
-- region's default key. The first time it is turned on the default key is the region's
-- service key; ModifyDiskDefaultKMSKeyId changes it, ResetDiskDefaultKMSKeyId goes back to the
-- service key, and the key stays through Disable/Enable. The emulator does not emulate KMS:
-- a key id of KMS's shape (a UUID, or key-<letters and digits>) is taken as an existing,
-- enabled key of the account; any other is not found.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise

-- One record per region the account has touched: {RegionId, Enabled, KMSKeyId, ServiceKeyId}.
local setting = {
  name = "disk_encryption", product = "ecs", id = "RegionId", scope = "global",
  not_found = "InvalidDefaultEncryption.NotFound",
  fields = {},
}

local function uuid(emu)
  local h = emu.ids:hex(32)
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" .. h:sub(17, 20) .. "-" .. h:sub(21, 32)
end

-- The region's record, made (with its service key) on first use.
local function get(emu, ctx, region)
  local rec = engine.get(ctx, "disk_encryption", region)
  if not rec then
    rec = engine.record(emu, ctx, setting, { RegionId = region, Enabled = false, ServiceKeyId = uuid(emu) })
    rec.KMSKeyId = rec.ServiceKeyId
    engine.store(ctx, rec)
  end
  return rec
end

-- Checks a KMS key id; code: what the action answers for one that does not exist.
function setting.check_key(id, code)
  local uuid_shape = id:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")
  if not uuid_shape and not id:match("^key%-[%w]+$") then
    raise(code, "The specified KMSKeyId \"" .. id .. "\" is not found (the emulator takes key ids of KMS's shape, "
      .. "a UUID or key-..., as existing keys).")
  end
end

-- Whether a new disk of the region is encrypted, and with which key: what the call asked
-- for, else the region's default while encryption by default is on.
function setting.for_disk(emu, ctx, region, encrypted, key)
  local rec = region and engine.get(ctx, "disk_encryption", region)
  if rec and rec.Enabled then
    return true, key or rec.KMSKeyId
  end
  if encrypted then return true, key or get(emu, ctx, region).ServiceKeyId end
  return false, ""
end

local function region_of(emu, a, ctx)
  return get(emu, ctx, engine.region(emu, a))
end

local function enabled(emu, a, ctx)
  local rec = region_of(emu, a, ctx)
  if not rec.Enabled then raise("InvalidDefaultEncryption.NotFound") end
  return rec
end

setting.actions = {
  EnableDiskEncryptionByDefault = {
    op = "custom", honours = {},
    handler = function(emu, a, ctx)
      local rec = region_of(emu, a, ctx)
      if rec.Enabled then raise("InvalidOperation.DefaultEncryptionAlreadyEnabled") end
      engine.commit(a)
      rec.Enabled = true
      return {}
    end,
  },
  DisableDiskEncryptionByDefault = {
    op = "custom", honours = {},
    handler = function(emu, a, ctx)
      local rec = enabled(emu, a, ctx)
      engine.commit(a)
      rec.Enabled = false
      return {}
    end,
  },
  DescribeDiskEncryptionByDefaultStatus = {
    op = "custom", honours = {},
    handler = function(emu, a, ctx)
      local rec = engine.get(ctx, "disk_encryption", engine.region(emu, a))
      return { Encrypted = rec ~= nil and rec.Enabled == true }
    end,
  },
  ModifyDiskDefaultKMSKeyId = {
    op = "custom", honours = { "KMSKeyId" },
    handler = function(emu, a, ctx)
      local rec = enabled(emu, a, ctx)
      local key = a:need("KMSKeyId")
      setting.check_key(key, "InvalidOperation.KMSKeyIdNotFound")
      engine.commit(a)
      rec.KMSKeyId = key
      return {}
    end,
  },
  DescribeDiskDefaultKMSKeyId = {
    op = "custom", honours = {},
    handler = function(emu, a, ctx)
      -- the key encryption by default uses (the service key until another is set)
      return { KMSKeyId = region_of(emu, a, ctx).KMSKeyId }
    end,
  },
  ResetDiskDefaultKMSKeyId = {
    op = "custom", honours = {},
    handler = function(emu, a, ctx)
      -- ModifyDiskDefaultKMSKeyId's rule: the key belongs to encryption by default
      local rec = enabled(emu, a, ctx)
      engine.commit(a)
      rec.KMSKeyId = rec.ServiceKeyId
      return {}
    end,
  },
}

return setting
