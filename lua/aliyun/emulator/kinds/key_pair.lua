-- SSH key pairs, known by name within a region. CreateKeyPair makes one (the private key it
-- answers is a well-formed PEM block of random bytes, not a usable key: the emulator runs no
-- SSH); ImportKeyPair takes a public key. Instances hold one key pair (KeyPairName); a key
-- pair attached to instances cannot be deleted.
local core = require "aliyun.core"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local raise = errors.raise

-- The fingerprint the service shows: 32 hex digits of the key (the emulator hashes with
-- SHA-256 and keeps MD5's length; the service uses MD5).
local function fingerprint(public_key)
  local body = public_key:match("^%S+%s+(%S+)") or public_key
  return core.sha256_hex(body):sub(1, 32)
end

-- The published name rule is the ECS one (2 to 128 characters, a letter or a Chinese
-- character first, then letters, digits, colons, underscores, periods, hyphens).
local check_name = engine.CHECKS.name

-- How many names or instances one call takes (DeleteKeyPairs, Attach/DetachKeyPair); more is
-- InstanceKeyPairLimitExceeded.
local MAX_NAMES, MAX_INSTANCES = 100, 50

local KEY_TYPES = { ["ssh-rsa"] = true, ["ssh-ed25519"] = true, ["ssh-dss"] = true, ["ecdsa-sha2-nistp256"] = true,
  ["ecdsa-sha2-nistp384"] = true, ["ecdsa-sha2-nistp521"] = true }

local function check_public_key(v)
  local t, body = v:match("^(%S+)%s+([%w+/]+=*)")
  if not t or not KEY_TYPES[t] or #body < 16 then
    raise("InvalidPublicKeyBody.Malformed", "The specified PublicKeyBody is not an OpenSSH public key "
      .. "(\"ssh-rsa AAAA...\", \"ssh-ed25519 AAAA...\" or \"ecdsa-sha2-nistp256 AAAA...\").")
  end
end

local function random_b64(emu, n)
  return core.base64(emu.ids:chars(n))
end

local function pem(emu)
  local body = random_b64(emu, 900)
  local lines = {}
  for i = 1, #body, 64 do lines[#lines + 1] = body:sub(i, i + 63) end
  return "-----BEGIN RSA PRIVATE KEY-----\n" .. table.concat(lines, "\n") .. "\n-----END RSA PRIVATE KEY-----\n"
end

-- The instances a call names (InstanceIds: a JSON array, at most 50), each checked.
local function instances_of(emu, a)
  local region = engine.region(emu, a)
  local ids = a:strings("InstanceIds", "InvalidInstanceIds.ValueNotSupported")
  if #ids == 0 then errors.missing("InstanceIds") end
  if #ids > MAX_INSTANCES then
    raise("InstanceKeyPairLimitExceeded", "The specified instances are beyond the permitted range: at most "
      .. MAX_INSTANCES .. " in one call.")
  end
  return region, ids
end

-- Attach/Detach answer per instance, as the service does.
local function per_instance(emu, a, ctx, attach)
  local region, ids = instances_of(emu, a)
  -- these two actions answer a key pair that does not exist with 400 (RunInstances with 404)
  local name = a:need("KeyPairName")
  local kp = engine.get(ctx, "key_pair", name)
  if not kp or kp.RegionId ~= region then raise("InvalidKeyPairName.NotFound", nil, 400) end
  engine.commit(a)
  local results, failed = json.array {}, 0
  for _, id in ipairs(ids) do
    local inst = engine.get(ctx, "instance", id)
    local r = { InstanceId = id, Code = "200", Message = "successful", Success = "true" }
    if not inst or inst.RegionId ~= region then
      r.Code, r.Message, r.Success = "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.", "false"
    elseif inst.OSType == "windows" then
      r.Code, r.Message, r.Success = "DependencyViolation.WindowsInstance",
        "The instance creating by windows image can not use ssh key pair.", "false"
    elseif attach then
      inst.KeyPairName = kp.KeyPairName
    elseif inst.KeyPairName == kp.KeyPairName then
      inst.KeyPairName = nil
    end
    if r.Success == "false" then failed = failed + 1 end
    results[#results + 1] = r
  end
  return { KeyPairName = kp.KeyPairName, TotalCount = tostring(#ids), FailCount = tostring(failed),
    Results = results }
end

local key_pair = {
  name = "key_pair", product = "ecs", id = "KeyPairName", scope = "region", name_field = "KeyPairName",
  not_found = "InvalidKeyPairName.NotFound", tag_type = "keypair",
  roundtrip = {
    create = { "ImportKeyPair", function(fx)
      return { RegionId = fx.region, KeyPairName = "rt-key", PublicKeyBody = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRoundTrip rt" }
    end },
    describe = { "DescribeKeyPairs", function(fx, id) return { RegionId = fx.region, KeyPairName = id } end },
    delete = { "DeleteKeyPairs", function(fx, id) return { RegionId = fx.region, KeyPairNames = { id } } end },
  },
  fields = {},
  actions = {
    CreateKeyPair = {
      op = "create", unique = "KeyPairName", unique_code = "KeyPair.AlreadyExist", limit = 500,
      limit_code = "QuotaExceed.KeyPair",
      before = function(emu, _, _, rec)
        local ok, why = check_name(rec.KeyPairName)
        if not ok then raise("InvalidKeyPairName.Malformed", "The specified KeyPairName is not valid: " .. why .. ".") end
        rec.KeyPairId = emu.ids:resource("skp")
        rec.PublicKey = "ssh-rsa " .. random_b64(emu, 270) .. " " .. rec.KeyPairName
        rec.KeyPairFingerPrint = fingerprint(rec.PublicKey)
        rec._private_key = pem(emu)
      end,
      answer = function(_, _, rec)
        local out = {}
        for k, v in pairs(rec) do out[k] = v end
        out.PrivateKeyBody = rec._private_key
        out._kind = nil
        out.Tags, out.ResourceGroupId, out.CreationTime, out.PublicKey, out.RegionId = nil, nil, nil, nil, nil
        rec._private_key = nil -- the service shows the private key once
        return out
      end,
    },
    ImportKeyPair = {
      op = "create", unique = "KeyPairName", unique_code = "KeyPair.AlreadyExist", limit = 500,
      limit_code = "QuotaExceed.KeyPair", honours = { "PublicKeyBody" },
      before = function(emu, a, _, rec)
        local ok, why = check_name(rec.KeyPairName)
        if not ok then raise("InvalidKeyPairName.Malformed", "The specified KeyPairName is not valid: " .. why .. ".") end
        local body = a:need("PublicKeyBody")
        check_public_key(body)
        rec.KeyPairId = emu.ids:resource("skp")
        rec.PublicKey = body
        rec.KeyPairFingerPrint = fingerprint(body)
      end,
      answer = function(_, _, rec)
        return { KeyPairName = rec.KeyPairName, KeyPairFingerPrint = rec.KeyPairFingerPrint }
      end,
    },
    DescribeKeyPairs = {
      op = "describe", page_max = 50,
      filters = { KeyPairFingerPrint = "KeyPairFingerPrint",
        -- a name with * matches as a pattern, as the service documents
        KeyPairName = { field = "KeyPairName", match = function(rec, v)
          if v:find("*", 1, true) then
            local pattern = "^" .. v:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
            return rec.KeyPairName:match(pattern) ~= nil
          end
          return rec.KeyPairName == v
        end },
      },
      honours = { "IncludePublicKey" },
      prepare = function(_, a, ctx) ctx.include_public_key = a:bool("IncludePublicKey", false) end,
      show = function(_, ctx, rec)
        if ctx.include_public_key then return rec end
        local out = {}
        for k, v in pairs(rec) do out[k] = v end
        out.PublicKey = nil
        return out
      end,
    },
    DeleteKeyPairs = {
      op = "custom", honours = { "KeyPairNames" },
      handler = function(emu, a, ctx)
        local region = engine.region(emu, a)
        local names = a:strings("KeyPairNames", "InvalidKeyPairNames.ValueNotSupported")
        if #names == 0 then errors.missing("KeyPairNames") end
        if #names > MAX_NAMES then
          raise("InstanceKeyPairLimitExceeded", "Exceeding the allowed amount of instance which will be deleted: at most "
            .. MAX_NAMES .. " key pairs in one call.")
        end
        local gone = {}
        for _, name in ipairs(names) do
          local kp = engine.get(ctx, "key_pair", name)
          if kp and kp.RegionId == region then
            for _, inst in ipairs(engine.list(ctx, "instance")) do
              if inst.KeyPairName == name then raise("InvalidParameter.KeypairAlreadyAttachedInstance") end
            end
            gone[#gone + 1] = kp
          end
        end
        engine.commit(a)
        for _, kp in ipairs(gone) do engine.remove(emu, ctx, kp) end
        return {}
      end,
    },
    AttachKeyPair = {
      op = "custom", honours = { "InstanceIds", "KeyPairName" },
      handler = function(emu, a, ctx) return per_instance(emu, a, ctx, true) end,
    },
    DetachKeyPair = {
      op = "custom", honours = { "InstanceIds", "KeyPairName" },
      handler = function(emu, a, ctx) return per_instance(emu, a, ctx, false) end,
    },
  },
}

-- For ENS key pairs, made the same way.
key_pair.fingerprint, key_pair.private_key = fingerprint, pem

return key_pair
