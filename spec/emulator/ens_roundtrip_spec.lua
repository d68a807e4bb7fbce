-- The emulator case "ens_roundtrip", in process (over HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("ens_roundtrip", support.inprocess(support.OPTIONS), _ENV)
