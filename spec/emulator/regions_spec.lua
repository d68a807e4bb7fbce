-- The emulator case "regions", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("regions", support.inprocess(support.OPTIONS), _ENV)
