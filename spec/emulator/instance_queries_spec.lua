-- The emulator case "instance_queries", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("instance_queries", support.inprocess(support.OPTIONS), _ENV)
