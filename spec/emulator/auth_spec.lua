-- The emulator's authentication and request errors, in process (the same cases run over
-- HTTP in spec/integration/emulator_spec.lua).
local support = require "support.emulator"

support.run("auth", support.inprocess(support.OPTIONS), _ENV)
