-- The emulator case "ens_network", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("ens_network", support.inprocess(support.OPTIONS), _ENV)
