-- The request mix of bench/load: API reads and writes with a valid key, API calls with an
-- invalid key, page views by a signed-in admin, and Regenerate New Key. Counts every status.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  key, bad, cookie, csrf = args[1], args[2], args[3], args[4]
  n = 0
  statuses = {}
end

function request()
  n = n + 1
  local m = n % 20
  if m < 6 then
    return wrk.format("GET", "/api/v1/contacts?limit=10", { ["X-Api-Key"] = key })
  elseif m < 8 then
    return wrk.format("GET", "/api/v1/me", { ["X-Api-Key"] = key })
  elseif m < 10 then
    return wrk.format("POST", "/api/v1/contacts",
      { ["X-Api-Key"] = key, ["Content-Type"] = "application/json" },
      '{"first_name":"Load","last_name":"Test"}')
  elseif m < 12 then
    return wrk.format("GET", "/api/v1/me", { ["X-Api-Key"] = bad })
  elseif m < 15 then
    return wrk.format("GET", "/settings/api-access", { ["Cookie"] = cookie })
  elseif m < 18 then
    return wrk.format("GET", "/admin/api-management?q=us", { ["Cookie"] = cookie })
  elseif m < 19 then
    return wrk.format("GET", "/docs/api", {})
  else
    return wrk.format("POST", "/settings/api-access/regenerate",
      { ["Cookie"] = cookie, ["X-CSRF-Token"] = csrf, ["HX-Request"] = "true",
        ["Content-Type"] = "application/x-www-form-urlencoded" }, "")
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local keys = {}
  for status in pairs(total) do table.insert(keys, status) end
  table.sort(keys)
  for _, status in ipairs(keys) do
    io.write(string.format("status %d: %d\n", status, total[status]))
  end
  io.write(string.format("p50 %.1f ms, p99 %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
