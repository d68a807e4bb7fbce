-- The emulator case "keys_tags", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("keys_tags", support.inprocess(support.OPTIONS), _ENV)
