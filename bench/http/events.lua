-- wrk script: every request posts BATCH new usage_recorded events as NDJSON
-- to POST /v1/events. Arguments: TOKEN RUN BATCH.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  token, run, batch = args[1], args[2], tonumber(args[3])
  counter = 0
end

function request()
  local lines = {}
  for i = 1, batch do
    counter = counter + 1
    local id = run .. "-" .. tid .. "-" .. counter
    lines[i] = '{"id":"u-' .. id .. '","account":"acct-' .. (counter % 1000) ..
        '","occurred_at":"2026-12-01T00:00:00Z","producer":"bench","type":"usage_recorded",' ..
        '"data":{"usage_id":"u-' .. id .. '","credits":"0.01","model":"image-xl"}}'
  end
  return wrk.format("POST", "/v1/events", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/x-ndjson"}, table.concat(lines, "\n") .. "\n")
end
