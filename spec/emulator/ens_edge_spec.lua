-- The emulator case "ens_edge", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("ens_edge", support.inprocess(support.OPTIONS), _ENV)
