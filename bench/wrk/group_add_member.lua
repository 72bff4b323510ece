-- PATCH the group SCIMD_GROUP: add one random seeded account, then remove it again with the
-- next request (Entra's and Okta's deltas), so that the group keeps its size through the run.
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local ids
local group = os.getenv("SCIMD_GROUP")
local counter = 0
local last
function init(args)
  ids = common.load_ids()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  counter = counter + 1
  local op
  if counter % 2 == 1 then
    last = ids[math.random(#ids)]
    op = '{"op":"add","path":"members","value":[{"value":"' .. last .. '"}]}'
  else
    op = '{"op":"remove","path":"members[value eq \\"' .. last .. '\\"]"}'
  end
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' .. op .. ']}'
  return wrk.format("PATCH", "/scim/v2/Groups/" .. group, common.headers(), body)
end
done = common.done
