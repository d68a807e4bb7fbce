-- Iterating over every page of a listing, and over every item across pages, for both
-- kinds of listing the services have: PageNumber/PageSize/TotalCount and
-- NextToken/MaxResults. The edges are where scripts break, so each has a rule:
-- an empty listing yields one empty page; a full last page is followed by no empty one
-- when TotalCount says it was the last; a token seen twice stops with an error instead of
-- looping; a failed page ends the iteration with the error given to the caller.
local api = require "aliyun.api"
local errors = require "aliyun.errors"

local paginate = {}

local MAX_PAGES = 100000 -- a guard against a service that never says "last page"

local function copy(t)
  local r = {}
  for k, v in pairs(t or {}) do r[k] = v end
  return r
end

local function is_list(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for k in pairs(v) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #v
end

-- The path of the one list in a page ("Disks.Disk"), or nil and why.
function paginate.find_items(page)
  local found = {}
  for k, v in pairs(page) do
    if type(v) == "table" then
      if is_list(v) and next(v) ~= nil then
        found[#found + 1] = k
      elseif not is_list(v) then
        -- the services wrap lists: {"Disks": {"Disk": [...]}}
        local only, count = nil, 0
        for k2, v2 in pairs(v) do
          count = count + 1
          only = is_list(v2) and k2 or nil
        end
        if count == 1 and only then found[#found + 1] = k .. "." .. only end
      elseif next(v) == nil then
        found[#found + 1] = k
      end
    end
  end
  table.sort(found)
  if #found == 1 then return found[1] end
  if #found == 0 then return nil, "no list in the response" end
  return nil, "several lists in the response (" .. table.concat(found, ", ") .. ")"
end

-- The items at path in page; a path whose list the service left out (empty) gives {}.
function paginate.items_at(page, path)
  local v = page
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return {} end
    v = v[part]
  end
  if v == nil then return {} end
  if type(v) ~= "table" then return nil end
  return v
end

-- The items at a path the caller named (the items option, the CLI's --pager path=), or
-- nil and why. A path that leads nowhere is a mistake to report, not an empty listing,
-- when the page holds its list somewhere else; a page with no list at all is a listing the
-- service left empty.
function paginate.named_items(page, path)
  local v = page
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then v = nil break end
    v = v[part]
  end
  if type(v) == "table" and is_list(v) then return v end
  if v ~= nil then return nil, "items path " .. path .. " is not a list in the response" end
  local found = paginate.find_items(page)
  if found then
    return nil, "no list at items path " .. path .. " in the response; its list is at " .. found
  end
  return {}
end

local function has_param(client, action, name)
  local entry = api.find(client.product, action)
  return entry and api.index(entry).by_name[name] ~= nil
end

-- The options pages and each take besides the call's own.
local OWN_OPTIONS = {
  items = { function(v) return type(v) == "string" and v ~= "" end, "a path to the list in the answer, such as \"Disks.Disk\"" },
}

-- client:pages(action, params, opts) -> iterator of page, or false, err once on failure.
-- opts: items = "Disks.Disk" (only used by each), call options for every call.
function paginate.pages(client, action, params, opts)
  if type(action) ~= "string" then error("aliyun: pages: action name expected", 3) end
  if params ~= nil and type(params) ~= "table" then error("aliyun: pages: parameters must be a table", 3) end
  opts = opts or {}
  -- the options and the parameter table checked before the copies below are made
  local refused = client:_refuse(action, params, opts, OWN_OPTIONS)
  if refused then
    local told = false
    return function()
      if told then return nil end
      told = true
      return false, refused
    end
  end
  local call_opts = copy(opts)
  call_opts.items = nil
  local p = copy(params)
  local style -- "number" or "token", decided by the params and the first page
  if p.PageNumber ~= nil or p.PageSize ~= nil then
    style = "number"
  elseif p.NextToken ~= nil or p.MaxResults ~= nil then
    style = "token"
  end
  local count, done, seen_tokens, seen_items = 0, false, {}, 0
  return function()
    if done then return nil end
    count = count + 1
    if count > MAX_PAGES then
      done = true
      return false, errors.new { kind = "service", action = action,
        message = "more than " .. MAX_PAGES .. " pages: stopped (the service never said the last page)" }
    end
    local page, err = client:call(action, p, call_opts)
    if not page then
      done = true
      return false, err
    end
    if style == nil then
      if page.NextToken ~= nil and has_param(client, action, "NextToken") then
        style = "token"
      elseif page.TotalCount ~= nil or page.PageNumber ~= nil then
        style = "number"
      else
        done = true -- not a paged listing: one page
        return page
      end
    end
    if style == "token" then
      local token = page.NextToken
      if type(token) ~= "string" or token == "" then
        done = true
      elseif seen_tokens[token] then
        done = true
        return false, errors.new { kind = "service", action = action,
          message = "the service returned NextToken '" .. token .. "' twice: stopped to avoid a loop" }
      else
        seen_tokens[token] = true
        p.NextToken = token
      end
      return page
    end
    -- PageNumber style: the next page unless this one was the last
    local number = tonumber(page.PageNumber) or tonumber(p.PageNumber) or 1
    local size = tonumber(page.PageSize) or tonumber(p.PageSize)
    local total = tonumber(page.TotalCount)
    local path = opts.items or paginate.find_items(page)
    local items
    if opts.items then
      local why
      items, why = paginate.named_items(page, path)
      if not items then
        done = true
        return false, errors.new { kind = "validation", action = action, message = why }
      end
    else
      items = path and paginate.items_at(page, path)
    end
    local n = items and #items
    seen_items = seen_items + (n or 0)
    if n == 0 then
      done = true
    elseif total and (size and number * size >= total or seen_items >= total) then
      done = true
    elseif size and n and n < size then
      done = true
    elseif not total and not size then
      done = true -- nothing says there is more
    end
    p.PageNumber = number + 1
    return page
  end
end

-- client:each(action, params, opts) -> iterator of item, or false, err once on failure.
function paginate.each(client, action, params, opts)
  opts = opts or {}
  local pages = paginate.pages(client, action, params, opts)
  local path = opts.items
  local items, i = nil, 0
  return function()
    while true do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      local page, err = pages()
      if page == nil then return nil end
      if page == false then return false, err end
      if not path then
        local why
        path, why = paginate.find_items(page)
        if not path then
          return false, errors.new { kind = "validation", action = action,
            message = why .. ": name it with the items option, e.g. items = \"Disks.Disk\"" }
        end
      end
      local why
      if opts.items then
        items, why = paginate.named_items(page, path)
      else
        items = paginate.items_at(page, path)
        why = "items path " .. path .. " is not a list in the response"
      end
      i = 0
      if not items then
        return false, errors.new { kind = opts.items and "validation" or "decode", action = action, message = why }
      end
    end
  end
end

return paginate
