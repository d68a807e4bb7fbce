-- lazy("aliyun.errors") -> a table that stands for that module and loads it when a field of
-- it is first read; from then on it reads through to the module. For the modules that only
-- some calls use (errors: only a failure makes an error object), so that a fresh process's
-- first plain call does not compile them (bench/startup.lua).
return function(name)
  return setmetatable({}, {
    __index = function(proxy, k)
      local m = require(name)
      setmetatable(proxy, { __index = m })
      return m[k]
    end,
  })
end
