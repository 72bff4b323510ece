-- POST /Users with a new userName each time.
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
local counter = 0
local prefix
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  prefix = string.format("b%08x", math.random(0, 0x7fffffff))
end
function request()
  counter = counter + 1
  local name = prefix .. "-" .. counter .. "@bench.example.com"
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name ..
    '","name":{"givenName":"Bench","familyName":"User"},"emails":[{"value":"' .. name ..
    '","type":"work","primary":true}],"active":true}'
  return wrk.format("POST", "/scim/v2/Users", common.headers(), body)
end
done = common.done
