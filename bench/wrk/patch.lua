-- PATCH replace active on random seeded accounts, alternating false and true.
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local ids
local counter = 0
function init(args)
  ids = common.load_ids()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  counter = counter + 1
  local value = (counter % 2 == 0) and "true" or "false"
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":' .. value .. '}]}'
  return wrk.format("PATCH", "/scim/v2/Users/" .. ids[math.random(#ids)], common.headers(), body)
end
done = common.done
