// Seeds an organization with N accounts for the benchmarks, writing the store directly (in
// batches, through the repository) rather than over HTTPS; the measured requests go over
// HTTPS. Prints the organization id; writes the account ids and userNames to --out.
//
//   scimd_seed --db URL --org NAME --users N --out FILE [--owner yes]
//
// --owner yes makes the first account an owner of the organization (for the admin API).

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "scimd/core/clock.hpp"
#include "scimd/store/repositories.hpp"
#include "scimd/util/crypto.hpp"

namespace json = boost::json;
using namespace scimd;  // a tool's main file

int main(int argc, char** argv) {
    std::string db_url, org_name = "Bench", out_path = "ids.txt";
    long long n = 10000;
    bool owner = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const std::string v = argv[i + 1];
        if (k == "--db") {
            db_url = v;
        } else if (k == "--org") {
            org_name = v;
        } else if (k == "--users") {
            n = std::stoll(v);
        } else if (k == "--out") {
            out_path = v;
        } else if (k == "--owner") {
            owner = v == "yes";
        } else {
            std::cerr << "scimd_seed: unknown option " << k << '\n';
            return 2;
        }
    }
    try {
        store::Database db(store::DatabaseUrl::parse(db_url), 1);
        db.migrate();
        store::SqlOrganizationRepository orgs(db);
        auto org = orgs.find(org_name);
        if (!org) {
            org = core::Organization{util::uuid_v4(), org_name,
                                     core::format_time(std::chrono::system_clock::now())};
            orgs.insert(*org);
        }
        store::SqlUserRepository users(db);
        std::ofstream out(out_path);
        const std::string now = core::format_time(std::chrono::system_clock::now());
        const auto started = std::chrono::steady_clock::now();
        std::vector<core::UserRecord> batch;
        std::string first_id;
        constexpr long long kBatch = 5000;
        for (long long i = 0; i < n; ++i) {
            core::UserRecord u;
            u.org_id = org->id;
            u.id = util::uuid_v4();
            u.user_name = "user" + std::to_string(i) + "@example.com";
            u.external_id = "ext-" + std::to_string(i);
            u.display_name = "User " + std::to_string(i);
            u.active = true;
            u.emails.push_back({u.user_name, "work", true});
            json::object doc{
                {"schemas",
                 json::array{"urn:ietf:params:scim:schemas:core:2.0:User",
                             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}},
                {"userName", u.user_name},
                {"externalId", *u.external_id},
                {"displayName", *u.display_name},
                {"name", json::object{{"givenName", "User"}, {"familyName", std::to_string(i)}}},
                {"emails", json::array{json::object{
                               {"value", u.user_name}, {"type", "work"}, {"primary", true}}}},
                {"active", true},
                {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                 json::object{{"employeeNumber", std::to_string(100000 + i)},
                              {"department", "R&D"}}}};
            u.document = json::serialize(doc);
            u.version = 1;
            u.created = u.last_modified = now;
            out << u.id << ' ' << u.user_name << '\n';
            if (i == 0) {
                first_id = u.id;
            }
            batch.push_back(std::move(u));
            if (static_cast<long long>(batch.size()) == kBatch || i + 1 == n) {
                users.insert_many(batch);
                batch.clear();
            }
        }
        if (owner && !first_id.empty()) {
            core::Grant g;
            g.id = util::uuid_v4();
            g.org_id = org->id;
            g.user_id = first_id;
            g.role = core::Role::kOwner;
            g.created = now;
            g.created_by = "cli";
            store::SqlAccessRepository(db).put_grant(g, core::Audit{});
        }
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::cerr << "scimd_seed: " << n << " accounts in " << secs << " s\n";
        std::cout << org->id << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "scimd_seed: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
