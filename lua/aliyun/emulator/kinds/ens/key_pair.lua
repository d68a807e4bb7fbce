-- ENS SSH key pairs: one account-wide list (no edge node), a pair known by its id
-- (KeyPairId) and by its unique name. CreateKeyPair answers the private key once (a
-- well-formed PEM block of random bytes: the emulator runs no SSH). Instances name a key
-- pair at RunInstances; a pair an instance uses cannot be deleted (PubKeyAttachedWithInstance).
local common = require "aliyun.emulator.kinds.ens.common"
local core = require "aliyun.core"
local ecs_key_pair = require "aliyun.emulator.kinds.key_pair"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise

local function check_name(v)
  if #v < 2 or #v > 128 or not v:match("^%a") or v:match("^https?://") or v:find("[^%w:_%-]") then
    common.bad_field("KeyPairName", "It must be 2 to 128 characters, start with a letter and hold letters, digits, "
      .. "colons, underscores and hyphens.")
  end
end

local function by_name(ctx, name)
  return engine.list(ctx, "ens_key_pair", function(k) return k.KeyPairName == name end)[1]
end

-- A name with * matches as a pattern; otherwise the name is matched exactly.
local function name_match(rec, v)
  if v:find("*", 1, true) then
    local pattern = "^" .. v:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
    return rec.KeyPairName:match(pattern) ~= nil
  end
  return rec.KeyPairName == v
end

return {
  name = "ens_key_pair", product = "ens", id = "KeyPairId", prefix = "ssh", id_length = 24, scope = "global",
  name_field = "KeyPairName", not_found = "InvalidParameter.KeyPairId", error_status = 400,
  fields = { KeyPairName = {} },
  roundtrip = {
    create = { "CreateKeyPair", function() return { KeyPairName = "rtkey" } end },
    id = function(answer) return answer.KeyPairId end,
    describe = { "DescribeKeyPairs", function(_, id) return { KeyPairId = id } end },
    delete = { "DeleteKeyPairs", function(_, id) return { KeyPairId = id } end },
    not_found = "InvalidParameter.KeyPairId",
  },
  actions = {
    CreateKeyPair = {
      op = "create", limit = 500, limit_code = "InvalidParameter",
      before = function(emu, _, ctx, rec)
        check_name(rec.KeyPairName)
        if by_name(ctx, rec.KeyPairName) then raise("PubKeyNameExisted", nil, 400) end
        rec.public_key = "ssh-rsa " .. core.base64(emu.ids:chars(270)) .. " " .. rec.KeyPairName
        rec.KeyPairFingerPrint = ecs_key_pair.fingerprint(rec.public_key)
      end,
      answer = function(emu, _, rec)
        return { KeyPairId = rec.KeyPairId, KeyPairName = rec.KeyPairName, KeyPairFingerPrint = rec.KeyPairFingerPrint,
          PrivateKeyBody = ecs_key_pair.private_key(emu) }
      end,
    },
    DescribeKeyPairs = {
      op = "describe", page_max = 50,
      filters = { KeyPairId = "KeyPairId", KeyPairName = { field = "KeyPairName", match = name_match } },
    },
    DeleteKeyPairs = {
      op = "custom", honours = { "KeyPairId", "KeyPairName" },
      handler = function(emu, a, ctx)
        local id, name = a:str("KeyPairId"), a:str("KeyPairName")
        if not id and not name then errors.missing("KeyPairName") end
        local kp
        if id then
          kp = common.find(ctx, "ens_key_pair", id)
          if name and kp.KeyPairName ~= name then common.bad_field("KeyPairName", "It does not name " .. id .. ".") end
        else
          kp = by_name(ctx, name)
          if not kp then common.bad_field("KeyPairName", "The key pair " .. name .. " does not exist.") end
        end
        for _, inst in ipairs(engine.list(ctx, "ens_instance")) do
          if inst.KeyPairName == kp.KeyPairName then raise("PubKeyAttachedWithInstance", nil, 400) end
        end
        engine.commit(a)
        engine.remove(emu, ctx, kp)
        return {}
      end,
    },
  },
}
