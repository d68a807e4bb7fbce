-- An OpenResty gateway that answers HTTP requests by calling ENS and ECS:
--   GET /schedule?uuid=DEVICE   schedules an edge pod for the caller's IP (ENS RunServiceSchedule)
--   GET /status?region=REGION   instance ids and states of a region (ECS DescribeInstances)
-- Clients are made once per worker in init_worker (they send nothing there) and every call
-- goes over cosockets: nothing blocks the worker. Errors become JSON with the SDK's fields.
local aliyun = require "aliyun"
local json = require "aliyun.json"

local gateway = {}

local clients

-- opts: endpoint (the API endpoint; default: the products' own), app_id, region,
-- timeout; credentials come from the default chain (captured at init) unless given.
function gateway.init(opts)
  opts = opts or {}
  gateway.opts = opts
  local common = {
    endpoint = opts.endpoint, timeout = opts.timeout or 5, max_retries = opts.max_retries,
    access_key_id = opts.access_key_id, access_key_secret = opts.access_key_secret,
  }
  clients = { ens = aliyun.ens(common), ecs = aliyun.ecs(common) }
end

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(body))
end

local function fail(err)
  local status = err.kind == "validation" and 400 or (err.kind == "timeout" and 504 or 502)
  return reply(status, { error = err.kind, code = err.code, message = err.message, request_id = err.request_id })
end

-- Per-call credentials for multi-tenant gateways: a tenant's key pair from the request
-- headers (a real gateway would look them up; here the caller names them).
local function tenant_credentials()
  local id = ngx.var.http_x_tenant_key_id
  if not id then return nil end
  return { access_key_id = id, access_key_secret = ngx.var.http_x_tenant_key_secret }
end

function gateway.schedule()
  local uuid = ngx.var.arg_uuid
  if not uuid or uuid == "" then return reply(400, { error = "validation", message = "uuid is required" }) end
  local r, err = clients.ens:RunServiceSchedule({
    Uuid = uuid, AppId = gateway.opts.app_id or "demo-app", ClientIp = ngx.var.remote_addr,
    ServiceAction = "Start",
  }, { credentials = tenant_credentials() })
  if not r then return fail(err) end
  reply(200, { uuid = uuid, client_ip = ngx.var.remote_addr, instance_id = r.InstanceId,
    ip = r.InstanceIp, port = r.InstancePort, request_id = r.RequestId })
end

function gateway.status()
  local region = ngx.var.arg_region or gateway.opts.region or "cn-hangzhou"
  local r, err = clients.ecs:DescribeInstances({ RegionId = region, PageSize = 100 },
    { credentials = tenant_credentials() })
  if not r then return fail(err) end
  local out = json.array {}
  for _, i in ipairs(r.Instances.Instance) do
    out[#out + 1] = { id = i.InstanceId, status = i.Status, zone = i.ZoneId }
  end
  reply(200, { region = region, total = r.TotalCount, instances = out })
end

return gateway
