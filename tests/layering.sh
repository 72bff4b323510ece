#!/usr/bin/env bash
# Fails when an include points against the arrows of DESIGN.md §4:
#   core: standard library, scimd/error.hpp, scimd/core and the leaf scimd/util only
#   util (hashing, random ids): OpenSSL only, no other layer
#   protocol: no Beast, no SOCI, no api, no store, no http
#   api: no Beast, no SOCI, no store, no http
#   store: no protocol, no http, no Beast
#   SQL text only in src/store
set -u
root=${1:?source dir}
status=0
check() {  # dir, forbidden-regex, why
    local hits
    hits=$(grep -rnE "$2" "$root/$1" 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "layering: $3"; echo "$hits"; status=1
    fi
}
for d in src/core include/scimd/core; do
    check $d '#include *[<"](boost|soci|openssl|sqlite3|libpq)' "core must not include third-party headers"
    check $d '#include *"scimd/(protocol|api|store|http|app)/' "core must not include other layers"
done
for d in src/protocol include/scimd/protocol; do
    check $d '#include *[<"](boost/beast|boost/asio|soci|sqlite3|libpq)' "protocol must not include Beast, Asio or SOCI"
    check $d '#include *"scimd/(api|store|http|app)/' "protocol must not include api, store, http or app"
done
for d in src/api include/scimd/api; do
    check $d '#include *[<"](boost/beast|boost/asio|soci|sqlite3|libpq)' "api must not include Beast, Asio or SOCI"
    check $d '#include *"scimd/(store|http|app)/' "api must not include store, http or app"
done
for d in src/store include/scimd/store; do
    check $d '#include *[<"](boost/beast|boost/asio)' "store must not include Beast or Asio"
    check $d '#include *"scimd/(protocol|http|app)/' "store must not include protocol, http or app"
done
for d in src/http include/scimd/http; do
    check $d '#include *[<"](soci|sqlite3|libpq)' "http must not include SOCI"
    check $d '#include *"scimd/(store|app)/' "http must not include store or app"
done
for d in src/util include/scimd/util; do
    check $d '#include *"scimd/(core|protocol|store|http|app)/' "util is a leaf: it includes no other layer"
done
for d in src/core src/protocol src/api src/http src/app include; do
    check $d '"(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|CREATE TABLE) ' "SQL belongs in src/store"
done
[ $status -eq 0 ] && echo "layering: ok"
exit $status
