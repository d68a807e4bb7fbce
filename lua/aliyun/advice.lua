-- Errors said in the terms of the place they appear. The library's messages speak Lua
-- (pass region = "..."); the one-shot command speaks flags (--region) and the REPL its
-- :commands (:region). advice.say(err, place) -> the one line to show, place "cli" or
-- "repl"; the error object itself is left as it is.
local advice = {}

local TERMS = {
  cli = {
    no_region = "no region: give --region NAME (such as cn-hangzhou), --RegionId NAME or --endpoint URL",
    region_param = "choose a region with --region NAME (or give --RegionId NAME)",
    credentials = "or give --access-key-id and --access-key-secret, or --profile NAME",
    plain_http = "the server answered plain HTTP: give the endpoint as http://HOST:PORT",
    no_host = "check --region and --endpoint",
  },
  repl = {
    no_region = "no region: choose one with :region NAME (such as cn-hangzhou), pass RegionId = \"...\" "
      .. "in the call, or :endpoint URL",
    region_param = "choose a region with :region NAME, or pass RegionId = \"...\" in the call",
    credentials = "or :profile NAME for a profile of ~/.aliyun/config.json",
    plain_http = "the server answered plain HTTP: use :endpoint http://HOST:PORT",
    no_host = "check :region and :endpoint",
  },
}

local function one_line(s)
  return (tostring(s):gsub("[\r\n]+", " "))
end

-- The error's line with its message replaced or extended.
local function with_message(err, message)
  local copy = {}
  for k, v in pairs(err) do copy[k] = v end
  copy.message = message
  return tostring(setmetatable(copy, getmetatable(err)))
end

function advice.say(err, place)
  local t = TERMS[place]
  if not t or type(err) ~= "table" or not require("aliyun.errors").is_error(err) then return one_line(err) end
  local msg = tostring(err.message or "")
  local details = type(err.details) == "table" and err.details or {}
  if err.kind == "validation" and details.missing == "region" then
    return one_line(with_message(err, t.no_region))
  end
  if err.kind == "validation" and details.parameter == "RegionId" and msg:find("^missing required parameter RegionId") then
    return one_line(with_message(err, msg .. ": " .. t.region_param))
  end
  if err.kind == "credentials" then
    return one_line(with_message(err, msg .. " (" .. t.credentials .. ")"))
  end
  if err.kind == "network" then
    if msg:find("wrong version number", 1, true) or msg:find("packet length too long", 1, true) then
      return one_line(with_message(err, msg .. " (" .. t.plain_http .. ")"))
    end
    if msg:find("resolve", 1, true) or msg:find("Name or service not known", 1, true) then
      return one_line(with_message(err, msg .. " (" .. t.no_host .. ")"))
    end
  end
  return one_line(err)
end

return advice
