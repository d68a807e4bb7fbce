-- Where a product's API lives. The hosts come from the generated endpoint data; the rules:
-- an explicit endpoint always wins (the client checks that first); a VPC endpoint when
-- asked for; the regional map; then the product's pattern for regions the map does not
-- know yet (new regions open before SDKs learn of them). HTTPS always.
local endpoints = {}

-- Hosts of regions missing from the maps. ENS has one public endpoint for all regions.
local FALLBACK = {
  ecs = function(region) return region and ("ecs." .. region .. ".aliyuncs.com") end,
  ens = function() return "ens.aliyuncs.com" end,
}

local data

local function load_data()
  if not data then data = require "aliyun.api.endpoints" end
  return data
end

local function valid_region(region)
  return type(region) == "string" and region:match("^[a-z][a-z0-9-]*[a-z0-9]$") ~= nil
end

-- endpoints.regions() -> the sorted region ids the endpoint data names (any product, public
-- or VPC): the regions this library knows.
local known

function endpoints.regions()
  if not known then
    local seen, list = {}, {}
    for _, info in pairs(load_data()) do
      for _, map in ipairs { type(info) == "table" and info.regional or {}, type(info) == "table" and info.vpc or {} } do
        for r in pairs(map) do
          if not seen[r] then
            seen[r] = true
            list[#list + 1] = r
          end
        end
      end
    end
    table.sort(list)
    known = list
  end
  local copy = {}
  for i, r in ipairs(known) do copy[i] = r end
  return copy
end

-- endpoints.check_region(region) -> true | nil, message naming the nearest known regions.
-- For the command line and the REPL, where a region is typed by hand and a misspelt one
-- would otherwise end as a DNS error; the library itself still accepts regions newer
-- than its data (resolve's fallback).
function endpoints.check_region(region)
  if not valid_region(region) then
    return nil, "region '" .. tostring(region) .. "' is not a region id such as cn-hangzhou"
  end
  local list = endpoints.regions()
  for _, r in ipairs(list) do
    if r == region then return true end
  end
  local near = require("aliyun.api").suggest(list, region, 3)
  return nil, "unknown region '" .. region .. "'" .. (#near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?")
    or (" (known: " .. table.concat(list, ", ", 1, math.min(#list, 8)) .. ", ...)"))
end

-- endpoints.resolve(product, {region = , endpoint_type = "public"|"vpc"})
--   -> "https://host" | nil, message
function endpoints.resolve(product, opts)
  opts = opts or {}
  product = type(product) == "string" and product:lower() or product
  local region = opts.region
  if region ~= nil and not valid_region(region) then
    return nil, "region '" .. tostring(region) .. "' is not a region id such as cn-hangzhou"
  end
  local info = load_data()[product]
  local fallback = FALLBACK[product]
  if not info or not fallback then
    return nil, "no endpoint data for product '" .. tostring(product) .. "': pass endpoint = \"https://host\""
  end
  local kind = opts.endpoint_type or "public"
  local host
  if kind == "vpc" then
    host = region and info.vpc[region]
    if not host then
      if product == "ecs" and region then
        host = "ecs-vpc." .. region .. ".aliyuncs.com"
      else
        return nil, "no VPC endpoint for " .. product .. (region and (" in " .. region) or "")
          .. ": pass endpoint = \"https://host\""
      end
    end
  elseif kind == "public" then
    host = region and info.regional[region]
    if not host and info.global ~= "" then host = info.global end
    host = host or fallback(region)
  else
    return nil, "endpoint_type must be \"public\" or \"vpc\", got '" .. tostring(kind) .. "'"
  end
  if not host then
    return nil, "no endpoint for " .. product .. ": pass region = \"cn-hangzhou\" (or RegionId) or endpoint"
  end
  return "https://" .. host
end

return endpoints
