-- GET /api/v1/members: a page of 100 members with their effective roles, at a random start
-- among the first 10,000 (the API key is SCIMD_API_KEY).
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local total = tonumber(os.getenv("SCIMD_USERS"))
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local last = math.max(1, math.min(total, 10000) - 99)
  return wrk.format("GET", "/api/v1/members?start=" .. math.random(last) .. "&count=100",
    {["Authorization"] = "Bearer " .. os.getenv("SCIMD_API_KEY")})
end
done = common.done
