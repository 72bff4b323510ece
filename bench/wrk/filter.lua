-- GET /Users?filter=userName eq "…" of random seeded accounts (the IdP lookup before create).
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local names
function init(args)
  local _
  _, names = common.load_ids()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local name = names[math.random(#names)]:gsub("@", "%%40")
  return wrk.format("GET", "/scim/v2/Users?filter=userName%20eq%20%22" .. name .. "%22", common.headers())
end
done = common.done
