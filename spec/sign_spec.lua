-- The C core's signing against ../shared/vectors/signatures.json, intermediate strings included.
local core = require "aliyun.core"
local vectors = require "support.vectors"

describe("percent_encode #core", function()
  for _, v in ipairs(vectors.percent_encode) do
    it(string.format("encodes %q", v["in"]), function()
      assert.are.equal(v.out, core.percent_encode(v["in"]))
    end)
  end

  it("encodes every byte that is not unreserved, and no unreserved byte", function()
    for b = 0, 255 do
      local c = string.char(b)
      local expected = c:match("^[A-Za-z0-9%-_%.~]$") and c or string.format("%%%02X", b)
      assert.are.equal(expected, core.percent_encode(c))
    end
  end)

  it("keeps embedded NUL bytes", function()
    assert.are.equal("a%00b", core.percent_encode("a\0b"))
  end)
end)

describe("V1 signature #core", function()
  for _, v in ipairs(vectors.v1) do
    describe(v.name, function()
      it("builds the canonical query", function()
        assert.are.equal(v.canonical_query, core.v1_canonical_query(v.params))
      end)
      it("builds the string to sign", function()
        assert.are.equal(v.string_to_sign, core.v1_string_to_sign(v.method, v.canonical_query))
      end)
      it("computes the signature and returns the intermediates", function()
        local sig, sts, cq = core.v1_sign(v.method, v.params, v.access_key_secret)
        assert.are.equal(v.canonical_query, cq)
        assert.are.equal(v.string_to_sign, sts)
        assert.are.equal(v.signature, sig)
      end)
      it("equals base64(HMAC-SHA1(secret .. '&', string_to_sign))", function()
        local mac = core.hmac_sha1(v.access_key_secret .. "&", v.string_to_sign)
        assert.are.equal(v.signature, core.base64(mac))
      end)
    end)
  end

  it("changes with the method", function()
    local p = vectors.v1[1].params
    assert.are_not.equal(core.v1_sign("GET", p, "s"), core.v1_sign("POST", p, "s"))
  end)

  it("refuses non-string values and names with an error naming the parameter, not the value", function()
    local ok, err = pcall(core.v1_sign, "GET", { Size = 20 }, "s")
    assert.is_false(ok)
    assert.matches("'Size' must be a string", err)
    ok, err = pcall(core.v1_canonical_query, { [1] = "x" })
    assert.is_false(ok)
    assert.matches("names must be strings", err)
  end)

  it("refuses a lower-case or empty method", function()
    assert.has_error(function() core.v1_sign("get", {}, "s") end)
    assert.has_error(function() core.v1_sign("", {}, "s") end)
  end)

  it("signs an empty parameter table", function()
    local sig, sts, cq = core.v1_sign("GET", {}, "s")
    assert.are.equal("", cq)
    assert.are.equal("GET&%2F&", sts)
    assert.are.equal(core.base64(core.hmac_sha1("s&", "GET&%2F&")), sig)
  end)
end)

-- v3_sign's opts for a V3 vector, with two headers that are not signed.
local function v3_opts(v)
  return {
    method = v.method, path = "/", query = v.query, body = v.body,
    access_key_id = v.access_key_id, access_key_secret = v.access_key_secret,
    headers = {
      host = v.host, ["x-acs-action"] = v.action, ["x-acs-version"] = v.version,
      ["x-acs-date"] = v.date, ["x-acs-signature-nonce"] = v.nonce,
      ["x-acs-content-sha256"] = core.sha256_hex(v.body),
      ["User-Agent"] = "not signed", Accept = "application/json",
    },
  }
end

describe("V3 signature #core", function()
  for _, v in ipairs(vectors.v3) do
    local function opts()
      return v3_opts(v)
    end
    describe(v.name, function()
      it("builds the canonical request and signed headers", function()
        local cr, signed = core.v3_canonical_request(opts())
        assert.are.equal(v.canonical_request, cr)
        assert.are.equal("host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version", signed)
      end)
      it("hashes the canonical request", function()
        assert.are.equal(v.hashed_canonical_request, core.sha256_hex(v.canonical_request))
      end)
      it("signs and builds the Authorization header", function()
        local auth, sig, cr, sts = core.v3_sign(opts())
        assert.are.equal(v.canonical_request, cr)
        assert.are.equal(v.string_to_sign, sts)
        assert.are.equal(v.signature, sig)
        assert.are.equal(v.authorization, auth)
      end)
      it("equals hex(HMAC-SHA256(secret, string_to_sign))", function()
        assert.are.equal(v.signature, core.hex(core.hmac_sha256(v.access_key_secret, v.string_to_sign)))
      end)
    end)
  end

  it("lower-cases, trims and sorts headers; signs content-type; encodes query keys and values", function()
    local cr, signed = core.v3_canonical_request {
      method = "POST", path = "/", payload_hash = "h",
      query = { ["b c"] = "x y", a = "1*" },
      headers = { ["X-ACS-Date"] = "  d ", ["Content-Type"] = "application/x-www-form-urlencoded", Host = "h.example" },
    }
    assert.are.equal("POST\n/\na=1%2A&b%20c=x%20y\n"
      .. "content-type:application/x-www-form-urlencoded\nhost:h.example\nx-acs-date:d\n\n"
      .. "content-type;host;x-acs-date\nh", cr)
    assert.are.equal("content-type;host;x-acs-date", signed)
  end)

  it("refuses the same header twice in different case", function()
    assert.has_error(function()
      core.v3_canonical_request { method = "GET", headers = { host = "a", Host = "b" } }
    end)
  end)

  it("requires the key pair", function()
    assert.has_error(function() core.v3_sign { method = "GET", headers = {} } end, "v3: opts.access_key_id is required")
  end)
end)

describe("primitives #core", function()
  it("sha256 of the empty string", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", core.sha256_hex(""))
  end)
  it("HMAC-SHA256 RFC 4231 case 2", function()
    assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      core.hex(core.hmac_sha256("Jefe", "what do ya want for nothing?")))
  end)
  it("HMAC-SHA1 RFC 2202 case 2", function()
    assert.are.equal("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
      core.hex(core.hmac_sha1("Jefe", "what do ya want for nothing?")))
  end)
  it("base64 round-trips every length 0..64 and every byte", function()
    local all = {}
    for b = 0, 255 do all[#all + 1] = string.char(b) end
    all = table.concat(all)
    for n = 0, 64 do
      local s = all:sub(1, n)
      assert.are.equal(s, core.base64_decode(core.base64(s)))
    end
    assert.are.equal(all, core.base64_decode(core.base64(all)))
    assert.are.equal("Zm9vYmFy", core.base64("foobar"))
    assert.are.equal("Zm9vYg==", core.base64("foob"))
  end)
  it("base64_decode accepts line breaks and reports bad characters with their offset", function()
    assert.are.equal("foobar", core.base64_decode("Zm9v\nYmFy"))
    local r, err = core.base64_decode("Zm9v!mFy")
    assert.is_nil(r)
    assert.are.equal("invalid base64 character at byte 5", err)
  end)
  it("nonce is 32 hex characters and differs every time", function()
    local seen = {}
    for _ = 1, 1000 do
      local n = core.nonce()
      assert.matches("^[0-9a-f]+$", n)
      assert.are.equal(32, #n)
      assert.is_nil(seen[n])
      seen[n] = true
    end
  end)
  it("timestamp is ISO 8601 UTC", function()
    assert.are.equal("2016-02-23T12:46:24Z", core.timestamp(1456231584))
    assert.are.equal("1970-01-01T00:00:00Z", core.timestamp(0))
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", core.timestamp())
    assert.has_error(function() core.timestamp(-1) end)
    -- every field at its edges: a spread of instants against os.date's own formatting
    assert.are.equal("9999-12-31T23:59:59Z", core.timestamp(253402300799))
    assert.are.equal("2024-02-29T23:59:59Z", core.timestamp(1709251199))
    for t = 0, 4102444800, 86400 * 37 + 3599 do
      assert.are.equal(os.date("!%Y-%m-%dT%H:%M:%SZ", t), core.timestamp(t))
    end
  end)
  it("hex is lower-case", function()
    assert.are.equal("00ff10", core.hex("\0\255\16"))
  end)
end)

-- The C core builds everything in one scratch buffer per Lua state, copies runs of
-- unreserved bytes eight at a time, sorts on 8-byte key prefixes and keeps the HMAC
-- states of the last key. The specs below compare it with the plain definitions, written
-- here in Lua, on inputs that reach each of those paths.
local function ref_encode(s)
  return (s:gsub("[^A-Za-z0-9%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function bytes_less(a, b) -- byte order, whatever the locale
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function ref_query(params, sort_key)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return bytes_less(sort_key(a), sort_key(b)) end)
  local out = {}
  for i, k in ipairs(keys) do out[i] = ref_encode(k) .. "=" .. ref_encode(params[k]) end
  return table.concat(out, "&")
end

local function ref_v1_query(params)
  return ref_query(params, function(k) return k end)
end

local function ref_v1(method, params, secret)
  local cq = ref_v1_query(params)
  local sts = method .. "&%2F&" .. ref_encode(cq)
  return core.base64(core.hmac_sha1(secret .. "&", sts)), sts, cq
end

local function assert_v1(method, params, secret)
  local sig, sts, cq = core.v1_sign(method, params, secret)
  local rsig, rsts, rcq = ref_v1(method, params, secret)
  assert.are.equal(rcq, cq)
  assert.are.equal(rsts, sts)
  assert.are.equal(rsig, sig)
  assert.are.equal(rcq, core.v1_canonical_query(params))
  assert.are.equal(rcq, core.form_encode(params))
  assert.are.equal(rsts, core.v1_string_to_sign(method, cq))
end

local ALL_BYTES = {}
for b = 0, 255 do ALL_BYTES[#ALL_BYTES + 1] = string.char(b) end
ALL_BYTES = table.concat(ALL_BYTES)

describe("percent-encoding runs of bytes #core", function()
  it("encodes every byte at every place of strings of 1 to 17 bytes", function()
    for b = 0, 255 do
      local c = string.char(b)
      for n = 1, 17 do
        for at = 1, n do
          local s = ("a"):rep(at - 1) .. c .. ("Z"):rep(n - at)
          assert.are.equal(ref_encode(s), core.percent_encode(s))
        end
      end
    end
  end)

  it("encodes long mixed strings, byte for byte as the definition", function()
    local parts = {}
    for i = 1, 4000 do
      parts[i] = i % 7 == 0 and ALL_BYTES:sub(i % 256 + 1, i % 256 + 1) or ("unreserved-_.~09AZaz"):sub(1, i % 21)
    end
    local s = table.concat(parts)
    assert.are.equal(ref_encode(s), core.percent_encode(s))
    assert.are.equal(ref_encode(ALL_BYTES:rep(300)), core.percent_encode(ALL_BYTES:rep(300)))
    assert.are.equal(("x"):rep(100000), core.percent_encode(("x"):rep(100000)))
  end)

  it("hex and base64 of long strings", function()
    local s = ALL_BYTES:rep(1000)
    assert.are.equal(s, core.base64_decode(core.base64(s)))
    local hex = core.hex(s)
    assert.are.equal(#s * 2, #hex)
    assert.are.equal(s, (hex:gsub("..", function(h) return string.char(tonumber(h, 16)) end)))
  end)
end)

describe("V1 canonical query against its definition #core", function()
  it("names and values with every byte, including NUL and bytes above 0x7F", function()
    local params = {}
    for b = 0, 255 do
      params["k" .. string.char(b) .. "-" .. b] = ALL_BYTES:sub(b + 1) .. ALL_BYTES:sub(1, b)
    end
    assert_v1("POST", params, "s")
  end)

  it("sorts names by byte order: shared 8-byte prefixes, prefixes of each other, case, UTF-8", function()
    local params = {
      SignatureMethod = "1", SignatureNonce = "2", SignatureVersion = "3", Signature = "4",
      SignatureNonceX = "5", SignatureNonc = "6", InstanceIds = "7", InstanceIdsX = "8",
      ["Tag.1.Key"] = "9", ["Tag.1.Value"] = "10", ["Tag.10.Key"] = "11", ["Tag.2.Key"] = "12",
      a = "13", ["a\0"] = "14", ["a\0b"] = "15", ab = "16", A = "17", Z = "18", z = "19",
      ["\xe4\xb8\xad"] = "20", ["\x7f"] = "21", ["~"] = "22", ["%"] = "23", [""] = "24",
      ["aaaaaaaa"] = "25", ["aaaaaaaa\0"] = "26", ["aaaaaaab"] = "27", ["aaaaaaa"] = "28",
    }
    assert_v1("GET", params, "s")
    local cq = core.v1_canonical_query(params)
    assert.truthy(cq:find("^=24&%%00") == nil) -- '' sorts first, before "\0"-led names
    assert.truthy(cq:find("^=24&"))
    assert.truthy(cq:find("Signature=4&SignatureMethod=1&SignatureNonc=6&SignatureNonce=2&SignatureNonceX=5&", 1, true))
    assert.truthy(cq:find("a=13&a%00=14&a%00b=15&aaaaaaa=28&aaaaaaaa=25&aaaaaaaa%00=26&aaaaaaab=27&ab=16", 1, true))
  end)

  it("sorts names of 0 to 9 bytes that differ only in one byte, or only in length", function()
    local params = {}
    for n = 0, 9 do
      for at = 1, n do
        for _, c in ipairs { "\0", "A", "a", "\127", "\128", "\255" } do
          local name = ("m"):rep(at - 1) .. c .. ("m"):rep(n - at)
          params[name] = tostring(n * 100 + at)
        end
      end
      params[("m"):rep(n)] = "len" .. n
    end
    assert_v1("GET", params, "s") -- a few hundred: the qsort path
    for n = 0, 9 do -- a few dozen at most: the insertion sort
      for _, c in ipairs { "\0", "A", "\255" } do
        local few = { [("m"):rep(n)] = "n", [("m"):rep(n + 1)] = "n1", [("m"):rep(n) .. c] = "c" }
        for at = 1, n do few[("m"):rep(at - 1) .. c .. ("m"):rep(n - at)] = tostring(at) end
        assert_v1("GET", few, "s")
      end
    end
  end)

  it("many parameters: hundreds of them (a sort of its own beyond a few dozen), then a few again", function()
    for _, n in ipairs { 1, 2, 31, 32, 33, 64, 500, 5000, 3 } do
      local params = {}
      for i = 1, n do
        params[string.format("P%d.%s", (i * 7919) % (n * 3 + 1), ("n"):rep(i % 13))] = ("v %d&=%%"):format(i) .. ("x"):rep(i % 40)
      end
      assert_v1("GET", params, "secret")
    end
  end)

  it("very long values, in a call that grows the scratch past its keep size and in the calls after", function()
    local long = ("0123456789abcdef&="):rep(40000) -- 720 KB: 2.2 MB encoded, 3.6 MB twice-encoded
    assert_v1("POST", { Big = long, Small = "x" }, "s")
    assert_v1("GET", vectors.v1[1].params, "s")
    assert_v1("POST", { Big = long .. "\0\255", [long] = "k" }, "s2")
    local v = vectors.v1[1]
    assert.are.equal(v.signature, (core.v1_sign(v.method, v.params, v.access_key_secret)))
  end)
end)

-- The encoder looks for reserved bytes 16 at a time and copies the unreserved run before
-- one with a single 16-byte store, or, within 16 bytes of a string's end, with two
-- overlapping 8- or 4-byte ones; reserved bytes in a row come from the same mask. The
-- filler below has every kind of unreserved byte at every place of a block, and the
-- reserved bytes include the neighbours of each unreserved range (and their values with
-- the high bit or 0x20 set, which a signed or case-folding compare could take for letters).
describe("percent-encoding at 16-byte block boundaries #core", function()
  local FILL = "aZ09-_.~mN5zA"
  local function filler(n, shift)
    local t = {}
    for i = 1, n do
      local j = (i + shift) % #FILL + 1
      t[i] = FILL:sub(j, j)
    end
    return table.concat(t)
  end
  local TRICKY = { "\0", " ", "%", "*", "&", "=", "/", ",", ":", "@", "[", "`", "{", "^", "\127", "\128",
    "\173", "\174", "\176", "\193", "\225", "\223", "\254", "\255" }
  local TRICKY_SET = {}
  for _, c in ipairs(TRICKY) do TRICKY_SET[c] = true end

  it("a reserved byte at every place of strings of 0 to 40 bytes; every byte at every place of some", function()
    local every = { [5] = true, [8] = true, [16] = true, [17] = true, [33] = true }
    for n = 0, 40 do
      local base = filler(n, n)
      assert.are.equal(base, core.percent_encode(base))
      for at = 1, n do
        for b = 0, 255 do
          local c = string.char(b)
          if every[n] or TRICKY_SET[c] then
            local s = base:sub(1, at - 1) .. c .. base:sub(at + 1)
            assert.are.equal(ref_encode(s), core.percent_encode(s))
          end
        end
      end
    end
  end)

  it("runs of reserved bytes of every length starting at every place", function()
    for n = 1, 40 do
      local base = filler(n, 3)
      for at = 1, n do
        for len = 1, n - at + 1 do
          local s = base:sub(1, at - 1) .. ("* &\255"):rep(len):sub(1, len) .. base:sub(at + len)
          assert.are.equal(ref_encode(s), core.percent_encode(s))
        end
      end
    end
  end)

  it("agrees with v1_canonical_query and the v1_sign string to sign, as names and as values", function()
    for n = 0, 40 do
      local base = filler(n, 7)
      for at = 0, n do
        for _, c in ipairs { "\0", " ", "*", "/", "@", "`", "\128", "\255" } do
          local s = at == 0 and base or base:sub(1, at - 1) .. c .. base:sub(at + 1)
          assert_v1("GET", { [s] = s, K = s, ["Z" .. s] = base }, "secret")
          if at == 0 then break end
        end
      end
    end
  end)
end)

describe("HMAC with the last key's states kept #core", function()
  local AA80, AA131 = ("\170"):rep(80), ("\170"):rep(131)
  local cases = {
    { core.hmac_sha1, ("\11"):rep(20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
    { core.hmac_sha256, ("\11"):rep(20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { core.hmac_sha1, ("\170"):rep(20), ("\221"):rep(50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
    { core.hmac_sha256, ("\170"):rep(20), ("\221"):rep(50),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    { core.hmac_sha1, AA80, "Test Using Larger Than Block-Size Key - Hash Key First",
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
    { core.hmac_sha256, AA131, "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    -- keys of exactly one block, one byte more, and longer than the kept-key limit
    -- (expected values from `openssl dgst -mac HMAC`)
    { core.hmac_sha1, ("k"):rep(64), "boundary", "5e1275463a41d0952f3e7119e31d13239308d15e" },
    { core.hmac_sha1, ("k"):rep(65), "boundary", "a93bc751ff41dc20ad41849646d87560143d6014" },
    { core.hmac_sha1, ("0123456789"):rep(200), "boundary", "e38591cc186a14d8959cbf29d0cd145e7cdee41b" },
    { core.hmac_sha256, ("k"):rep(64), "boundary", "5a1af747e37d07140ec0b58fa01f85d1b3f0aeef2f6719091e9517e8b474a978" },
    { core.hmac_sha256, ("k"):rep(65), "boundary", "ef3f1f0b6c378507c6cd325246f1e48412bbceab9e755d485dc639946cfe3785" },
    { core.hmac_sha256, ("0123456789"):rep(200), "boundary",
      "2d41ccdcf0f57c53080a43c99a6294282f56fb67bcf8f4845b8f88a261967938" },
  }

  it("RFC 2202 / RFC 4231 and block-boundary keys, each twice in a row and interleaved", function()
    for round = 1, 3 do
      for i = 1, #cases do
        local c = cases[round == 2 and (#cases - i + 1) or (i * 5) % #cases + 1]
        for _ = 1, 2 do assert.are.equal(c[4], core.hex(c[1](c[2], c[3]))) end
      end
    end
  end)

  it("takes the data as a list of strings, hashed one after the other", function()
    for i = 1, #cases do
      local c = cases[i]
      local d = c[3]
      local cut1, cut2 = math.floor(#d / 3), math.floor(#d * 2 / 3)
      local parts = { d:sub(1, cut1), "", d:sub(cut1 + 1, cut2), d:sub(cut2 + 1) }
      assert.are.equal(c[4], core.hex(c[1](c[2], parts)))
      assert.are.equal(c[4], core.hex(c[1](c[2], { d })))
    end
    assert.are.equal(core.hmac_sha1("k", ""), core.hmac_sha1("k", {}))
    assert.has_error(function() core.hmac_sha1("k", { "a", 5 }) end, "hmac: data[2] is not a string")
    assert.has_error(function() core.hmac_sha256("k", { "a", {} }) end, "hmac: data[2] is not a string")
  end)

  it("a key that differs from the last one only in its last byte, or only in length", function()
    local a = ("k"):rep(64)
    assert.are_not.equal(core.hmac_sha1(a, "x"), core.hmac_sha1(a:sub(1, 63) .. "j", "x"))
    assert.are.equal("5e1275463a41d0952f3e7119e31d13239308d15e", core.hex(core.hmac_sha1(a, "boundary")))
    assert.are.equal("a93bc751ff41dc20ad41849646d87560143d6014", core.hex(core.hmac_sha1(a .. "k", "boundary")))
    assert.are.equal("5e1275463a41d0952f3e7119e31d13239308d15e", core.hex(core.hmac_sha1(a, "boundary")))
    assert.are.equal(core.hmac_sha1("", "x"), core.hmac_sha1("\0", "x")) -- zero-padding makes these equal
    assert.are_not.equal(core.hmac_sha1("", "x"), core.hmac_sha1("&", "x"))
  end)

  it("V1 keys of 64 and 65 bytes (secret .. '&'), from `openssl dgst -mac HMAC`", function()
    assert.are.equal("sbIbBUaYI/fk5MGh0T2Z0QFaQow=", (core.v1_sign("GET", { A = "1" }, ("s"):rep(63))))
    assert.are.equal("cOtpKWN4kWtBGhpIpd+tcgnRoRA=", (core.v1_sign("GET", { A = "1" }, ("s"):rep(64))))
    assert.are.equal("sbIbBUaYI/fk5MGh0T2Z0QFaQow=", (core.v1_sign("GET", { A = "1" }, ("s"):rep(63))))
  end)

  it("two secrets and two algorithms alternating: V1 and V3 vectors and the primitives", function()
    local v3 = vectors.v3[1]
    for _ = 1, 3 do
      for _, v in ipairs(vectors.v1) do
        assert.are.equal(v.signature, (core.v1_sign(v.method, v.params, v.access_key_secret)))
        local _, sig = core.v3_sign(v3_opts(v3))
        assert.are.equal(v3.signature, sig)
        assert.are.equal(cases[1][4], core.hex(core.hmac_sha1(cases[1][2], cases[1][3])))
        assert.are.equal(cases[2][4], core.hex(core.hmac_sha256(cases[2][2], cases[2][3])))
        assert.are.equal(v.signature, core.base64(core.hmac_sha1(v.access_key_secret .. "&", v.string_to_sign)))
      end
    end
  end)
end)

describe("the signing state #core", function()
  it("is left usable by every refusal", function()
    local v = vectors.v1[2]
    local refusals = {
      function() return core.v1_sign("GET", { A = 1 }, "s") end,
      function() return core.v1_sign("GET", { [1] = "x" }, "s") end,
      function() return core.v1_sign("get", {}, "s") end,
      function() return core.v3_sign { method = "GET", headers = { host = "a", Host = "b" },
        access_key_id = "i", access_key_secret = "s" } end,
      function() return core.v3_sign { method = "GET", query = { a = {} }, headers = {},
        access_key_id = "i", access_key_secret = "s" } end,
      function() return core.v3_sign { method = "GET", query = "a=b", headers = {},
        access_key_id = "i", access_key_secret = "s" } end,
    }
    for _, refuse in ipairs(refusals) do
      assert.is_false((pcall(refuse)))
      local sig, sts, cq = core.v1_sign(v.method, v.params, v.access_key_secret)
      assert.are.equal(v.signature, sig)
      assert.are.equal(v.string_to_sign, sts)
      assert.are.equal(v.canonical_query, cq)
    end
  end)

  it("V3 reads opts through __index, which may sign too, before it collects anything", function()
    local many = {}
    for i = 1, 200 do many["K" .. i] = ("v"):rep(i) end
    local query = { b = "2", a = "1 1", ["c~"] = "3" }
    local plain = { method = "POST", path = "/p", query = query, body = "x",
      headers = { host = "h", ["x-acs-action"] = "A" }, access_key_id = "id", access_key_secret = "sk" }
    local auth, sig, cr, sts = core.v3_sign(plain)
    local calls = 0
    local opts = setmetatable({}, { __index = function(_, k)
      calls = calls + 1
      core.v1_sign("GET", many, "other")
      core.percent_encode(("\0"):rep(100000))
      core.v3_canonical_request { method = "GET", query = many, headers = { host = "z" }, payload_hash = "h" }
      return plain[k]
    end })
    local auth2, sig2, cr2, sts2 = core.v3_sign(opts)
    assert.is_true(calls >= 7)
    assert.are.equal(cr, cr2)
    assert.are.equal(sts, sts2)
    assert.are.equal(sig, sig2)
    assert.are.equal(auth, auth2)
  end)

  it("keeps the V3 query error of luaL_checktype", function()
    local ok, err = pcall(core.v3_canonical_request, { method = "GET", query = "a=b", headers = {} })
    assert.is_false(ok)
    assert.matches("bad argument #3 to '.-' %(table expected, got string%)", err)
  end)

  it("gives right results when finalizers sign and encode while results are pushed", function()
    -- A push allocates, an allocation may run a collection step, and a step may run
    -- finalizers (LuaJIT's before the pushed string is copied): these sign and encode too,
    -- with inputs big enough to make the scratch buffer move.
    local outer, inner = vectors.v1[2], vectors.v1[3]
    local big = ("\0~* "):rep(25000) -- encoded, more than the scratch keeps between calls
    local big_encoded = ref_encode(big)
    local inside, nested, wrong = false, 0, 0
    local newproxy = _G.newproxy -- LuaJIT runs __gc for userdata only
    local function finalizable(gc)
      if newproxy then
        local u = newproxy(true)
        getmetatable(u).__gc = gc
        return u
      end
      return setmetatable({}, { __gc = gc })
    end
    local function sign_inner()
      if not inside then return end
      nested = nested + 1
      local sig, sts, cq = core.v1_sign(inner.method, inner.params, inner.access_key_secret)
      local _, sig3 = core.v3_sign { method = "GET", headers = { ["x-acs-a"] = "b" }, payload_hash = "h",
        access_key_id = "i", access_key_secret = inner.access_key_secret }
      local e = nested <= 30 and core.percent_encode(big) or big_encoded
      if sig ~= inner.signature or sts ~= inner.string_to_sign or cq ~= inner.canonical_query or #sig3 ~= 64
        or e ~= big_encoded then
        wrong = wrong + 1
      end
    end
    local v3 = { method = "GET", query = outer.params, headers = { host = "h" }, payload_hash = "p",
      access_key_id = "i", access_key_secret = "s" }
    local v3_cr = core.v3_canonical_request(v3)
    local v3_auth, v3_sig = core.v3_sign(v3)
    local checks = {
      function()
        local sig, sts, cq = core.v1_sign(outer.method, outer.params, outer.access_key_secret)
        return sig == outer.signature and sts == outer.string_to_sign and cq == outer.canonical_query
      end,
      function() return core.v1_canonical_query(outer.params) == outer.canonical_query end,
      function() return core.form_encode(outer.params) == outer.canonical_query end,
      function() return core.v1_string_to_sign(outer.method, outer.canonical_query) == outer.string_to_sign end,
      function() return core.percent_encode(outer.canonical_query) == ref_encode(outer.canonical_query) end,
      function() return core.base64(outer.canonical_query) == core.base64(outer.canonical_query .. "") end,
      function() return core.hex("\0\255" .. outer.canonical_query):sub(1, 4) == "00ff" end,
      function() return core.v3_canonical_request(v3) == v3_cr end,
      function()
        local auth, sig = core.v3_sign(v3)
        return auth == v3_auth and sig == v3_sig
      end,
    }
    collectgarbage("collect") -- a small heap: short cycles, finalizers often
    local pause = collectgarbage("setpause", 10)
    local stepmul = collectgarbage("setstepmul", 400)
    local ok, err = pcall(function()
      for i = 1, 200000 do
        if nested >= 100 then break end
        finalizable(sign_inner)
        inside = true
        local right = checks[i % #checks + 1]()
        inside = false
        assert(right, "a result changed under a nested call")
      end
    end)
    inside = false
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage("collect")
    assert(ok, err)
    assert.are.equal(0, wrong)
    assert.is_true(nested > 0, "no finalizer ran inside a call; the spec did not test what it means to")
  end)
end)

describe("V3 against its definition #core", function()
  local function ref_v3_query(query)
    return ref_query(query, ref_encode) -- V3 sorts the encoded names
  end

  it("sorts query names in encoded form, which is not always their raw order", function()
    local query = { ["a~"] = "1", ["a\127"] = "2", ["a!"] = "3", ["b c"] = "x y", a = "" }
    local cr = core.v3_canonical_request { method = "GET", query = query, headers = {}, payload_hash = "h" }
    assert.are.equal("GET\n/\n" .. ref_v3_query(query) .. "\n\n\nh", cr)
    assert.truthy(cr:find("a%7F=2&a~=1", 1, true))
    assert.truthy(core.v1_canonical_query(query):find("a~=1&a%7F=2", 1, true)) -- V1: raw order
  end)

  it("many and long query parameters, a long path, many headers", function()
    local query, headers, lines, names = {}, {}, {}, {}
    for i = 1, 300 do
      query[("q%03d/%s"):format(i, ("\255"):rep(i % 5))] = ("value %d "):format(i) .. ("\0~*"):rep(i)
    end
    for i = 1, 60 do
      local name = ("X-Acs-H%02d"):format(61 - i)
      headers[name] = " \t v" .. i .. " \t"
      lines[#lines + 1] = name:lower() .. ":v" .. i
      names[#names + 1] = name:lower()
    end
    headers.Host = "h"
    headers["Content-Type"] = "t"
    headers["User-Agent"] = "not signed"
    lines[#lines + 1] = "content-type:t"
    lines[#lines + 1] = "host:h"
    names[#names + 1] = "content-type"
    names[#names + 1] = "host"
    table.sort(lines, bytes_less)
    table.sort(names, bytes_less)
    local path = "/a b/" .. ("\xe4\xb8\xad/"):rep(100)
    local cr, signed = core.v3_canonical_request { method = "PUT", path = path, query = query, headers = headers,
      body = ("b"):rep(100000) }
    local expected = table.concat({ "PUT", ref_encode(path):gsub("%%2F", "/"), ref_v3_query(query),
      table.concat(lines, "\n"), "", table.concat(names, ";"), core.sha256_hex(("b"):rep(100000)) }, "\n")
    assert.are.equal(expected, cr)
    assert.are.equal(table.concat(names, ";"), signed)
    local auth, sig, cr2, sts = core.v3_sign { method = "PUT", path = path, query = query, headers = headers,
      body = ("b"):rep(100000), access_key_id = ("id"):rep(1000), access_key_secret = "s" }
    assert.are.equal(cr, cr2)
    assert.are.equal("ACS3-HMAC-SHA256\n" .. core.sha256_hex(cr), sts)
    assert.are.equal(core.hex(core.hmac_sha256("s", sts)), sig)
    assert.are.equal("ACS3-HMAC-SHA256 Credential=" .. ("id"):rep(1000) .. ",SignedHeaders=" .. signed
      .. ",Signature=" .. sig, auth)
  end)
end)
