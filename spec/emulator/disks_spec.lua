-- The emulator case "disks", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("disks", support.inprocess(support.OPTIONS), _ENV)
