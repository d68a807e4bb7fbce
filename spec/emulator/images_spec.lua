-- The emulator case "images", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("images", support.inprocess(support.OPTIONS), _ENV)
