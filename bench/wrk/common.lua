-- Shared by the scimd benchmark scripts: the token, the seeded ids and userNames, and a
-- one-line JSON summary that bench/run collects.
local M = {}

function M.load_ids()
  local ids, names = {}, {}
  local path = os.getenv("SCIMD_IDS")
  for line in io.lines(path) do
    local id, name = line:match("^(%S+) (%S+)$")
    if id then
      ids[#ids + 1] = id
      names[#names + 1] = name
    end
  end
  return ids, names
end

function M.headers()
  return {
    ["Authorization"] = "Bearer " .. os.getenv("SCIMD_TOKEN"),
    ["Content-Type"] = "application/scim+json",
  }
end

function M.done(summary, latency, requests)
  local non2xx = summary.errors.status
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"non2xx":%d,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx, errors))
end

return M
