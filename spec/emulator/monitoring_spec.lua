-- The emulator case "monitoring", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("monitoring", support.inprocess(support.OPTIONS), _ENV)
