-- The emulator case "roundtrip" (every kind's generated round trip), in process (over HTTP
-- in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("roundtrip", support.inprocess(support.OPTIONS), _ENV)
