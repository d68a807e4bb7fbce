-- The emulator case "ens", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("ens", support.inprocess(support.OPTIONS), _ENV)
