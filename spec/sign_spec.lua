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

describe("V3 signature #core", function()
  for _, v in ipairs(vectors.v3) do
    local function opts()
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
  end)
  it("hex is lower-case", function()
    assert.are.equal("00ff10", core.hex("\0\255\16"))
  end)
end)
