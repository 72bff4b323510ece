-- The ceiling: a fixed body over the same HTTPS server, worker pool and access log, no database.
package.path = os.getenv("SCIMD_BENCH_DIR") .. "/wrk/?.lua;" .. package.path
local common = require("common")
wrk.method = "GET"
wrk.path = "/healthz"
done = common.done
