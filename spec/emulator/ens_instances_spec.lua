-- The emulator case "ens_instances", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("ens_instances", support.inprocess(support.OPTIONS), _ENV)
