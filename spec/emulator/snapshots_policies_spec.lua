-- The emulator case "snapshots_policies", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("snapshots_policies", support.inprocess(support.OPTIONS), _ENV)
