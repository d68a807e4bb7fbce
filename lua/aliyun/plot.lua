-- Terminal charts of monitoring series: a result whose one list holds points with a
-- TimeStamp and numeric fields (DescribeInstanceMonitorData, DescribeDiskMonitorData,
-- DescribeEniMonitorData ...) becomes a column chart drawn with block characters, one
-- chart per metric, with the value range on the left and the time range underneath.
--
--   plot.chart(result, {metric = "CPU" | {"CPU", "IOPSRead"}, width = 60, height = 8,
--                       ascii = false}) -> text | nil, why
local core = require "aliyun.core"
local paginate = require "aliyun.paginate"

local plot = {}

local BLOCKS = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }
local ASCII = { " ", ".", ".", "-", "-", "=", "=", "#", "#" }

local function is_number(v)
  return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
end

local function time_of(point)
  for _, k in ipairs { "TimeStamp", "Timestamp", "Time", "time" } do
    if type(point[k]) == "string" then return point[k] end
  end
end

-- The series: the points list and the numeric fields its points carry, sorted.
function plot.series(result)
  if type(result) ~= "table" then return nil, "plot: a result table expected" end
  local path, why = paginate.find_items(result)
  if not path then return nil, "plot: no monitoring series in the result (" .. why .. ")" end
  local points = paginate.items_at(result, path)
  if type(points) ~= "table" then return nil, "plot: no monitoring series in the result" end
  local seen, metrics = {}, {}
  for _, p in ipairs(points) do
    if type(p) == "table" then
      for k, v in pairs(p) do
        if is_number(v) and not seen[k] and type(k) == "string" then
          seen[k] = true
          metrics[#metrics + 1] = k
        end
      end
    end
  end
  table.sort(metrics)
  return { path = path, points = points, metrics = metrics }
end

-- The metric drawn when none is named: one that sums others (a total), else CPU, else the
-- first field that varies, else the first.
local function default_metric(series)
  local varies = {}
  for _, m in ipairs(series.metrics) do
    local first
    for _, p in ipairs(series.points) do
      local v = p[m]
      if first == nil then first = v elseif v ~= first then varies[m] = true break end
    end
  end
  for _, m in ipairs(series.metrics) do if m:find("Total$") and varies[m] then return m end end
  for _, m in ipairs(series.metrics) do if m:upper() == "CPU" then return m end end
  for _, m in ipairs(series.metrics) do if varies[m] then return m end end
  return series.metrics[1]
end

local function number_text(v)
  if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
  return string.format("%.4g", v)
end

-- Averages the values into width buckets (or repeats them to fill up to `stretch` columns
-- each when there are few points).
local function columns(values, width)
  local n = #values
  if n <= width then
    local each = math.max(1, math.min(3, math.floor(width / math.max(n, 1))))
    local out = {}
    for _, v in ipairs(values) do
      for _ = 1, each do out[#out + 1] = v end
    end
    return out
  end
  local out = {}
  for c = 1, width do
    local from = math.floor((c - 1) * n / width) + 1
    local to = math.max(from, math.floor(c * n / width))
    local sum, count = 0, 0
    for i = from, to do
      if values[i] then sum, count = sum + values[i], count + 1 end
    end
    out[c] = count > 0 and sum / count or nil
  end
  return out
end

local function one_chart(series, metric, opts)
  local width, height = opts.width or 60, opts.height or 8
  local glyphs = opts.ascii and ASCII or BLOCKS
  local values, first_t, last_t = {}, nil, nil
  for _, p in ipairs(series.points) do
    local v = p[metric]
    if is_number(v) then
      values[#values + 1] = v
      local t = time_of(p)
      if t then first_t = first_t or t; last_t = t end
    end
  end
  if #values == 0 then return nil, "plot: no values of " .. metric .. " in the series" end
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(values) do
    if v < lo then lo = v end
    if v > hi then hi = v end
  end
  local base = math.min(lo, 0)
  local top = hi > base and hi or base + 1
  local cols = columns(values, width)
  local label_w = math.max(#number_text(top), #number_text(base))
  local lines = {}
  local sum = 0
  for _, v in ipairs(values) do sum = sum + v end
  lines[1] = string.format("%s  (%d points, min %s, max %s, avg %s)", metric, #values, number_text(lo),
    number_text(hi), number_text(sum / #values))
  for row = height, 1, -1 do
    local label = ""
    if row == height then label = number_text(top)
    elseif row == 1 then label = number_text(base) end
    local cells = {}
    for c, v in ipairs(cols) do
      local eighths = v and math.floor((v - base) / (top - base) * height * 8 + 0.5) or 0
      local here = eighths - (row - 1) * 8
      if here >= 8 then cells[c] = glyphs[9]
      elseif here <= 0 then cells[c] = (row == 1 and v and v > base) and glyphs[2] or " "
      else cells[c] = glyphs[here + 1] end
    end
    lines[#lines + 1] = string.rep(" ", label_w - #label) .. label .. " |" .. table.concat(cells)
  end
  lines[#lines + 1] = string.rep(" ", label_w) .. " +" .. string.rep("-", #cols)
  if first_t then
    local span = first_t
    if last_t and last_t ~= first_t then
      local gap = #cols - #first_t - #last_t
      span = first_t .. (gap >= 2 and string.rep(" ", gap) or "  ") .. last_t
    end
    lines[#lines + 1] = string.rep(" ", label_w + 2) .. span
  end
  return table.concat(lines, "\n")
end

function plot.chart(result, opts)
  opts = opts or {}
  local series, why = plot.series(result)
  if not series then return nil, why end
  if #series.points == 0 then return nil, "plot: the series " .. series.path .. " is empty" end
  if #series.metrics == 0 then return nil, "plot: the points of " .. series.path .. " carry no numbers" end
  -- a listing of things (DescribeDisks) has numbers too, but no time: not a series
  local timed = false
  for _, p in ipairs(series.points) do
    if type(p) == "table" and time_of(p) then timed = true break end
  end
  if not timed then
    return nil, "plot: " .. series.path .. " is not a monitoring series (its points have no TimeStamp); "
      .. "plot draws the results of Describe*MonitorData actions"
  end
  local wanted = opts.metric
  if type(wanted) == "string" then
    local list = {}
    for m in wanted:gmatch("[^,%s]+") do list[#list + 1] = m end
    wanted = list
  end
  if wanted == nil or #wanted == 0 then wanted = { default_metric(series) } end
  local known = {}
  for _, m in ipairs(series.metrics) do known[m] = true end
  local charts = {}
  for _, m in ipairs(wanted) do
    if not known[m] then
      return nil, "plot: no metric " .. tostring(m) .. " in " .. series.path .. " (it has "
        .. table.concat(series.metrics, ", ") .. ")"
    end
    local text, err = one_chart(series, m, opts)
    if not text then return nil, err end
    charts[#charts + 1] = text
  end
  return table.concat(charts, "\n\n") .. "\n"
end

-- Whether the terminal takes UTF-8 block characters (LANG/LC_* name UTF-8).
function plot.utf8_terminal(getenv)
  getenv = getenv or os.getenv
  local v = getenv("LC_ALL") or getenv("LC_CTYPE") or getenv("LANG") or ""
  return v:upper():find("UTF%-?8") ~= nil
end

plot.null = core.null

return plot
