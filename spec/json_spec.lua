-- The C core's JSON decoder (csrc/json.c): exact values, exact error messages with byte
-- offsets, and the same results as lua-cjson on a large API response.
-- Runs under Lua 5.4 and LuaJIT: no integer division, no math.type unless it exists.
local core = require "aliyun.core"
local cjson = require "cjson"

local decode = core.json_decode
local HAS_INTEGERS = math.type ~= nil
local MAXINT = math.maxinteger or 2 ^ 63 -- LuaJIT: int64 max pushed as a double rounds to 2^63
local MININT = math.mininteger or -2 ^ 63

-- decode must fail with exactly this message
local function fails_with(text, message)
  local v, err = decode(text)
  assert.is_nil(v)
  assert.are.equal(message, err)
end

local function assert_integer(v)
  assert.are.equal("number", type(v))
  if HAS_INTEGERS then assert.are.equal("integer", math.type(v)) end
end

local function assert_float(v)
  assert.are.equal("number", type(v))
  if HAS_INTEGERS then assert.are.equal("float", math.type(v)) end
end

-- Deep equality that also tells integers from floats (under 5.4, unless loose) and names
-- the first difference; cjson.null compares by identity like any other value.
local function diff(a, b, path, loose)
  if type(a) ~= type(b) then
    return string.format("%s: %s vs %s", path, type(a), type(b))
  end
  if type(a) == "number" then
    if a ~= b then return string.format("%s: %.17g vs %.17g", path, a, b) end
    if HAS_INTEGERS and not loose and math.type(a) ~= math.type(b) then
      return string.format("%s: %s vs %s", path, math.type(a), math.type(b))
    end
    return nil
  end
  if type(a) ~= "table" then
    if a ~= b then return string.format("%s: %s vs %s", path, tostring(a), tostring(b)) end
    return nil
  end
  for k, v in pairs(a) do
    local d = diff(v, b[k], path .. "[" .. string.format("%q", tostring(k)) .. "]", loose)
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. ": extra key " .. tostring(k) end
  end
  return nil
end

local function assert_same(expected, actual, loose)
  local d = diff(expected, actual, "value", loose)
  if d then error("decoded value differs at " .. d, 2) end
end

-- A DescribeInstances-like response of at least `target` bytes, in the compact form the
-- API sends: raw UTF-8, a few escapes, integers, floats, booleans, nulls, empty lists.
local function describe_instances(target)
  local parts, size, i = {}, 0, 0
  while size < target do
    i = i + 1
    local rec = string.format(
      '{"InstanceId":"i-bp1%014d","InstanceName":"web-%d","Description":"%s",' ..
      '"ImageId":"centos_7_9_x64_20G_alibase_20240628.vhd","RegionId":"cn-hangzhou","ZoneId":"cn-hangzhou-%s",' ..
      '"Cpu":%d,"Memory":%d,"InstanceType":"ecs.g6.large","InstanceTypeFamily":"ecs.g6","Status":"Running",' ..
      '"CreationTime":"2024-01-%02dT03:04Z","ExpiredTime":"2099-12-31T15:59Z","InternetMaxBandwidthIn":-1,' ..
      '"InternetMaxBandwidthOut":%d,"SecurityGroupIds":{"SecurityGroupId":["sg-bp1%011d"]},' ..
      '"VpcAttributes":{"VpcId":"vpc-bp1%011d","VSwitchId":"vsw-bp1%011d",' ..
      '"PrivateIpAddress":{"IpAddress":["172.16.%d.%d"]},"NatIpAddress":""},"PublicIpAddress":{"IpAddress":[]},' ..
      '"EipAddress":{"AllocationId":"","IpAddress":"","InternetChargeType":"","Bandwidth":0},' ..
      '"NetworkInterfaces":{"NetworkInterface":[{"MacAddress":"00:16:3e:%02x:%02x:%02x",' ..
      '"PrimaryIpAddress":"172.16.%d.%d","NetworkInterfaceId":"eni-bp1%011d","Type":"Primary",' ..
      '"PrivateIpSets":{"PrivateIpSet":[{"PrivateIpAddress":"172.16.%d.%d","Primary":true}]}}]},' ..
      '"Tags":{"Tag":[{"TagKey":"env","TagValue":"prod"},{"TagKey":"owner","TagValue":"team-%d"}]},' ..
      '"OperationLocks":{"LockReason":[]},"DeletionProtection":%s,"GPUAmount":0,"SpotPriceLimit":%s,' ..
      '"OSName":"CentOS  7.9 64位","OSNameEn":"CentOS  7.9 64 bit","OSType":"linux",' ..
      '"SerialNumber":"%08x-1234-4abc-9def-%012d","HostName":"iZbp1%dZ","StoppedMode":"Not-applicable",' ..
      '"KeyPairName":null,"CpuOptions":{"CoreCount":%d,"ThreadsPerCore":2,"Numa":""},' ..
      '"MetadataOptions":{"HttpEndpoint":"","HttpTokens":""},"StartTime":"2024-02-%02dT05:06Z",' ..
      '"LocalStorageCapacity":0,"Score":%s,"Big":%s}',
      i, i, (i % 7 == 0) and 'line one\\nline \\"two\\" \\u4e2d\\u6587 \\ud83d\\ude00 \\/' or "",
      string.char(97 + i % 8), math.floor(2 ^ (i % 4)), math.floor(1024 * 2 ^ (i % 5)), i % 28 + 1, i % 100,
      i, i, i, i % 256, i * 7 % 256, i % 256, i % 256, i % 256, i % 256, i * 3 % 256, i, i % 256, i * 3 % 256,
      i % 13, (i % 2 == 0) and "true" or "false", string.format("%.3f", (i % 1000) / 7 + 0.0005), i, i, i,
      i % 8 + 1, i % 28 + 1, string.format("%.17g", i / 3 * 1e-5),
      (i % 5 == 0) and "12345678901234567890" or tostring(i * 1000003))
    parts[#parts + 1] = rec
    size = size + #rec
  end
  return '{"RequestId":"6A1B2C3D-1234-5678-9ABC-DEF012345678","TotalCount":' .. i ..
    ',"PageNumber":1,"PageSize":' .. i .. ',"NextToken":"","Instances":{"Instance":[' ..
    table.concat(parts, ",") .. ']}}', i
end

describe("core.json_decode #core", function()
  describe("literals and null", function()
    it("decodes true and false", function()
      assert.is_true(decode("true"))
      assert.is_false(decode("false"))
    end)

    it("decodes null to the NULL light userdata, equal to cjson.null and core.null", function()
      local v, err = decode("null")
      assert.is_nil(err)
      assert.are.equal("userdata", type(v))
      assert.is_true(v == cjson.null)
      assert.is_true(v == core.null)
    end)

    it("keeps nulls in arrays so the length stays", function()
      local t = decode("[1,null,3]")
      assert.are.equal(3, #t)
      assert.are.equal(1, t[1])
      assert.are.equal(cjson.null, t[2])
      assert.are.equal(3, t[3])
      local n = decode("[null,null,null]")
      assert.are.equal(3, #n)
      for i = 1, 3 do assert.are.equal(cjson.null, n[i]) end
    end)

    it("keeps null object members as keys holding the sentinel", function()
      local t = decode('{"a":null}')
      assert.are.equal(cjson.null, t.a)
      assert.are.equal("a", (next(t)))
    end)

    it("rejects misspelt and truncated literals at the first wrong byte", function()
      fails_with("tru", "unexpected end of input at byte 4")
      fails_with("trUe", "unexpected character 'U' at byte 3")
      fails_with("nul", "unexpected end of input at byte 4")
      fails_with("nulL", "unexpected character 'L' at byte 4")
      fails_with("[fals]", "unexpected character ']' at byte 6")
      fails_with("True", "unexpected character 'T' at byte 1")
      fails_with("truex", "trailing garbage at byte 5")
    end)
  end)

  describe("strings", function()
    it("decodes plain strings, the empty string and raw UTF-8 as they are", function()
      assert.are.equal("", decode('""'))
      assert.are.equal("hello world", decode('"hello world"'))
      assert.are.equal("中文 😀", decode('"中文 😀"'))
      assert.are.equal("\127", decode('"\127"'))
    end)

    it("passes bytes that are not valid UTF-8 through unchanged", function()
      assert.are.equal("\255\254\192", decode('"\255\254\192"'))
    end)

    it("decodes each simple escape", function()
      local cases = {
        ['\\"'] = '"', ["\\\\"] = "\\", ["\\/"] = "/", ["\\b"] = "\b",
        ["\\f"] = "\f", ["\\n"] = "\n", ["\\r"] = "\r", ["\\t"] = "\t",
      }
      for esc, want in pairs(cases) do
        assert.are.equal(want, decode('"' .. esc .. '"'))
        assert.are.equal("a" .. want .. "b", decode('"a' .. esc .. 'b"'))
      end
    end)

    it("decodes all simple escapes in one string", function()
      assert.are.equal('x"\\/\b\f\n\r\ty', decode('"x\\"\\\\\\/\\b\\f\\n\\r\\ty"'))
    end)

    it("decodes \\u escapes of every UTF-8 length, either hex case", function()
      assert.are.equal("A", decode('"\\u0041"'))
      assert.are.equal("\0", decode('"\\u0000"'))
      assert.are.equal("a\0b", decode('"a\\u0000b"'))
      assert.are.equal("\127", decode('"\\u007f"'))
      assert.are.equal("\194\128", decode('"\\u0080"'))
      assert.are.equal("\195\169", decode('"\\u00e9"'))
      assert.are.equal("\195\169", decode('"\\u00E9"'))
      assert.are.equal("\223\191", decode('"\\u07FF"'))
      assert.are.equal("\224\160\128", decode('"\\u0800"'))
      assert.are.equal("\226\130\172", decode('"\\u20AC"'))
      assert.are.equal("\228\184\173\230\150\135", decode('"\\u4e2d\\u6587"'))
      assert.are.equal("\239\191\191", decode('"\\uFFFF"'))
    end)

    it("combines surrogate pairs into one 4-byte code point", function()
      assert.are.equal("\240\159\152\128", decode('"\\ud83d\\ude00"'))
      assert.are.equal("\240\159\152\128", decode('"\\uD83D\\uDE00"'))
      assert.are.equal("\240\144\128\128", decode('"\\uD800\\uDC00"'))
      assert.are.equal("\244\143\191\191", decode('"\\uDBFF\\uDFFF"'))
      assert.are.equal("x\240\159\152\128y", decode('"x\\ud83d\\ude00y"'))
    end)

    it("rejects a lone high surrogate", function()
      fails_with('"\\uD800"', "lone surrogate \\uD800 at byte 2")
      fails_with('"ab\\ud83d"', "lone surrogate \\uD83D at byte 4")
      fails_with('"\\uD800x"', "lone surrogate \\uD800 at byte 2")
      fails_with('"\\uD800\\u0041"', "lone surrogate \\uD800 at byte 2")
      fails_with('"\\uD800\\uD800"', "lone surrogate \\uD800 at byte 2")
      fails_with('"\\uD800\\n"', "lone surrogate \\uD800 at byte 2")
    end)

    it("rejects a lone low surrogate", function()
      fails_with('"\\uDC00"', "lone surrogate \\uDC00 at byte 2")
      fails_with('"ab\\udfff"', "lone surrogate \\uDFFF at byte 4")
      fails_with('"\\uDE00\\uD83D"', "lone surrogate \\uDE00 at byte 2")
    end)

    it("rejects unknown escapes at the backslash", function()
      fails_with('"a\\q"', "invalid escape '\\q' at byte 3")
      fails_with('"\\x41"', "invalid escape '\\x' at byte 2")
      fails_with('"\\U0041"', "invalid escape '\\U' at byte 2")
      fails_with('"\\\'"', "invalid escape '\\'' at byte 2")
      fails_with('"\\0"', "invalid escape '\\0' at byte 2")
      fails_with('"\\\n"', "invalid escape '\\' + 0x0A at byte 2")
      fails_with('"\\ "', "invalid escape '\\' + 0x20 at byte 2")
    end)

    it("rejects \\u escapes without four hex digits", function()
      fails_with('"\\u12G4"', "invalid \\u escape at byte 2")
      fails_with('"ab\\u"', "invalid \\u escape at byte 4")
      fails_with('"\\u-123"', "invalid \\u escape at byte 2")
    end)

    it("rejects every unescaped control character, with or without escapes before it", function()
      for b = 0, 31 do
        fails_with('"a' .. string.char(b) .. 'b"', string.format("control character 0x%02X in string at byte 3", b))
        fails_with('"\\n' .. string.char(b) .. '"', string.format("control character 0x%02X in string at byte 4", b))
      end
    end)

    it("reports an unterminated string at its opening quote", function()
      fails_with('"abc', "unterminated string at byte 1")
      fails_with('["ab\\n', "unterminated string at byte 2")
      fails_with('"ab\\', "unterminated string at byte 1")
      fails_with('"\\u12', "unterminated string at byte 1")
      fails_with('{"a":"b', "unterminated string at byte 6")
      fails_with('{"ab', "unterminated string at byte 2")
    end)

    it("decodes escapes in object keys", function()
      local t = decode('{"a\\nb":1,"\\u00e9":2,"":3}')
      assert.are.equal(1, t["a\nb"])
      assert.are.equal(2, t["\195\169"])
      assert.are.equal(3, t[""])
    end)

    it("decodes long escaped strings, one after another, each in full", function()
      local raw, want = {}, {}
      for i = 1, 12 do
        local n = 3 ^ i
        raw[i] = '"' .. string.rep('ab\\n\\"\\u00e9', math.floor(n)) .. 'z"'
        want[i] = string.rep('ab\n"\195\169', math.floor(n)) .. "z"
      end
      -- longest first, then shortest first: the scratch space is reused and grown
      local t = decode("[" .. table.concat(raw, ",") .. "]")
      for i = 1, 12 do assert.are.equal(want[i], t[i]) end
      local rev_raw, rev_want = {}, {}
      for i = 12, 1, -1 do
        rev_raw[#rev_raw + 1] = raw[i]
        rev_want[#rev_want + 1] = want[i]
      end
      local r = decode("[" .. table.concat(rev_raw, ",") .. "]")
      for i = 1, 12 do assert.are.equal(rev_want[i], r[i]) end
    end)

    it("keeps the last of duplicate keys", function()
      assert.are.equal(2, decode('{"a":1,"a":2}').a)
      -- across the point where the decoder stops staging entries and makes the table (32)
      local parts = { '"dup":"first"' }
      for i = 2, 40 do parts[i] = '"k' .. i .. '":' .. i end
      parts[41] = '"dup":"last"'
      local t = decode("{" .. table.concat(parts, ",") .. "}")
      assert.are.equal("last", t.dup)
      assert.are.equal(40, t.k40)
    end)

    it("fills arrays and objects of every size around its staging limit", function()
      for _, n in ipairs { 0, 1, 2, 31, 32, 33, 63, 64, 65, 100, 1000 } do
        local items, fields = {}, {}
        for i = 1, n do
          items[i] = tostring(i * 3)
          fields[i] = '"f' .. i .. '":[' .. i .. ',{"x":' .. i .. '}]'
        end
        local a = decode("[" .. table.concat(items, ",") .. "]")
        assert.are.equal(n, #a, "array of " .. n)
        for i = 1, n do assert.are.equal(i * 3, a[i]) end
        local o = decode("{" .. table.concat(fields, ",") .. "}")
        local count = 0
        for _ in pairs(o) do count = count + 1 end
        assert.are.equal(n, count, "object of " .. n)
        for i = 1, n do
          assert.are.equal(i, o["f" .. i][1])
          assert.are.equal(i, o["f" .. i][2].x)
        end
      end
    end)
  end)

  describe("numbers", function()
    it("decodes integer literals to integers", function()
      local cases = {
        ["0"] = 0, ["-0"] = 0, ["1"] = 1, ["-1"] = -1, ["42"] = 42, ["1234567890"] = 1234567890,
        ["4294967296"] = 4294967296, ["-4294967297"] = -4294967297, ["9007199254740992"] = 9007199254740992,
      }
      for text, want in pairs(cases) do
        local v = decode(text)
        assert_integer(v)
        assert.are.equal(want, v)
      end
    end)

    it("decodes the int64 limits to integers", function()
      local hi = decode("9223372036854775807")
      local lo = decode("-9223372036854775808")
      assert_integer(hi)
      assert_integer(lo)
      assert.are.equal(MAXINT, hi)
      assert.are.equal(MININT, lo)
      if HAS_INTEGERS then
        assert.are.equal(math.maxinteger - 1, decode("9223372036854775806"))
        assert.are.equal(9007199254740993, decode("9007199254740993")) -- exact, not rounded to 2^53
      end
    end)

    it("decodes integer literals outside int64 to correctly rounded floats", function()
      local cases = {
        ["9223372036854775808"] = 2 ^ 63,
        ["-9223372036854775809"] = -2 ^ 63,
        ["18446744073709551615"] = 2 ^ 64,
        ["18446744073709551616"] = 2 ^ 64,
        ["-18446744073709551617"] = -2 ^ 64,
        ["123456789012345678901234567890"] = 1.2345678901234568e29,
        ["1" .. string.rep("0", 400)] = math.huge,
      }
      for text, want in pairs(cases) do
        local v = decode(text)
        assert_float(v)
        assert.are.equal(want, v)
      end
    end)

    it("decodes fractions and exponents to floats equal to the C library's", function()
      local cases = {
        ["0.1"] = 0.1, ["1e308"] = 1e308, ["2.5e-3"] = 0.0025, ["1.0"] = 1.0, ["1e2"] = 100.0,
        ["1E2"] = 100.0, ["1e+2"] = 100.0, ["1e-2"] = 0.01, ["-1.5e-10"] = -1.5e-10, ["0.5"] = 0.5,
        ["123456.789e3"] = 123456789.0, ["0.30000000000000004"] = 0.1 + 0.2, ["3.141592653589793"] = math.pi,
        ["3.14159265358979323846264338327950288"] = math.pi,
        ["0.1000000000000000055511151231257827021181583404541015625"] = 0.1,
        ["1.7976931348623157e308"] = 1.7976931348623157e308,
        ["2.2250738585072014e-308"] = 2.2250738585072014e-308,
        ["4.9406564584124654e-324"] = 4.9406564584124654e-324,
        ["5e-324"] = 4.9406564584124654e-324,
        ["1e400"] = math.huge, ["-1e400"] = -math.huge, ["1e-400"] = 0.0,
        ["1e99999999999999999999"] = math.huge, ["1e-99999999999999999999"] = 0.0,
        ["0e99999999999999999999"] = 0.0,
        ["0.000000000000000000000000000001"] = 1e-30,
        ["9007199254740993.0"] = 9007199254740992.0, -- halfway: ties to even
        ["9007199254740995.0"] = 9007199254740996.0,
        -- exactly halfway between 1 and the next double rounds to even; a hair more rounds up
        ["1.00000000000000011102230246251565404236316680908203125"] = 1.0,
        ["1.00000000000000011102230246251565404236316680908203126"] = 1.0000000000000002,
        ["1.5e0000000000000000000000001"] = 15.0,
      }
      for text, want in pairs(cases) do
        local v, err = decode(text)
        assert.is_nil(err)
        assert_float(v)
        assert.are.equal(want, v, text)
        local ref = tonumber(text) -- LuaJIT's tonumber gives up on 20-digit exponents
        if ref ~= nil then assert.are.equal(ref, v, text) end
      end
    end)

    it("keeps the sign of negative zero", function()
      for _, text in ipairs { "-0.0", "-0e0", "-0.000e-5", "-1e-400" } do
        local v = decode(text)
        assert_float(v)
        assert.are.equal(0, v)
        assert.are.equal(-math.huge, 1 / v, text)
      end
      assert.are.equal(math.huge, 1 / decode("0.0"))
    end)

    it("round-trips random doubles printed with 17 digits", function()
      math.randomseed(20240521)
      for i = 1, 5000 do
        local x = (math.random() - 0.5) * 10 ^ math.random(-320, 308)
        if i % 3 == 0 then x = math.random(1, 2 ^ 30) / 2 ^ math.random(0, 60) end
        local text = string.format("%.17g", x)
        if not text:find("[.e]") then text = text .. ".0" end
        local v = decode(text)
        assert.are.equal(x, v, text)
        assert_float(v)
      end
    end)

    it("rejects numbers that are not JSON", function()
      local at1 = {
        "01", "-01", "00", "-00", "1.", "-1.", "1.e5", "1e", "1E", "1e+", "1e-", "-", "--1", "-+1", "0x10", "0X1F",
        "1.5.2", "1e5e5", "1e5.5", "1E5E", "-Infinity", "-NaN", "-inf", "1a", "0b1", "1_000", "2-1", "1+1", "1.5e+-3",
        "-.5", "0.e1", "1ee5",
      }
      for _, text in ipairs(at1) do fails_with(text, "invalid number at byte 1") end
      fails_with("+1", "unexpected character '+' at byte 1")
      fails_with(".5", "unexpected character '.' at byte 1")
      fails_with("NaN", "unexpected character 'N' at byte 1")
      fails_with("Infinity", "unexpected character 'I' at byte 1")
      fails_with("inf", "unexpected character 'i' at byte 1")
      fails_with("[-]", "invalid number at byte 2")
      fails_with("[01]", "invalid number at byte 2")
      fails_with('{"a":1.}', "invalid number at byte 6")
      fails_with("[1,2,3e]", "invalid number at byte 6")
    end)

    it("is not confused by a locale whose decimal point is a comma", function()
      local old = os.setlocale(nil, "numeric")
      local set
      for _, name in ipairs { "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "ru_RU.UTF-8", "nl_NL.UTF-8" } do
        set = os.setlocale(name, "numeric")
        if set then break end
      end
      if not set then
        pending("no comma-decimal locale installed (try LOCPATH with a localedef-built de_DE.UTF-8)")
        return
      end
      local ok, err = pcall(function()
        -- the fast path (short literals) and the strtod path (long or huge ones)
        assert.are.equal(2.5, decode("2.5"))
        assert.are.equal(0.1, decode("0.1000000000000000055511151231257827021181583404541015625"))
        assert.are.equal(1e308, decode("1e308"))
        assert.are.equal(1.2345678901234568e29, decode("123456789012345678901234567890.0"))
        assert.are.equal(98765432109876540.0, decode("98765432109876540.0"))
      end)
      os.setlocale(old, "numeric")
      assert(ok, err)
    end)
  end)

  describe("structure", function()
    it("decodes empty arrays and objects to empty tables", function()
      for _, text in ipairs { "[]", "{}", "[ ]", "{ \n }" } do
        local t = decode(text)
        assert.are.equal("table", type(t))
        assert.is_nil(next(t))
      end
    end)

    it("decodes arrays to 1-based sequences", function()
      local t = decode('[10,"b",true,false,[],{}]')
      assert.are.equal(6, #t)
      assert.are.equal(10, t[1])
      assert.are.equal("b", t[2])
      assert.is_true(t[3])
      assert.is_false(t[4])
      assert.are.equal("table", type(t[5]))
      assert.is_nil(t[0])
    end)

    it("decodes nested structures exactly", function()
      local t = decode('{"a":[1,{"b":null,"c":[2.5,"x"]}],"d":{"e":{"f":[[],[{}]]}},"g":-7}')
      assert_same({
        a = { 1, { b = cjson.null, c = { 2.5, "x" } } },
        d = { e = { f = { {}, { {} } } } },
        g = -7,
      }, t)
    end)

    it("allows whitespace around every token, and only JSON's four whitespace bytes", function()
      local t = decode(' \t\r\n{ "a" : [ 1 , 2 ,\n\t"x" ] ,\r\n "b" : { } , "c":null }\n\t \r')
      assert_same({ a = { 1, 2, "x" }, b = {}, c = cjson.null }, t)
      assert.are.equal(5, decode("\n\n 5 \t"))
      fails_with("\f1", "unexpected character 0x0C at byte 1")
      fails_with("1\v", "trailing garbage at byte 2")
      fails_with("\194\1601", "unexpected character 0xC2 at byte 1")
    end)

    it("rejects empty and whitespace-only input", function()
      fails_with("", "unexpected end of input at byte 1")
      fails_with("   ", "unexpected end of input at byte 4")
      fails_with(" \t\r\n", "unexpected end of input at byte 5")
    end)

    it("rejects trailing garbage at its first byte", function()
      fails_with("[1] x", "trailing garbage at byte 5")
      fails_with("1 2", "trailing garbage at byte 3")
      fails_with("{}{}", "trailing garbage at byte 3")
      fails_with('"a""b"', "trailing garbage at byte 4")
      fails_with("null,", "trailing garbage at byte 5")
      fails_with("[1]]", "trailing garbage at byte 4")
    end)

    it("treats the input as bytes with a length: NUL is never an end", function()
      fails_with("[1]\0", "trailing garbage at byte 4")
      fails_with("[1]\0[2]", "trailing garbage at byte 4")
      fails_with("\0", "unexpected character 0x00 at byte 1")
      fails_with("[1,\0]", "unexpected character 0x00 at byte 4")
      fails_with('"a\0b"', "control character 0x00 in string at byte 3")
    end)

    it("rejects misplaced and missing punctuation at the offending byte", function()
      fails_with('{"a":1,"b":x}', "unexpected character 'x' at byte 12")
      fails_with("[1,]", "unexpected character ']' at byte 4")
      fails_with("[,1]", "unexpected character ',' at byte 2")
      fails_with("[1 2]", "unexpected character '2' at byte 4")
      fails_with("[1:2]", "unexpected character ':' at byte 3")
      fails_with('{"a" 1}', "unexpected character '1' at byte 6")
      fails_with('{"a":1,}', "unexpected character '}' at byte 8")
      fails_with('{"a":1 "b":2}', "unexpected character '\"' at byte 8")
      fails_with("{a:1}", "unexpected character 'a' at byte 2")
      fails_with("{'a':1}", "unexpected character ''' at byte 2")
      fails_with("{1:2}", "unexpected character '1' at byte 2")
      fails_with('{"a"}', "unexpected character '}' at byte 5")
      fails_with("[}", "unexpected character '}' at byte 2")
      fails_with("{]", "unexpected character ']' at byte 2")
      fails_with("]", "unexpected character ']' at byte 1")
      fails_with("[", "unexpected end of input at byte 2")
      fails_with('{"a":', "unexpected end of input at byte 6")
      fails_with('{"a":1', "unexpected end of input at byte 7")
      fails_with("[1,", "unexpected end of input at byte 4")
    end)

    it("returns nil and a message for every truncation of a valid document", function()
      local doc = ' { "a" : [1, -2.5e3, 0, true, false, null, "x\\ny\\u00e9\\ud83d\\ude00", "plain"],' ..
        ' "b":{"c":{}}, "d":[], "e":"\\"q\\"", "f":12345678901234567890, "g":[[[]]] } '
      assert.is_table(decode(doc))
      local last = #doc - 1 -- the full text minus the trailing space is still valid
      for i = 0, last - 1 do
        local v, err = decode(doc:sub(1, i))
        assert.is_nil(v, "prefix of " .. i .. " bytes")
        assert.is_string(err)
        local at = tonumber(err:match(" at byte (%d+)$"))
        assert.is_number(at, err)
        assert.is_true(at >= 1 and at <= i + 1, err)
      end
      -- and every prefix of a top-level string with escapes
      local s = '"a\\u00e9\\ud83d\\ude00\\n\\"b"'
      for i = 0, #s - 1 do
        local v, err = decode(s:sub(1, i))
        assert.is_nil(v)
        assert.is_string(err)
      end
    end)

    it("survives random corruption of a document, returning a value or nil and a message", function()
      local doc = '{"a":[1,-2.5e3,true,false,null,"x\\ny\\u00e9\\ud83d\\ude00"],"b":{"c":{}},"n":123456789}'
      local bytes = { "\0", "\"", "\\", "u", "[", "]", "{", "}", ",", ":", "-", "0", "9", ".", "e", "\255", " ", "d" }
      math.randomseed(7)
      for _ = 1, 3000 do
        local t = {}
        for i = 1, #doc do t[i] = doc:sub(i, i) end
        for _ = 1, math.random(1, 4) do
          local pos = math.random(1, #t)
          local r = math.random(1, 3)
          if r == 1 then
            t[pos] = bytes[math.random(1, #bytes)]
          elseif r == 2 then
            table.remove(t, pos)
          else
            table.insert(t, pos, bytes[math.random(1, #bytes)])
          end
        end
        local text = table.concat(t)
        local ok, v, err = pcall(decode, text)
        assert.is_true(ok, v)
        if v == nil then
          assert.is_string(err)
          assert.truthy(err:find(" at byte %d+$"), err)
        else
          assert.is_nil(err)
        end
      end
    end)
  end)

  describe("nesting", function()
    local function depth_of(t)
      local n = 0
      while type(t) == "table" do
        n = n + 1
        t = t[1] or t.a
      end
      return n
    end

    it("accepts nesting exactly at the limit of 512", function()
      local t = decode(string.rep("[", 512) .. string.rep("]", 512))
      assert.are.equal(512, depth_of(t))
      local o = decode(string.rep('{"a":', 511) .. "{}" .. string.rep("}", 511))
      assert.are.equal(512, depth_of(o))
      local m = decode(string.rep('[{"a":', 256) .. "1" .. string.rep("}]", 256))
      assert.are.equal(512, depth_of(m))
    end)

    it("holds 31 waiting entries at each of 512 levels without raising", function()
      local open = string.rep("1,", 31) .. "["
      local doc = "[" .. string.rep(open, 511) .. "0" .. string.rep("]", 512)
      local t, err = decode(doc)
      -- either the whole tree or a message, never a raised error
      if t then
        local depth, last = 0, nil
        while type(t) == "table" do
          depth, last = depth + 1, t
          assert.are.equal(1, t[31] or 1)
          t = t[32]
        end
        assert.are.equal(512, depth)
        assert.are.same({ 0 }, last)
      else
        assert.matches("too deeply nested", err)
      end
    end)

    it("rejects one level deeper, naming the byte that opens it", function()
      fails_with(string.rep("[", 513) .. string.rep("]", 513), "nesting deeper than 512 at byte 513")
      fails_with(string.rep('{"a":', 512) .. "{}" .. string.rep("}", 512), "nesting deeper than 512 at byte 2561")
      fails_with(string.rep('[{"a":', 256) .. "[1]" .. string.rep("}]", 256), "nesting deeper than 512 at byte 1537")
    end)

    it("rejects very deep input with a message, not a crash", function()
      fails_with(string.rep("[", 1000000), "nesting deeper than 512 at byte 513")
      fails_with(string.rep(' { "k" : [', 100000), "nesting deeper than 512 at byte 2562")
    end)
  end)

  describe("arguments", function()
    it("raises for a non-string argument: that is a programmer mistake", function()
      assert.has_error(function() decode() end)
      assert.has_error(function() decode(nil) end)
      assert.has_error(function() decode({}) end)
      assert.has_error(function() decode(true) end)
    end)
  end)

  describe("a 2 MB DescribeInstances response", function()
    local doc, count = describe_instances(2 * 1024 * 1024)

    it("decodes to exactly what cjson.decode gives, integers kept as integers", function()
      assert.is_true(#doc >= 2 * 1024 * 1024)
      local mine, err = decode(doc)
      assert.is_nil(err)
      local theirs = cjson.decode(doc)
      -- cjson gives floats for every number: compare values loosely, then kinds below
      assert_same(theirs, mine, true)

      local list = mine.Instances.Instance
      assert.are.equal(count, #list)
      assert_integer(mine.TotalCount)
      assert.are.equal(count, mine.TotalCount)
      for i, inst in ipairs(list) do
        assert.are.equal(string.format("i-bp1%014d", i), inst.InstanceId)
        assert_integer(inst.Cpu)
        assert_integer(inst.Memory)
        assert_integer(inst.InternetMaxBandwidthIn)
        assert.are.equal(-1, inst.InternetMaxBandwidthIn)
        assert_float(inst.SpotPriceLimit)
        assert_float(inst.Score)
        assert.are.equal(cjson.null, inst.KeyPairName)
        assert.are.equal(0, #inst.PublicIpAddress.IpAddress)
        assert.are.equal("CentOS  7.9 64位", inst.OSName)
        if i % 5 == 0 then
          assert_float(inst.Big)
          assert.are.equal(12345678901234567890, inst.Big)
        else
          assert_integer(inst.Big)
          assert.are.equal(i * 1000003, inst.Big)
        end
        if i % 7 == 0 then
          assert.are.equal('line one\nline "two" \228\184\173\230\150\135 \240\159\152\128 /', inst.Description)
        else
          assert.are.equal("", inst.Description)
        end
      end
    end)

    it("fails cleanly on the same document cut short or with garbage appended", function()
      local v, err = decode(doc:sub(1, #doc - 1))
      assert.is_nil(v)
      assert.are.equal("unexpected end of input at byte " .. #doc, err)
      v, err = decode(doc .. "x")
      assert.is_nil(v)
      assert.are.equal("trailing garbage at byte " .. (#doc + 1), err)
    end)
  end)
end)
