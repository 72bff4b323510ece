// The concurrent-create race (R-30): IdPs retry and run parallel workers, so several POSTs of
// one userName can arrive together. Exactly one wins with 201; every other one gets 409
// uniqueness (never 500, never a second user), on both backends.
#include <latch>
#include <thread>

#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

constexpr int kClients = 8;

class Race : public ServerFixture {
protected:
    // Sends one POST per client, all released at once; returns the responses.
    std::vector<HttpResponse> race(const std::vector<std::string>& bodies) {
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (std::size_t i = 0; i < bodies.size(); ++i) {
            clients.push_back(make_client(token_));
            // Connect (TCP + TLS) before the start line so the POSTs themselves collide.
            EXPECT_EQ(clients.back()->get("/scim/v2/ServiceProviderConfig").status, 200);
        }
        std::vector<HttpResponse> out(bodies.size());
        std::latch start(static_cast<std::ptrdiff_t>(bodies.size()));
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < bodies.size(); ++i) {
            threads.emplace_back([&, i] {
                start.arrive_and_wait();
                try {
                    out[i] = clients[i]->post("/scim/v2/Users", bodies[i]);
                } catch (const std::exception& e) {
                    out[i].status = -1;
                    out[i].body = e.what();
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        return out;
    }

    void expect_one_winner(const std::vector<HttpResponse>& results, const std::string& user_name) {
        int created = 0;
        for (const auto& r : results) {
            if (r.status == 201) {
                ++created;
                EXPECT_FALSE(r.header("location").empty());
            } else {
                expect_scim_error(r, 409, "uniqueness");
            }
        }
        EXPECT_EQ(created, 1);
        auto list = client().get(users_filter("userName eq \"" + user_name + "\""));
        ASSERT_EQ(list.status, 200) << list.body;
        EXPECT_EQ(list.json().at("totalResults"), 1) << list.body;
    }
};

TEST_P(Race, ConcurrentCreatesOfOneUserNameYieldOne201AndOnly409s_R30) {
    const std::string body =
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
        R"("userName":"race@example.com","active":true,"groups":[],"password":"p"})";
    expect_one_winner(race(std::vector<std::string>(kClients, body)), "race@example.com");
}

// The same race with the userName in different casings: uniqueness is case-insensitive (R-16).
TEST_P(Race, ConcurrentCreatesDifferingOnlyInCaseYieldOne201_R30_R16) {
    std::vector<std::string> bodies;
    for (int i = 0; i < kClients; ++i) {
        std::string name = "mixed.race@example.com";
        for (std::size_t c = 0; c < name.size(); ++c) {
            if (((i >> (c % 3)) & 1) != 0) {
                name[c] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[c])));
            }
        }
        bodies.push_back(json::serialize(
            json::object{{"userName", name}, {"externalId", "ext-" + std::to_string(i)}}));
    }
    expect_one_winner(race(bodies), "mixed.race@example.com");
}

INSTANTIATE_TEST_SUITE_P(Backends, Race, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
