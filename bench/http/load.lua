-- wrk script for bench/http/run.sh. Arguments: TOKEN RUN ROUTE [BATCH]
--   ROUTE holds:  every request asks POST /v1/holds for a new task of one of
--                 1,000 accounts;
--   ROUTE events: every request posts BATCH new usage_recorded events as
--                 NDJSON to POST /v1/events.
-- RUN keeps ids unique across runs.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  token, run, route, batch = args[1], args[2], args[3], tonumber(args[4] or "1")
  counter = 0
end

local function event(kind, data)
  counter = counter + 1
  local id = run .. "-" .. tid .. "-" .. counter
  return '{"id":"' .. kind .. '-' .. id .. '","account":"acct-' .. (counter % 1000) ..
      '","occurred_at":"2026-12-01T00:00:00Z","producer":"bench",' .. data(id) .. '}'
end

local function hold(id)
  return '"type":"task_submitted","data":{"task_id":"t-' .. id .. '","estimate":"1"}'
end

local function usage(id)
  return '"type":"usage_recorded","data":{"usage_id":"u-' .. id ..
      '","credits":"0.01","model":"image-xl"}'
end

function request()
  if route == "holds" then
    return wrk.format("POST", "/v1/holds", {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json"}, event("h", hold))
  end
  local lines = {}
  for i = 1, batch do lines[i] = event("u", usage) end
  return wrk.format("POST", "/v1/events", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/x-ndjson"}, table.concat(lines, "\n") .. "\n")
end
