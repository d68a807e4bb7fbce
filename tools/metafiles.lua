-- What the generators (gen-api.lua, gen-shapes.lua) share: reading the metadata's JSON files
-- and listing its folders, failing with one line that names the tool and the file.
local cjson = require "cjson"

local metafiles = {}

-- metafiles.new(tool) -> {die, read_json, list_dir, shell_quote} that name `tool` when they fail.
function metafiles.new(tool)
  local m = {}

  function m.die(fmt, ...)
    io.stderr:write(tool, ": ", string.format(fmt, ...), "\n")
    os.exit(1)
  end

  function m.read_json(path)
    local f, err = io.open(path, "rb")
    if not f then m.die("%s", err) end
    local text = f:read("a")
    f:close()
    local ok, value = pcall(cjson.decode, text)
    if not ok then m.die("%s: %s", path, value) end
    return value
  end

  function m.shell_quote(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
  end

  -- The names in dir that end with suffix, sorted; none when dir does not exist.
  function m.list_dir(dir, suffix)
    local p = io.popen("ls -1 " .. m.shell_quote(dir) .. " 2>/dev/null")
    local names = {}
    for line in p:lines() do
      if line:sub(-#suffix) == suffix then names[#names + 1] = line end
    end
    p:close()
    table.sort(names)
    return names
  end

  return m
end

return metafiles
