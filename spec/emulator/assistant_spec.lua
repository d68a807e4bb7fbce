-- The emulator case "assistant", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("assistant", support.inprocess(support.OPTIONS), _ENV)
