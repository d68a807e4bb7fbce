-- The emulator case "launch_templates", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("launch_templates", support.inprocess(support.OPTIONS), _ENV)
