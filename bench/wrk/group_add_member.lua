-- PATCH add one random seeded account to the group SCIMD_GROUP (Entra's and Okta's delta).
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local ids
local group = os.getenv("SCIMD_GROUP")
function init(args)
  ids = common.load_ids()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"' .. ids[math.random(#ids)] .. '"}]}]}'
  return wrk.format("PATCH", "/scim/v2/Groups/" .. group, common.headers(), body)
end
done = common.done
