-- The one engine behind the emulated resources. A resource kind is declared once, as data
-- (lua/aliyun/emulator/kinds/*.lua); the engine turns each declared action into a handler.
-- Hand-written handlers remain for what is special (op = "custom"), and they use the same
-- helpers (find, show, commit, later) so that their answers and errors match the rest.
--
-- A kind:
--   name        "vpc": the kind's name (relations and the store refer to it)
--   product     "ecs" | "ens"
--   id          the wire field of its id ("VpcId"); `prefix` makes new ids (prefix-<20 chars>,
--               `id_length` other than 20); without a prefix the id is the create call's
--               parameter of the same name (key pairs are known by name)
--   scope       "region": records carry RegionId and a call's RegionId must match;
--               "zone": ZoneId too; "ens": EnsRegionId; "global": neither
--   name_field  the field holding the resource's display name, if any
--   not_found   the error code of an id that does not exist (status and message from the
--               catalogue, errors.lua)
--   error_status  the HTTP status of the codes the engine raises for the kind (not found,
--               wrong state, dependents) when the product answers them with another status
--               than the catalogue's (ENS answers 400 for codes ECS answers 404 or 403)
--   tag_type    its ResourceType in the tag actions ("instance", "securitygroup", ...)
--   fields      {Field = spec}: what create and modify calls may set. spec: param (the wire
--               parameter, default Field), default (value or function(emu, rec, ctx)),
--               enum {...}, code (the error code of a bad value), check ("name", "description",
--               "cidr" or function(value) -> ok, why), min/max (numbers), to (function
--               converting the typed parameter into the stored value)
--   status      the state field ("Status") when it is not "Status"
--   view        function(emu, rec, ctx) -> {computed wire fields} merged when a record is shown
--   on_delete   function(emu, ctx, rec): what goes with it (cascades)
--   actions     {Action = op}, each op one of:
--     {op = "create", status = initial state, ready = {after = delay name, [Field] = value...}
--        (a transition the clock makes later), refs = {Param = kind} (must exist in scope; the
--        record keeps the id), unique = Field (code: unique_code), limit = n (limit_code),
--        before = fn(emu, a, ctx, rec) (checks and extra fields before the record is stored),
--        after = fn(emu, a, ctx, rec) (after), answer = fn(emu, ctx, rec) -> body}
--     {op = "describe", filters = {Param = Field | {field =, match = "eq"|"in"|"contains"|"bool"|
--        "prefix"|"like"|fn(rec, value, ctx)}}, ids = {Param = Field} (lists of ids, in any
--        style), page_size = default, page_max = max, list = {"Vpcs", "Vpc"} (default: from
--        the model), scope = false (region optional), extra = fn(emu, a, ctx, body)}
--     {op = "get", by = Param}                           Describe*Attribute: one record
--     {op = "modify", by = Param, fields = {Field...}, states = {...} (else state_code)}
--     {op = "delete", by = Param, states = {...}, state_code =, dependents = {{kind =,
--        field =, code =}} (refused while any exists), missing_ok = true (no error when gone)}
--     {op = "transition", by = Param, from = {...}, via = "Starting", to = "Running",
--        after = delay name, code = error code, apply = fn}
--     {op = "noop", by = Param (optional), answer = fn}  billing and other no-effect actions
--     {op = "custom", handler = fn(emu, a, ctx) -> body}
--   Every op also takes honours = {Param...} (parameters its hooks read) and ignores =
--   {Param = "why it has no effect here"}; any other parameter of the action present in a
--   request fails with UnsupportedParameter.NotEmulated naming it (never silently ignored).
local api = require "aliyun.api"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local engine = {}

local raise = errors.raise
local arr = json.array
local find, sub = string.find, string.sub

-- Registered kinds and handlers: engine.kinds[name], engine.actions[product][Action] =
-- {fn =, kind =, decl =, honours = set}.
engine.kinds = {}
engine.actions = { ecs = {}, ens = {} }

-- Parameters every action may carry that are about the protocol or the caller.
local ALWAYS = { ClientToken = true }

---------------------------------------------------------------------------------------------
-- The store: a world per account, a collection per kind.

function engine.coll(world, kind_name)
  local c = world.colls[kind_name]
  if not c then
    c = state.collection()
    world.colls[kind_name] = c
  end
  return c
end

function engine.new_world(account)
  return { account = account, colls = {}, seq = 0 }
end

---------------------------------------------------------------------------------------------
-- Time: transitions the clock makes later, in a heap ordered by due time. Entries are plain
-- data ({at, seq, account, kind, id, gen, set, hook}) so that a state file can hold them.

local function heap_push(h, e)
  h[#h + 1] = e
  local i = #h
  while i > 1 do
    local p = math.floor(i / 2)
    local a, b = h[p], h[i]
    if a.at < b.at or (a.at == b.at and a.seq < b.seq) then break end
    h[p], h[i] = b, a
    i = p
  end
end

local function heap_pop(h)
  local top = h[1]
  local last = table.remove(h)
  if #h > 0 then
    h[1] = last
    local i, n = 1, #h
    while true do
      local l, r, m = 2 * i, 2 * i + 1, i
      local function less(x, y) return h[x].at < h[y].at or (h[x].at == h[y].at and h[x].seq < h[y].seq) end
      if l <= n and less(l, m) then m = l end
      if r <= n and less(r, m) then m = r end
      if m == i then break end
      h[m], h[i] = h[i], h[m]
      i = m
    end
  end
  return top
end

-- Hooks a timer may run by name (data, not closures, so that timers can be saved).
engine.hooks = {}

-- The emulator's time for a change: while a timer's hook runs, the time the timer was due
-- (so that a chain of transitions, Pending -> Starting -> Running, keeps its delays even
-- when nobody asks in between), else the clock.
function engine.now(emu)
  return emu.tick_at or emu:now()
end

-- engine.later(emu, ctx, rec, seconds, set, hook, slot): after `seconds` of the emulator's
-- clock, the record's fields become `set` (and hook runs), unless something else changed its
-- state in between (each scheduled change bumps the record's generation). A `slot` ("release")
-- keeps its own generation: such a timer (an instance's auto-release time) neither cancels nor
-- is cancelled by the record's state transitions, only by the next timer of the same slot.
function engine.later(emu, ctx, rec, seconds, set, hook, slot)
  local gen
  if slot then
    rec._slots = rec._slots or {}
    gen = (rec._slots[slot] or 0) + 1
    rec._slots[slot] = gen
  else
    gen = (rec._gen or 0) + 1
    rec._gen = gen
  end
  if (seconds or 0) <= 0 then
    for k, v in pairs(set or {}) do rec[k] = v end
    if hook then engine.hooks[hook](emu, ctx.world, rec) end
    return
  end
  emu.timer_seq = (emu.timer_seq or 0) + 1
  heap_push(emu.timers, { at = engine.now(emu) + seconds, seq = emu.timer_seq, account = ctx.world.account,
    kind = rec._kind, id = rec[engine.kinds[rec._kind].id], gen = gen, slot = slot, set = set, hook = hook })
end

-- engine.at(emu, ctx, rec, when, set, hook, slot): engine.later at an absolute time of the
-- emulator's clock (at once when it has passed). Inside a timer's hook "now" is the time the
-- timer was due, so a delay computed from emu:now() would land early: use this instead.
function engine.at(emu, ctx, rec, when, set, hook, slot)
  return engine.later(emu, ctx, rec, math.max(0, when - engine.now(emu)), set, hook, slot)
end

-- Cancels what is pending in a slot of a record (see engine.later).
function engine.cancel(rec, slot)
  rec._slots = rec._slots or {}
  rec._slots[slot] = (rec._slots[slot] or 0) + 1
end

-- Applies every transition that is due (called before each request).
function engine.tick(emu)
  local h, now = emu.timers, emu:now()
  while h[1] and h[1].at <= now do
    local e = heap_pop(h)
    emu.version = (emu.version or 0) + 1 -- (kept answers no longer hold)
    local world = emu.worlds[e.account]
    local rec = world and engine.coll(world, e.kind):get(e.id)
    local gen = rec and (e.slot and (rec._slots or {})[e.slot] or not e.slot and rec._gen)
    if rec and gen == e.gen then
      for k, v in pairs(e.set or {}) do rec[k] = v end
      if e.hook then
        emu.tick_at = e.at
        local ok, err = pcall(engine.hooks[e.hook], emu, world, rec, e)
        emu.tick_at = nil
        if not ok then error(err, 0) end
      end
    end
  end
end

---------------------------------------------------------------------------------------------
-- Records

function engine.new_id(emu, kind)
  return emu.ids:resource(kind.prefix, kind.id_length)
end

-- A new record of a kind in the call's world (not yet stored).
function engine.record(emu, _ctx, kind, fields)
  local rec = { _kind = kind.name }
  for k, v in pairs(fields or {}) do rec[k] = v end
  if rec[kind.id] == nil and kind.prefix then rec[kind.id] = engine.new_id(emu, kind) end
  if rec.CreationTime == nil then rec.CreationTime = state.iso(emu:now()) end
  rec.Tags = rec.Tags or {}
  return rec
end

function engine.store(ctx, rec)
  local kind = engine.kinds[rec._kind]
  engine.coll(ctx.world, kind.name):add(rec[kind.id], rec)
  return rec
end

function engine.remove(emu, ctx, rec)
  local kind = engine.kinds[rec._kind]
  if kind.on_delete then kind.on_delete(emu, ctx, rec) end
  rec._gen = (rec._gen or 0) + 1 -- pending transitions no longer apply
  engine.coll(ctx.world, kind.name):remove(rec[kind.id])
end

-- The records of a kind in the call's world, optionally filtered (keep(rec, arg)).
function engine.list(ctx, kind_name, keep, arg)
  return engine.coll(ctx.world, kind_name):list(keep, arg)
end

function engine.get(ctx, kind_name, id)
  return engine.coll(ctx.world, kind_name):get(id)
end

-- A record as the API shows it: its fields and its view's computed ones.
function engine.show(emu, ctx, rec)
  local kind = engine.kinds[rec._kind]
  if not kind.view then return rec end
  local out = { _kind = rec._kind }
  for k, v in pairs(rec) do out[k] = v end
  for k, v in pairs(kind.view(emu, rec, ctx)) do out[k] = v end
  return out
end

-- The same for rendering only: the view's fields over the record (_base), without copying
-- the record (a Describe of many records spent a tenth of its time in those copies).
-- shape.render reads it; pairs() over it would not see the record's own fields.
function engine.overlay(emu, ctx, rec)
  local kind = engine.kinds[rec._kind]
  if not kind.view then return rec end
  local out = kind.view(emu, rec, ctx)
  out._kind, out._base = rec._kind, rec
  return out
end

---------------------------------------------------------------------------------------------
-- Scope and lookup

-- The call's region, checked against the regions the emulator serves.
function engine.region(emu, a, optional)
  local id
  if optional then id = a:str("RegionId") else id = a:need("RegionId") end
  if id and not emu.regions:get(id) then raise("InvalidRegionId.NotFound") end
  return id
end

-- The zone a call names, checked to be in the region.
function engine.zone(emu, a, region, param)
  local z = a:need(param or "ZoneId")
  if emu.zones[z] ~= region then raise("InvalidZoneId.NotFound") end
  return z
end

-- A record without a RegionId (a public image) is in every region.
local function in_scope(kind, rec, region)
  return region == nil or kind.scope ~= "region" and kind.scope ~= "zone" or rec.RegionId == nil
    or rec.RegionId == region
end

-- engine.find(emu, ctx, kind_name, id, region) -> the record, or the kind's not-found error.
function engine.find(ctx, kind_name, id, region, code)
  local kind = engine.kinds[kind_name]
  local rec = id and engine.coll(ctx.world, kind_name):get(id)
  if not rec or not in_scope(kind, rec, region) then
    raise(code or kind.not_found, nil, kind.error_status)
  end
  return rec
end

-- Raises DryRunOperation for a DryRun call that got this far (its checks passed); every
-- handler calls it right before its first change.
function engine.commit(a)
  if a:bool("DryRun", false) then raise("DryRunOperation") end
end

---------------------------------------------------------------------------------------------
-- Parameters

-- Checks shared by many fields (the ECS rules for names and descriptions).
local CHECKS = {
  name = function(v)
    if #v < 2 or #v > 128 then return false, "it must be 2 to 128 characters long" end
    if v:match("^https?://") then return false, "it must not start with http:// or https://" end
    if not (v:match("^%a") or v:byte(1) >= 128) then return false, "it must start with a letter" end
    if v:find("[^%w%.:_%-\128-\255]") then
      return false, "it may hold letters, digits, colons, underscores, periods and hyphens"
    end
    return true
  end,
  description = function(v)
    if #v < 2 or #v > 256 then return false, "it must be 2 to 256 characters long" end
    if v:match("^https?://") then return false, "it must not start with http:// or https://" end
    return true
  end,
  cidr = function(v)
    local a, b, c, d, n = v:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/(%d+)$")
    if not a then return false, "it must be an IPv4 CIDR block such as 192.168.0.0/16" end
    for _, x in ipairs { a, b, c, d } do
      if tonumber(x) > 255 then return false, "it must be an IPv4 CIDR block" end
    end
    if tonumber(n) > 32 then return false, "the prefix length must be at most 32" end
    return true
  end,
}
engine.CHECKS = CHECKS

-- The bytes of strict base64 text (the alphabet, whole quads, padding only at the end), or nil.
function engine.base64(text)
  if type(text) ~= "string" or not text:match("^[%w+/]*=?=?$") or #text % 4 ~= 0 then return nil end
  local ok, raw = pcall(require("aliyun.core").base64_decode, text)
  if not ok then return nil end
  return raw
end

-- The service's password rule: 8 to 30 characters of at least three of upper case, lower
-- case, digits and special characters.
function engine.password_ok(pw)
  local classes = 0
  for _, pat in ipairs { "%u", "%l", "%d", "[^%w]" } do
    if pw:find(pat) then classes = classes + 1 end
  end
  return #pw >= 8 and #pw <= 30 and classes >= 3
end

-- Password and PasswordInherit of an ECS call (RunInstances, ReInitDisk, ...): whether a
-- password was given. The value itself never goes into a message.
function engine.check_password(a)
  local pw = a:str("Password")
  if pw and a:bool("PasswordInherit", false) then raise("InvalidPasswordParam.Mismatch") end
  if pw and not engine.password_ok(pw) then
    raise("InvalidPassword.Malformed", "The specified parameter \"Password\" is not valid: 8 to 30 characters "
      .. "with three of upper case, lower case, digits and special characters.")
  end
  return pw ~= nil
end

-- The metadata type of a parameter of the action (nil when the action lacks it).
local function param_type(ctx, name)
  local p = ctx.meta and ctx.meta[name]
  return p and p.type
end

-- Reads one parameter as its metadata type says.
function engine.read(a, ctx, name)
  local t = param_type(ctx, name)
  if t == "Integer" or t == "Long" then return a:int(name) end
  if t == "Boolean" then return a:bool(name) end
  if t == "Float" or t == "Double" then return a:number(name) end
  if t == "RepeatList" or t == "Array" then return a:has_list(name) and a:strings(name) or nil end
  return a:str(name)
end

-- Sets the record's fields from the call's parameters (only `names`, or every declared field).
function engine.set_fields(emu, a, ctx, kind, rec, names, creating)
  local list = names
  if not list then
    list = {}
    for field in pairs(kind.fields or {}) do list[#list + 1] = field end
    table.sort(list)
  end
  local changed = false
  for _, field in ipairs(list) do
    local spec = kind.fields[field] or {}
    local param = spec.param or field
    local v = nil
    if ctx.meta[param] then v = engine.read(a, ctx, param) end
    if v ~= nil then
      if spec.enum then
        local ok = false
        for _, e in ipairs(spec.enum) do if e == v then ok = true end end
        if not ok then
          errors.invalid(param, spec.code, nil, "Valid values: " .. table.concat(spec.enum, ", ") .. ".")
        end
      end
      if (spec.min and v < spec.min) or (spec.max and v > spec.max) then
        errors.invalid(param, spec.code, nil, "It must be between " .. tostring(spec.min or "-") .. " and "
          .. tostring(spec.max or "-") .. ".")
      end
      local check = type(spec.check) == "string" and CHECKS[spec.check] or spec.check
      if check then
        local ok, why = check(v)
        if not ok then errors.invalid(param, spec.code, nil, why and ("Rule: " .. why .. ".")) end
      end
      if spec.to then v = spec.to(v, emu, ctx) end
      rec[field] = v
      changed = true
    elseif creating and rec[field] == nil and spec.default ~= nil then
      local d = spec.default
      if type(d) == "function" then d = d(emu, rec, ctx) end
      rec[field] = d
    end
  end
  return changed
end

-- Tag.N.Key / Tag.N.Value (either case) as {{Key =, Value =}, ...}, checked as the service
-- checks them: at most 20, keys 1-128 characters not starting with aliyun or acs:, no
-- http:// or https://, values up to 128.
function engine.tags(a, name)
  name = name or "Tag"
  local out = a:objects(name, { "Key", "Value", "key", "value" })
  if #out > 20 then raise("InvalidTagCount") end
  local tags = {}
  for i, t in ipairs(out) do
    local k, v = t.Key or t.key, t.Value or t.value
    if k == nil then
      if v ~= nil then
        raise("InvalidTag.Mismatch", "The specified " .. name .. "." .. i .. ".Value has no " .. name .. "." .. i
          .. ".Key.")
      end
    else
      if #k > 128 or k:match("^aliyun") or k:match("^acs:") or k:match("https?://") then
        raise("InvalidTagKey.Malformed", "The specified parameter \"" .. name .. "." .. i .. ".Key\" is not valid.")
      end
      if v and (#v > 128 or v:match("^https?://")) then
        raise("InvalidTagValue.Malformed", "The specified parameter \"" .. name .. "." .. i .. ".Value\" is not valid.")
      end
      tags[#tags + 1] = { Key = k, Value = v or "" }
    end
  end
  return tags
end

-- Adds or replaces tags on a record (a key appears once; at most 20 in all).
function engine.tag(rec, tags)
  for _, t in ipairs(tags) do
    local found = false
    for _, have in ipairs(rec.Tags) do
      if have.Key == t.Key then have.Value = t.Value; found = true end
    end
    if not found then rec.Tags[#rec.Tags + 1] = { Key = t.Key, Value = t.Value } end
  end
  if #rec.Tags > 20 then raise("InvalidTagCount") end
end

function engine.untag(rec, keys, all)
  local keep = {}
  for _, t in ipairs(rec.Tags) do
    if not all and not keys[t.Key] then keep[#keep + 1] = t end
  end
  rec.Tags = keep
end

-- TagResources on records (ECS and ENS): each key once, at most 20 tags a record, all or
-- nothing (a record that would pass 20 tags fails the call before any change).
function engine.tag_records(a, recs, tags)
  local seen = {}
  for _, t in ipairs(tags) do
    if seen[t.Key] then raise("InvalidTagKey.Duplicated", "The tag key \"" .. t.Key .. "\" is given twice.") end
    seen[t.Key] = true
  end
  for _, rec in ipairs(recs) do
    local copy = { Tags = {} }
    for i, t in ipairs(rec.Tags) do copy.Tags[i] = { Key = t.Key, Value = t.Value } end
    engine.tag(copy, tags)
  end
  engine.commit(a)
  for _, rec in ipairs(recs) do engine.tag(rec, tags) end
end

-- UntagResources on records: the keys of TagKey (any list form), or every tag with All.
function engine.untag_records(a, recs, missing)
  local keys = {}
  local list = a:strings("TagKey")
  for _, k in ipairs(list) do keys[k] = true end
  local all = a:bool("All", false)
  if #list == 0 and not all then errors.missing(missing or "TagKey") end
  engine.commit(a)
  for _, rec in ipairs(recs) do engine.untag(rec, keys, all and #list == 0) end
end

-- Whether a record carries every tag asked for (a key without a value matches any value).
function engine.has_tags(rec, wanted)
  for _, w in ipairs(wanted) do
    local found = false
    for _, t in ipairs(rec.Tags or {}) do
      if t.Key == w.Key and (w.Value == nil or w.Value == "" or t.Value == w.Value) then found = true end
    end
    if not found then return false end
  end
  return true
end

---------------------------------------------------------------------------------------------
-- Listing: filters and the two paginations.

local MATCH = {
  eq = function(rv, v) return rv == v end,
  bool = function(rv, v) return (rv == true) == v end,
  ["in"] = function(rv, set) return set[rv] == true end,
  contains = function(rv, v)
    for _, x in ipairs(rv or {}) do if x == v then return true end end
    return false
  end,
  prefix = function(rv, v) return type(rv) == "string" and rv:sub(1, #v) == v end,
  like = function(rv, v) return type(rv) == "string" and rv:find(v, 1, true) ~= nil end,
}

-- Pagination as the actions document it: PageNumber (from 1) and PageSize; where the action
-- has them, NextToken and MaxResults. Returns the page and the fields for the answer.
function engine.page(emu, a, ctx, items, decl)
  local page, body = engine.page_items(emu, a, ctx, items, decl)
  -- only the paging fields the action's model has (DescribeInstances has no MaxResults)
  local fields = ctx.shape and ctx.shape.fields
  if fields then
    for k in pairs(body) do
      if not fields[k] then body[k] = nil end
    end
  end
  return page, body
end

function engine.page_items(emu, a, ctx, items, decl)
  local total = #items
  local meta = ctx.meta
  local max = decl.page_max or 100
  if meta.NextToken and (a:has("NextToken") or a:has("MaxResults") or not meta.PageNumber) then
    local size = a:int("MaxResults", decl.max_results or decl.page_size or 10, 1, decl.max_results_max or max)
    local start = 1
    local token = a:str("NextToken")
    if token then
      local at = emu.page_tokens[token]
      if not at then raise("InvalidParameter.NextToken") end
      start = at
    end
    local page = {}
    for i = start, math.min(total, start + size - 1) do page[#page + 1] = items[i] end
    local next_token = ""
    if start + size <= total then
      next_token = emu.ids:hex(32)
      emu.page_tokens[next_token] = start + size
    end
    return page, { NextToken = next_token, MaxResults = size, TotalCount = total }
  end
  if not meta.PageNumber and not meta.PageSize then
    return items, { TotalCount = total }
  end
  local number = a:int("PageNumber", 1, 1, nil)
  local size = a:int("PageSize", decl.page_size or 10, 1, max)
  local page = {}
  local first = (number - 1) * size + 1
  for i = first, math.min(total, first + size - 1) do page[#page + 1] = items[i] end
  return page, { PageNumber = number, PageSize = size, TotalCount = total }
end

-- Puts value at a path ({"Vpcs", "Vpc"}) of a body.
local function put(body, path, value)
  local t = body
  for i = 1, #path - 1 do
    t[path[i]] = t[path[i]] or {}
    t = t[path[i]]
  end
  t[path[#path]] = value
end

---------------------------------------------------------------------------------------------
-- The ops

local ops = {}

local function id_param(kind, decl)
  return decl.by or kind.id
end

local function check_state(rec, kind, states, code)
  if not states then return end
  local s = rec[kind.status or "Status"]
  for _, ok in ipairs(states) do
    if s == ok then return end
  end
  raise(code or kind.state_code or "IncorrectStatus", nil, kind.error_status)
end

local function scope_of(emu, a, ctx, kind, decl)
  if kind.scope == "region" or kind.scope == "zone" then
    if ctx.meta.RegionId then return engine.region(emu, a, decl.scope == false or not ctx.meta.RegionId.required) end
  end
  return nil
end

function ops.create(emu, a, ctx, kind, decl)
  local region = scope_of(emu, a, ctx, kind, decl)
  local rec = engine.record(emu, ctx, kind, {})
  if kind.scope == "zone" then
    local zone = a:need("ZoneId")
    local zr = emu.zones[zone]
    if not zr or (region and zr ~= region) then raise("InvalidZoneId.NotFound") end
    region, rec.ZoneId = zr, zone
  end
  if kind.scope == "region" or kind.scope == "zone" then rec.RegionId = region end
  if not kind.prefix then rec[kind.id] = a:need(kind.id) end
  for param, target in pairs(decl.refs or {}) do
    local v = a:str(param)
    if v then
      engine.find(ctx, target, v, region)
      rec[param] = v
    elseif decl.refs_required and decl.refs_required[param] then
      errors.missing(param)
    end
  end
  engine.set_fields(emu, a, ctx, kind, rec, nil, true)
  if ctx.meta.Tag then rec.Tags = engine.tags(a) end
  if ctx.meta.ResourceGroupId then rec.ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group end
  if decl.unique then
    local v = rec[decl.unique]
    for _, other in ipairs(engine.list(ctx, kind.name)) do
      if other[decl.unique] == v and other.RegionId == rec.RegionId then raise(decl.unique_code) end
    end
  end
  if decl.limit then
    local n = 0
    for _, other in ipairs(engine.list(ctx, kind.name)) do
      if other.RegionId == rec.RegionId then n = n + 1 end
    end
    if n >= decl.limit then raise(decl.limit_code) end
  end
  if decl.before then decl.before(emu, a, ctx, rec) end
  engine.commit(a)
  if decl.status then rec[kind.status or "Status"] = decl.status end
  engine.store(ctx, rec)
  if decl.ready then
    local set = {}
    for k, v in pairs(decl.ready) do if k ~= "after" then set[k] = v end end
    engine.later(emu, ctx, rec, emu.delays[decl.ready.after] or 0, set)
  end
  if decl.after then decl.after(emu, a, ctx, rec) end
  if decl.answer then return decl.answer(emu, ctx, rec) end
  return engine.show(emu, ctx, rec)
end

-- The ids of a list parameter of the call as a set, or nil when absent.
local function id_set(a, param)
  if not a:has_list(param) then return nil end
  local set = {}
  for _, id in ipairs(a:strings(param)) do set[id] = true end
  return set
end

-- The names the call's parameters start with ("InstanceIds" for InstanceIds.1): a filter
-- whose parameter is not among them is not read at all (a Describe declares many).
local function given(a)
  local set = {}
  for k in pairs(a.p) do
    local dot = find(k, ".", 1, true)
    set[dot and sub(k, 1, dot - 1) or k] = true
  end
  return set
end

local function maybe(present, param)
  return present[param] or find(param, ".", 1, true) ~= nil
end

-- A Describe's tests of a record, as data (no closure per call: see Collection:list): each
-- is {fn, value, field}: fn(rec[field], value) when it names a field, else fn(rec, value, ctx, emu).
local function in_set(rv, set) return set[rv] == true end
local function tagged(rec, wanted) return engine.has_tags(rec, wanted) end

local function listed(rec, d)
  if not in_scope(d.kind, rec, d.region) then return false end
  local keep, ctx = d.keep, d.ctx
  if keep and not keep(rec, ctx) then return false end
  local tests = d.tests
  for i = 1, #tests do
    local t = tests[i]
    local field = t[3]
    if field then
      if not t[1](rec[field], t[2]) then return false end
    elseif not t[1](rec, t[2], ctx, d.emu) then
      return false
    end
  end
  return true
end

function ops.describe(emu, a, ctx, kind, decl)
  local region = scope_of(emu, a, ctx, kind, decl)
  if decl.prepare then decl.prepare(emu, a, ctx) end
  local tests = {}
  local present = given(a)
  for param, field in pairs(decl.ids or {}) do
    local set = maybe(present, param) and id_set(a, param)
    if set then tests[#tests + 1] = { in_set, set, field } end
  end
  for param, f in pairs(decl.filters or {}) do
    local value = nil
    if maybe(present, param) then value = engine.read(a, ctx, param) end
    if value ~= nil then
      if type(f) == "string" then f = { field = f } end
      if f.enum then
        local ok = false
        for _, e in ipairs(f.enum) do if e == value then ok = true end end
        if not ok then errors.invalid(param, f.code, nil, "Valid values: " .. table.concat(f.enum, ", ") .. ".") end
      end
      local m = f.match or (type(value) == "boolean" and "bool") or "eq"
      if type(m) == "function" then
        tests[#tests + 1] = { m, value }
      else
        if m == "in" then
          local set = {}
          for _, v in ipairs(type(value) == "table" and value or { value }) do set[v] = true end
          value = set
        end
        tests[#tests + 1] = { MATCH[m], value, f.field }
      end
    end
  end
  if ctx.meta.Tag then
    local wanted = engine.tags(a)
    if #wanted > 0 then tests[#tests + 1] = { tagged, wanted } end
  end
  if ctx.meta.ResourceGroupId and not (decl.filters and decl.filters.ResourceGroupId) then
    local group = a:str("ResourceGroupId")
    if group then tests[#tests + 1] = { MATCH.eq, group, "ResourceGroupId" } end
  end
  if kind.scope == "zone" and ctx.meta.ZoneId and not (decl.filters and decl.filters.ZoneId) then
    local zone = a:str("ZoneId")
    if zone then tests[#tests + 1] = { MATCH.eq, zone, "ZoneId" } end
  end
  local items = engine.list(ctx, kind.name, listed,
    { kind = kind, region = region, keep = decl.keep, ctx = ctx, emu = emu, tests = tests })
  if decl.sort then table.sort(items, decl.sort) end
  local page, body = engine.page(emu, a, ctx, items, decl)
  local shown = arr {}
  ctx.page = page -- the records about to be shown (a view may gather what they need at once)
  for i, rec in ipairs(page) do
    if decl.show then
      shown[i] = decl.show(emu, ctx, engine.show(emu, ctx, rec))
    else
      shown[i] = engine.overlay(emu, ctx, rec)
    end
  end
  ctx.page = nil
  local path = decl.list or ctx.list_path
  if not path then error("emulator: no list in the model of " .. ctx.action) end
  put(body, path, shown)
  if region and ctx.shape and ctx.shape.fields.RegionId then body.RegionId = region end
  if decl.extra then decl.extra(emu, a, ctx, body) end
  return body
end

local function lookup(emu, a, ctx, kind, decl)
  local region = scope_of(emu, a, ctx, kind, decl)
  local param = id_param(kind, decl)
  return engine.find(ctx, kind.name, a:need(param), region, decl.not_found)
end

function ops.get(emu, a, ctx, kind, decl)
  local rec = lookup(emu, a, ctx, kind, decl)
  if decl.check then decl.check(emu, a, ctx, rec) end
  local shown = engine.show(emu, ctx, rec)
  if decl.extra then
    local out = { _kind = rec._kind }
    for k, v in pairs(shown) do out[k] = v end
    decl.extra(emu, a, ctx, out, rec)
    return out
  end
  return shown
end

function ops.modify(emu, a, ctx, kind, decl)
  local rec = lookup(emu, a, ctx, kind, decl)
  check_state(rec, kind, decl.states, decl.state_code)
  local copy = {}
  for k, v in pairs(rec) do copy[k] = v end
  local changed = engine.set_fields(emu, a, ctx, kind, copy, decl.fields, false)
  if decl.before then decl.before(emu, a, ctx, copy, rec) end
  if decl.need_change and not changed then raise("NoAttributeToModify") end
  engine.commit(a)
  for k, v in pairs(copy) do rec[k] = v end
  if decl.after then decl.after(emu, a, ctx, rec) end
  return decl.answer and decl.answer(emu, ctx, rec) or {}
end

function ops.delete(emu, a, ctx, kind, decl)
  local region = scope_of(emu, a, ctx, kind, decl)
  local param = id_param(kind, decl)
  local id = a:need(param)
  local rec = engine.coll(ctx.world, kind.name):get(id)
  if not rec or not in_scope(kind, rec, region) then
    if decl.missing_ok then
      engine.commit(a)
      return {}
    end
    raise(decl.not_found or kind.not_found, nil, kind.error_status)
  end
  check_state(rec, kind, decl.states, decl.state_code)
  for _, dep in ipairs(decl.dependents or kind.dependents or {}) do
    for _, other in ipairs(engine.list(ctx, dep.kind)) do
      local v = other[dep.field]
      local uses = v == id
      if type(v) == "table" then uses = MATCH.contains(v, id) end
      if uses and (not dep.unless or not dep.unless(other)) then raise(dep.code, dep.message, kind.error_status) end
    end
  end
  if decl.before then decl.before(emu, a, ctx, rec) end
  engine.commit(a)
  engine.remove(emu, ctx, rec)
  return {}
end

function ops.transition(emu, a, ctx, kind, decl)
  local rec = lookup(emu, a, ctx, kind, decl)
  check_state(rec, kind, decl.from, decl.code)
  if decl.before then decl.before(emu, a, ctx, rec) end
  engine.commit(a)
  local field = kind.status or "Status"
  local set = { [field] = decl.to }
  for k, v in pairs(decl.set or {}) do set[k] = v end
  if decl.via then
    rec[field] = decl.via
    engine.later(emu, ctx, rec, emu.delays[decl.after] or 0, set, decl.hook)
  else
    engine.later(emu, ctx, rec, 0, set, decl.hook)
  end
  if decl.after_fn then decl.after_fn(emu, a, ctx, rec) end
  return {}
end

function ops.noop(emu, a, ctx, kind, decl)
  local rec
  if decl.by then rec = lookup(emu, a, ctx, kind, decl) end
  if decl.before then decl.before(emu, a, ctx, rec) end
  engine.commit(a)
  return decl.answer and decl.answer(emu, ctx, rec, a) or {}
end

function ops.custom(emu, a, ctx, _, decl)
  return decl.handler(emu, a, ctx)
end

---------------------------------------------------------------------------------------------
-- Registration: which parameters each op honours, and the handler.

-- The parameters an op reads by itself, from its declaration and the kind's.
local function honoured(kind, decl, meta)
  local set = {}
  for k in pairs(ALWAYS) do set[k] = true end
  local function add(n) if n then set[n] = true end end
  add("RegionId")
  if meta.DryRun then add("DryRun") end
  local op = decl.op
  if op == "create" then
    if kind.scope == "zone" then add("ZoneId") end
    if not kind.prefix then add(kind.id) end
    for field, spec in pairs(kind.fields or {}) do add(spec.param or field) end
    for p in pairs(decl.refs or {}) do add(p) end
    add("Tag")
    add("ResourceGroupId")
  elseif op == "describe" then
    for p in pairs(decl.ids or {}) do add(p) end
    for p in pairs(decl.filters or {}) do add(p) end
    for _, p in ipairs { "Tag", "ResourceGroupId", "PageNumber", "PageSize", "NextToken", "MaxResults" } do add(p) end
    if kind.scope == "zone" then add("ZoneId") end
  elseif op == "modify" then
    add(id_param(kind, decl))
    for _, field in ipairs(decl.fields or {}) do add((kind.fields[field] or {}).param or field) end
  elseif op == "get" or op == "delete" or op == "transition" then
    add(id_param(kind, decl))
  elseif op == "noop" then
    add(decl.by)
  end
  for _, p in ipairs(decl.honours or {}) do add(p) end
  for p in pairs(decl.ignores or {}) do add(p) end
  -- keep only what the action has: the coverage report lists real parameters
  local out = {}
  for p in pairs(set) do
    if meta[p] or meta[p:match("^[^.]+")] or p == "ClientToken" then out[p] = true end
  end
  return out
end

-- The action's parameters by name ({name -> metadata entry}), with flat children.
local function meta_index(product, action)
  local entry = api.find(product, action)
  local idx = {}
  if not entry then return idx end
  for _, p in ipairs(entry.params or {}) do idx[p.name] = p end
  return idx
end
engine.meta_index = meta_index

-- engine.register(kind): its actions become handlers. A table with `extends = "instance"`
-- instead of a name adds its actions (and fields) to that kind, so that a kind's many
-- actions can live in several files.
function engine.register(kind)
  local actions = kind.actions or {}
  if kind.extends then
    local base = engine.kinds[kind.extends]
    if not base then error("emulator: " .. tostring(kind.extends) .. " must be registered before what extends it") end
    for field, spec in pairs(kind.fields or {}) do base.fields[field] = spec end
    kind = base
  else
    if engine.kinds[kind.name] then error("emulator: kind " .. kind.name .. " declared twice") end
    engine.kinds[kind.name] = kind
    kind.fields = kind.fields or {}
  end
  for action, decl in pairs(actions) do
    local op = ops[decl.op]
    if not op then error("emulator: " .. kind.name .. "." .. action .. ": unknown op " .. tostring(decl.op)) end
    if engine.actions[kind.product][action] then
      error("emulator: " .. action .. " declared twice (" .. kind.name .. ")")
    end
    if decl.op == "custom" and not decl.honours then
      -- what a hand-written handler honours must be said, or nothing could be refused
      error("emulator: " .. action .. " (" .. kind.name .. ") is custom and lists no honours")
    end
    local meta = meta_index(kind.product, action)
    local ignored = {}
    for p in pairs(decl.ignores or {}) do ignored[#ignored + 1] = p end
    engine.actions[kind.product][action] = {
      kind = kind, decl = decl, meta = meta, honours = honoured(kind, decl, meta),
      fn = function(emu, a, ctx)
        -- a parameter declared without effect counts as read (strict mode asks every
        -- parameter a request carries to be read)
        for i = 1, #ignored do a:str(ignored[i]) end
        return op(emu, a, ctx, kind, decl)
      end,
    }
  end
end

-- Reads every kind module named, in order.
function engine.load(names)
  for _, name in ipairs(names) do
    local kinds = require(name)
    if kinds.name then kinds = { kinds } end
    for _, k in ipairs(kinds) do engine.register(k) end
  end
end

return engine
