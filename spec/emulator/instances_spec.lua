-- The emulator case "instances", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("instances", support.inprocess(support.OPTIONS), _ENV)
