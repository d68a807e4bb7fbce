-- Images: the public ones every account sees (ImageOwnerAlias system) and the account's own
-- (self). An instance launches from an Available image of its region or a public one.
local engine = require "aliyun.emulator.engine"
local fixtures = require "aliyun.emulator.fixtures"

local image = {
  name = "image", product = "ecs", id = "ImageId", prefix = "m", scope = "region", name_field = "ImageName",
  not_found = "InvalidImageId.NotFound", tag_type = "image",
  fields = {},
  actions = {
    DescribeImages = {
      op = "describe", page_max = 100, ids = { ImageId = "ImageId" },
      filters = {
        ImageName = "ImageName", ImageFamily = "ImageFamily", OSType = "OSType", Architecture = "Architecture",
        Status = { field = "Status", match = function(rec, v)
          for s in v:gmatch("[^,]+") do if rec.Status == s then return true end end
          return false
        end },
        ImageOwnerAlias = { field = "ImageOwnerAlias", enum = { "system", "self", "others", "marketplace" } },
        IsPublic = "IsPublic", Usage = { field = "Usage", enum = { "instance", "none" } },
      },
      -- public images are in every region; ImageOwnerAlias=system lists only them
      scope = false,
      prepare = function(emu, a, ctx)
        ctx.region = engine.region(emu, a)
        if not a:has("Status") then ctx.only_available = true end
      end,
      keep = function(rec, ctx)
        if rec.ImageOwnerAlias ~= "system" and rec.RegionId ~= ctx.region then return false end
        return not ctx.only_available or rec.Status == "Available"
      end,
    },
  },
}

-- The fixture: the public images, stored in each account's world with no region.
function image.fixture(emu, ctx)
  local created = "2024-01-01T00:00:00Z"
  for _, img in ipairs(fixtures.IMAGES) do
    engine.store(ctx, engine.record(emu, ctx, image, {
      ImageId = img.id, ImageName = img.id, ImageFamily = img.family, ImageVersion = "1.0", Description = img.os,
      OSName = img.os, OSNameEn = img.os, OSType = img.os_type or "linux", Platform = img.platform,
      Architecture = "x86_64", Size = img.size, Status = "Available", ImageOwnerAlias = "system", IsPublic = true,
      IsSelfShared = "False", IsCopied = false, IsSubscribed = false, IsSupportIoOptimized = true,
      IsSupportCloudinit = true, Usage = "instance", Progress = "100%", BootMode = "BIOS", CreationTime = created,
      ProductCode = "", ImageOwnerId = 0, DiskDeviceMappings = {}, ResourceGroupId = "",
    }))
  end
end

return image
