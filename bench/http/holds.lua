-- wrk script: every request asks POST /v1/holds for a new task of one of
-- 1,000 accounts. Arguments: TOKEN RUN (RUN keeps ids unique across runs).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  token, run = args[1], args[2]
  counter = 0
end

function request()
  counter = counter + 1
  local id = run .. "-" .. tid .. "-" .. counter
  local body = '{"id":"h-' .. id .. '","account":"acct-' .. (counter % 1000) ..
      '","occurred_at":"2026-12-01T00:00:00Z","producer":"bench","type":"task_submitted",' ..
      '"data":{"task_id":"t-' .. id .. '","estimate":"1"}}'
  return wrk.format("POST", "/v1/holds", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, body)
end
