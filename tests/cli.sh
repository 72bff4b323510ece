#!/usr/bin/env bash
# The `scimd` command's contract (README "The scimd command"): outputs, exit statuses, one-line
# reasons, and a graceful stop on SIGTERM. Usage: tests/cli.sh SCIMD_BINARY SOURCE_DIR
set -u
scimd=${1:?scimd binary}
src=${2:?source dir}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
server=""
failures=0
checks=0
check() {  # description, then a command that must succeed
  local what=$1; shift
  checks=$((checks + 1))
  if "$@"; then :; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
one_line() { [ "$(wc -l <"$1")" -eq 1 ]; }

db="sqlite:$work/cli.db"

# A bad database URL: exit 1 and one line saying why.
"$scimd" migrate --db "mysql://x" >"$work/out" 2>"$work/err"; status=$?
check "bad URL exits 1" [ $status -eq 1 ]
check "bad URL says why in one line" one_line "$work/err"
check "bad URL names the forms" grep -q "sqlite:PATH or postgresql://" "$work/err"

# An unreachable PostgreSQL: exit 1 and one line.
"$scimd" migrate --db "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2" >"$work/out" 2>"$work/err"; status=$?
check "unreachable database exits 1" [ $status -eq 1 ]
check "unreachable database says why in one line" one_line "$work/err"
check "unreachable database is named" grep -q "cannot open the database" "$work/err"

# A usage mistake: exit 2.
"$scimd" org create --db "$db" >"$work/out" 2>"$work/err"; status=$?
check "missing --name exits 2" [ $status -eq 2 ]
check "missing --name is named" grep -q "missing --name" "$work/err"
"$scimd" token create --db "$db" --org x --name y --bogus 1 >"$work/out" 2>"$work/err"; status=$?
check "unknown option exits 2" [ $status -eq 2 ]

# migrate is idempotent.
"$scimd" migrate --db "$db" 2>"$work/err"
check "first migrate applies" grep -q "^scimd: [1-9][0-9]* migration(s) applied" "$work/err"
"$scimd" migrate --db "$db" 2>"$work/err"
check "second migrate applies none" grep -q "^scimd: 0 migration(s) applied" "$work/err"

# org create prints the id alone; a duplicate name fails with exit 1.
org=$("$scimd" org create --db "$db" --name Acme 2>/dev/null)
check "org create prints an id" grep -Eq '^[0-9a-f-]{36}$' <<<"$org"
"$scimd" org create --db "$db" --name Acme >/dev/null 2>"$work/err"; status=$?
check "duplicate organization exits 1" [ $status -eq 1 ]
check "duplicate organization says so" grep -q "already exists" "$work/err"
check "org list shows it" grep -q "^$org	Acme$" <("$scimd" org list --db "$db")

# token create prints the secret alone on stdout; list and revoke work by name or id.
token=$("$scimd" token create --db "$db" --org Acme --name okta 2>"$work/err")
check "token is the secret alone" grep -Eq '^scimd_[A-Za-z0-9_-]{43}$' <<<"$token"
check "token details go to stderr" grep -q "for organization Acme" "$work/err"
"$scimd" token list --db "$db" --org "$org" >"$work/list"
check "token list shows the token" grep -q "	okta	" "$work/list"
check "token list never shows the secret" bash -c "! grep -q '$token' '$work/list'"
token_id=$(awk -F'\t' '$2 == "okta" {print $1}' "$work/list")
"$scimd" token revoke --db "$db" --org Acme --id "$token_id" 2>/dev/null
check "revoke marks it" bash -c "'$scimd' token list --db '$db' --org Acme | awk -F'\t' '\$2 == \"okta\" {exit \$5 == \"-\"}'"
"$scimd" token revoke --db "$db" --org Acme --id "$token_id" 2>/dev/null; status=$?
check "revoking twice exits 1" [ $status -eq 1 ]
"$scimd" token create --db "$db" --org Nobody --name x >/dev/null 2>"$work/err"; status=$?
check "unknown organization exits 1" [ $status -eq 1 ]

# Bootstrap of the admin API: an organization with its first owner, a site, an API key; the
# audit trail shows what the CLI did.
org2=$("$scimd" org create --db "$db" --name Globex --owner ann@globex.example 2>"$work/err")
check "org create --owner prints the id alone" grep -Eq '^[0-9a-f-]{36}$' <<<"$org2"
check "org create --owner names the owner" grep -q "ann@globex.example" "$work/err"
"$scimd" org create --db "$db" --name Initech --owner not-an-email >/dev/null 2>"$work/err"; status=$?
check "an --owner that is no email exits 2" [ $status -eq 2 ]
site=$("$scimd" site create --db "$db" --org Globex --name shop --url https://shop.example 2>/dev/null)
check "site create prints the id alone" grep -Eq '^[0-9a-f-]{36}$' <<<"$site"
check "site list shows it" grep -q "^$site	shop	https://shop.example$" <("$scimd" site list --db "$db" --org Globex)
# domain add normalizes the name, prints the id, and says which TXT record verifies it.
domain=$("$scimd" domain add --db "$db" --org Globex --domain Globex.EXAMPLE. 2>"$work/err")
check "domain add prints the id alone" grep -Eq '^[0-9a-f-]{36}$' <<<"$domain"
check "domain add names the TXT record" grep -q 'globex.example. IN TXT "scimd-verification=' "$work/err"
check "domain list shows it pending" grep -q "^$domain	globex.example	pending	scimd-verification=" <("$scimd" domain list --db "$db" --org Globex)
"$scimd" domain add --db "$db" --org Globex --domain gmail.com >/dev/null 2>"$work/err"; status=$?
check "a public mailbox domain is refused (exit 1)" [ $status -eq 1 ]
check "the refusal says why" grep -q "public mailbox provider" "$work/err"
# invite --csv: the plan feature, a dry run that changes nothing, then all rows or none.
printf 'email,role,site\nkim@globex.example,viewer,shop\nbad,user,\n' >"$work/team.csv"
"$scimd" invite --db "$db" --org Globex --csv "$work/team.csv" --dry-run >/dev/null 2>"$work/err"; status=$?
check "invite --csv needs the plan feature bulk_invite (exit 1)" [ $status -eq 1 ]
check "the refusal names the feature" grep -q "bulk_invite" "$work/err"
"$scimd" org update --db "$db" --org Globex --features bulk_invite >/dev/null 2>&1
"$scimd" invite --db "$db" --org Globex --csv "$work/team.csv" --dry-run >"$work/out" 2>"$work/err"; status=$?
check "a dry run exits 0" [ $status -eq 0 ]
check "a dry run reviews each row" grep -q "^2	valid	kim@globex.example	viewer	shop	$" "$work/out"
check "a dry run names the reason of an invalid row" grep -q "^3	invalid	bad	user		not an email address$" "$work/out"
"$scimd" invite --db "$db" --org Globex --csv "$work/team.csv" >/dev/null 2>"$work/err"; status=$?
check "an invalid row stops the whole file (exit 1)" [ $status -eq 1 ]
"$scimd" invite --db "$db" --org Globex --csv "$work/team.csv" --partial >"$work/out" 2>"$work/err"; status=$?
check "--partial applies the valid rows" grep -q "^2	created	kim@globex.example" "$work/out"
check "--partial says how many" grep -q "applied: 1 invitations" "$work/err"
check "the invitation is in the audit trail as the CLI's" grep -q "invitation.created" <("$scimd" audit --db "$db" --org Globex --actor cli)
check "review lists invitations pending for 0 days" grep -q "kim@globex.example	site:" <("$scimd" review --db "$db" --org Globex --pending-days 0)
check "review leaves out invitations younger than the days asked" bash -c "! \"$scimd\" review --db '$db' --org Globex --pending-days 3 | grep -q kim@globex.example"
key=$("$scimd" apikey create --db "$db" --org Globex --account ANN@globex.example --name laptop 2>"$work/err")
check "apikey create prints the secret alone" grep -Eq '^scimdk_[A-Za-z0-9_-]{43}$' <<<"$key"
"$scimd" apikey create --db "$db" --org Globex --account bo@globex.example --name x >/dev/null 2>"$work/err"; status=$?
check "apikey for an unknown account exits 1" [ $status -eq 1 ]
"$scimd" audit --db "$db" --org Globex >"$work/audit" 2>"$work/err"
check "audit shows the owner's grant" grep -q "	cli	grant.added	account:" "$work/audit"
check "audit shows the site" grep -q "	cli	site.created	site:$site	" "$work/audit"
check "audit shows the key" grep -q "	cli	api_key.created	api_key:" "$work/audit"
check "audit never shows the key's secret" bash -c "! grep -q '$key' '$work/audit'"
"$scimd" audit --db "$db" --org Globex --action site.created >"$work/audit" 2>/dev/null
check "audit filters by action" [ "$(grep -c site.created "$work/audit")" -eq 1 ]
check "audit filtered has only that action" bash -c "! grep -q grant.added '$work/audit'"

# org update sets the plan (operators only) and prints it; bad values are usage mistakes.
"$scimd" org update --db "$db" --org Globex --seat-limit 50 --features bulk_invite,domain_provisioning \
  --unverified-domain-policy reject --invitation-days 14 >"$work/plan" 2>/dev/null
check "org update prints the plan" grep -q '"seat_limit":50,"features":\["bulk_invite","domain_provisioning"\],"unverified_domain_policy":"reject","invitation_days":14' "$work/plan"
"$scimd" org update --db "$db" --org Globex --seat-limit none >"$work/plan" 2>/dev/null
check "org update keeps what it is not told" grep -q '"seat_limit":null,"features":\["bulk_invite","domain_provisioning"\],"unverified_domain_policy":"reject"' "$work/plan"
"$scimd" org update --db "$db" --org Globex --features bogus >/dev/null 2>"$work/err"; status=$?
check "an unknown feature exits 2" [ $status -eq 2 ]
"$scimd" org update --db "$db" --org Globex --invitation-days 0 >/dev/null 2>&1; status=$?
check "zero invitation days exits 2" [ $status -eq 2 ]
"$scimd" org update --db "$db" --org Globex >/dev/null 2>&1; status=$?
check "org update without a change exits 2" [ $status -eq 2 ]
check "the plan change is audited" bash -c "'$scimd' audit --db '$db' --org Globex --action organization.plan_changed 2>/dev/null | grep -q plan_changed"

# review lists the owners and admins, and who never signed in.
"$scimd" review --db "$db" --org Globex >"$work/review" 2>/dev/null
check "review lists the owner" grep -q "	ann@globex.example	owner$" "$work/review"
check "review lists who never signed in" grep -q "	ann@globex.example	never$" "$work/review"

# A missing certificate: exit 1 and one line.
"$scimd" serve --db "$db" --listen 127.0.0.1:0 --cert "$work/none.pem" --key "$work/none.pem" \
  >"$work/out" 2>"$work/err"; status=$?
check "missing certificate exits 1" [ $status -eq 1 ]
check "missing certificate says why in one line" one_line "$work/err"
check "missing certificate is named" grep -q "cannot read the certificate" "$work/err"

# serve answers, and SIGTERM stops it with exit 0.
"$src/certs/make-dev-certs" "$work/certs" 2>/dev/null
"$scimd" serve --db "$db" --listen 127.0.0.1:0 --cert "$work/certs/localhost.pem" \
  --key "$work/certs/localhost-key.pem" >"$work/out" 2>"$work/serve.log" &
server=$!
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log")
  [ -n "$port" ] && break
  sleep 0.1
done
check "serve reports its port" [ -n "$port" ]
check "serve says where SCIM is" grep -q "serving SCIM at https://localhost:0/scim/v2" "$work/serve.log"
if command -v curl >/dev/null && [ -n "$port" ]; then
  check "healthz answers over HTTPS" bash -c "curl -sf --cacert '$work/certs/ca.pem' https://localhost:$port/healthz | grep -q ok"
  check "TLS 1.2 is served" bash -c "curl -sf --tlsv1.2 --tls-max 1.2 --cacert '$work/certs/ca.pem' https://localhost:$port/healthz >/dev/null"
  check "TLS 1.1 is refused" bash -c "! curl -s --tls-max 1.1 --cacert '$work/certs/ca.pem' https://localhost:$port/healthz >/dev/null 2>&1"
fi
kill -TERM "$server"
wait "$server"; status=$?
server=""
check "SIGTERM exits 0" [ $status -eq 0 ]
check "serve says it stopped" grep -q "^scimd: stopped" "$work/serve.log"

echo "cli: $((checks - failures)) passed, $failures failed"
[ $failures -eq 0 ]
