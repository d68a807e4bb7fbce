-- What the bash completion script (completions/aliyun-lua.bash) offers for the word being
-- typed: products, actions, parameter names (--RegionId), options and their values
-- (profiles, regions, --output's words). The script asks the command (aliyun-lua
-- __complete LINE), so what it offers follows the command's own tables and options.
--
--   completion.complete(line, getenv) -> sorted candidates for the last word of line
local api = require "aliyun.api"
local cli = require "aliyun.cli"
local endpoints = require "aliyun.endpoints"

local completion = {}
local FLAGS, SHORT, SUBOPTIONS = cli.FLAGS, cli.SHORT, cli.SUBOPTIONS

local function starting(list, prefix)
  local out = {}
  for _, c in ipairs(list) do
    if c:sub(1, #prefix) == prefix then out[#out + 1] = c end
  end
  table.sort(out)
  return out
end

-- The words before the one being completed, read as the parser reads them: the
-- positional words (product, action), and the option whose key=value words (or --output's
-- json/table) run up to the end, if any.
local function scan(words, upto)
  local positional, open_sub = {}, nil
  local k = 1
  while k <= upto do
    local w = words[k]
    local name = SHORT[w] or w:match("^%-%-([%w_.%-]+)$")
    local kind = name and FLAGS[name]
    open_sub = nil
    if w:match("^%-%-[%w_.%-]+=") then
      k = k + 1
    elseif kind == "value" then
      k = k + 2
    elseif kind == "version" then
      k = k + ((words[k + 1] or ""):match("^%d%d%d%d%-") and 2 or 1)
    elseif kind == "sub" then
      k = k + 1
      if name == "output" and (words[k] == "json" or words[k] == "table") and k <= upto then k = k + 1 end
      while k <= upto and words[k]:match("^%a+=") do k = k + 1 end
      if k > upto then open_sub = name end
    elseif name and name:match("^%u") then
      k = k + ((words[k + 1] and k + 1 <= upto and not words[k + 1]:match("^%-%-")) and 2 or 1)
    elseif w:sub(1, 1) == "-" then
      k = k + 1
    else
      positional[#positional + 1] = w
      k = k + 1
    end
  end
  return positional, open_sub
end

-- cli.complete(line) -> the words that may complete the last word of the command line
-- typed so far (line ends with a space: a new word). For the bash completion script:
-- products, actions, parameter names (with --), options and their values.
function completion.complete(line, getenv)
  local words = {}
  for w in line:gmatch("%S+") do words[#words + 1] = w end
  if line == "" or line:match("%s$") then words[#words + 1] = "" end
  table.remove(words, 1) -- the command itself
  local cur = words[#words] or ""
  local prev = words[#words - 1]
  -- a value after an option that takes one
  local pflag = prev and (SHORT[prev] or prev:match("^%-%-([%w-]+)$"))
  if pflag == "profile" then return starting(cli.profile_names(getenv), cur) end
  if pflag == "region" then return starting(endpoints.regions(), cur) end
  if pflag and FLAGS[pflag] == "value" then return {} end
  local positional, open_sub = scan(words, #words - 1)
  local list = {}
  if open_sub and cur:sub(1, 1) ~= "-" then
    for key in pairs(SUBOPTIONS[open_sub]) do list[#list + 1] = key .. "=" end
    if open_sub == "output" and prev == "--output" then list[#list + 1] = "json" list[#list + 1] = "table" end
  end
  if cur:sub(1, 1) == "-" then
    for name in pairs(FLAGS) do list[#list + 1] = "--" .. name end
    local product, action = positional[1] and positional[1]:lower(), positional[2]
    local entry = product and action and api.find(product, action)
    if entry then
      for _, n in ipairs(api.index(entry).names) do list[#list + 1] = "--" .. n end
    end
  elseif #positional == 0 then
    for _, p in ipairs(api.products()) do list[#list + 1] = p end
  elseif #positional == 1 and cli.product_known(positional[1]:lower()) then
    for _, a in ipairs(api.actions(positional[1]:lower())) do list[#list + 1] = a end
  end
  return starting(list, cur)
end

return completion
