-- GET the group SCIMD_GROUP without its members (Entra: excludedAttributes=members, R-19).
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local group = os.getenv("SCIMD_GROUP")
function request()
  return wrk.format("GET", "/scim/v2/Groups/" .. group .. "?excludedAttributes=members", common.headers())
end
done = common.done
