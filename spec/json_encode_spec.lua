-- The Lua JSON encoder: deterministic text (sorted keys), exact numbers, arrays and
-- objects told apart, and clear errors for what JSON cannot hold.
local core = require "aliyun.core"
local json = require "aliyun.json"

describe("json.encode", function()
  it("sorts object keys so the same table always gives the same text", function()
    assert.equal('{"a":1,"b":{"c":true,"d":false},"z":"x"}', json.encode { z = "x", b = { d = false, c = true }, a = 1 })
  end)

  it("writes a RequestId key first, as the service writes its answers, the rest sorted", function()
    assert.equal('{"RequestId":"r","Regions":[],"a":1,"z":{"RequestId":"n","b":2}}',
      json.encode { z = { b = 2, RequestId = "n" }, a = 1, Regions = json.array {}, RequestId = "r" })
    assert.equal('{"RequestId":"r"}', json.encode { RequestId = "r" })
    assert.equal('{"RequestId":"r","1":"x"}', json.encode { [1] = "x", RequestId = "r" })
  end)

  it("gives the same text for tables built alike or not (insertion order, sizes, marks)", function()
    local a = { Zone = "z", Id = "i", Tags = { Tag = json.array { { Key = "k", Value = "v" } } } }
    local b = {}
    b.Tags = { Tag = { { Value = "v", Key = "k" } } }
    b.Id = "i"
    b.Zone = "z"
    for _ = 1, 3 do
      assert.equal('{"Id":"i","Tags":{"Tag":[{"Key":"k","Value":"v"}]},"Zone":"z"}', json.encode(a))
      assert.equal(json.encode(a), json.encode(b))
    end
  end)

  it("writes integral numbers without .0 and others in their shortest exact form", function()
    assert.equal("[20,20,-3,0.1,0.3333333333333333,1e+300]", json.encode { 20, 20.0, -3, 0.1, 1 / 3, 1e300 })
    for _, n in ipairs { 0.1, 1 / 3, 123.456, 2 ^ -30, 1e-7 } do
      assert.equal(n, core.json_decode(json.encode { n })[1])
    end
  end)

  it("escapes quotes, backslashes and control characters", function()
    assert.equal('"a\\"b\\\\c\\n\\t\\u0001"', json.encode('a"b\\c\n\t\1'))
    assert.equal('"中文"', json.encode("中文"))
  end)

  it("tells arrays from objects, with markers for empty tables", function()
    assert.equal("[]", json.encode {})
    assert.equal("{}", json.encode(json.object {}))
    assert.equal("[]", json.encode(json.array {}))
    assert.equal('{"1":"a","3":"c"}', json.encode { [1] = "a", [3] = "c" })
    assert.equal("[null,1]", json.encode { json.null, 1 })
    assert.equal(core.null, json.null)
  end)

  it("refuses what JSON cannot hold, naming where", function()
    local nan, err = json.encode { a = { 0 / 0 } }
    assert.is_nil(nan)
    assert.matches("%$%.a%[1%]", err)
    local loop = {}
    loop.self = loop
    assert.matches("contains itself", select(2, json.encode(loop)))
    assert.matches("function", select(2, json.encode { f = print }))
    assert.matches("boolean key", select(2, json.encode { [true] = 1 }))
  end)

  it("round-trips through the C decoder", function()
    local v = { Tags = { { Key = "k", Value = "v" } }, Count = 3, Ok = true, Name = "x y" }
    assert.same(v, core.json_decode(json.encode(v)))
  end)
end)
