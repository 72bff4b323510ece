-- GET /Users/{id} of random seeded accounts.
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local ids
function init(args)
  ids = common.load_ids()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  return wrk.format("GET", "/scim/v2/Users/" .. ids[math.random(#ids)], common.headers())
end
done = common.done
