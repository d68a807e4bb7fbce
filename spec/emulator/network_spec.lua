-- The emulator case "network", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("network", support.inprocess(support.OPTIONS), _ENV)
