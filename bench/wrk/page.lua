-- A page of 100 accounts at a random startIndex among the first 10,000.
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local total = tonumber(os.getenv("SCIMD_USERS"))
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local last = math.max(1, math.min(total, 10000) - 99)
  return wrk.format("GET", "/scim/v2/Users?startIndex=" .. math.random(last) .. "&count=100", common.headers())
end
done = common.done
