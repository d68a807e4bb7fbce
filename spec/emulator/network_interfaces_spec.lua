-- The emulator case "network_interfaces", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("network_interfaces", support.inprocess(support.OPTIONS), _ENV)
