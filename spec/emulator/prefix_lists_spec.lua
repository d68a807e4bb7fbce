-- The emulator case "prefix_lists", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("prefix_lists", support.inprocess(support.OPTIONS), _ENV)
