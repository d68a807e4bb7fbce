-- The emulator case "ens_storage", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("ens_storage", support.inprocess(support.OPTIONS), _ENV)
