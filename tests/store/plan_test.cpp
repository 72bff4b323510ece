#include <optional>
#include <string>
#include <vector>

#include "store/store_fixture.hpp"
#include "support/errors.hpp"
#include <gtest/gtest.h>

#include "scimd/error.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::test {
namespace {

class PlanTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        org_ = make_org("acme");
        orgs_ = std::make_unique<store::SqlOrganizationRepository>(*db_);
        users_ = std::make_unique<store::SqlUserRepository>(*db_);
    }

    core::UserRecord add(const std::string& name, bool active = true) {
        core::UserRecord u = make_user(org_, R"({"userName":")" + name + "\"}");
        u.active = active;
        users_->insert(u);
        return u;
    }

    void set_seats(std::optional<long long> seats) {
        core::Plan p = orgs_->find(org_)->plan;
        p.seat_limit = seats;
        ASSERT_TRUE(orgs_->update_plan(org_, p, core::Audit{}));
    }

    std::string org_;
    std::unique_ptr<store::SqlOrganizationRepository> orgs_;
    std::unique_ptr<store::SqlUserRepository> users_;
};

TEST_P(PlanTest, APlanIsStoredAndReadBack) {
    const core::Organization before = *orgs_->find(org_);
    EXPECT_FALSE(before.plan.seat_limit.has_value());
    EXPECT_TRUE(before.plan.features.empty());
    EXPECT_EQ(before.plan.unverified_domain_policy, "invite");
    EXPECT_EQ(before.plan.invitation_days, 7);
    core::Plan p;
    p.seat_limit = 25;
    p.features = {"domain_provisioning", "bulk_invite"};
    p.unverified_domain_policy = "reject";
    p.invitation_days = 14;
    ASSERT_TRUE(orgs_->update_plan(org_, p, core::Audit{}));
    const core::Organization after = *orgs_->find("acme");
    EXPECT_EQ(after.plan.seat_limit, 25);
    EXPECT_EQ(after.plan.features, p.features);
    EXPECT_TRUE(after.plan.has("bulk_invite"));
    EXPECT_EQ(after.plan.unverified_domain_policy, "reject");
    EXPECT_EQ(after.plan.invitation_days, 14);
    EXPECT_FALSE(orgs_->update_plan("no-such-org", p, core::Audit{}));
}

// DESIGN §2 rule 7: a create or a reactivation that would exceed the seat limit fails with
// "user limit reached: N of N seats used" and changes nothing; inactive accounts take no seat.
TEST_P(PlanTest, SeatLimitsHoldOnCreateAndReactivation) {
    set_seats(2);
    add("ann");
    core::UserRecord bo = add("bo");
    const Error e = error_of([&] { add("cy"); });
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.detail(), "user limit reached: 2 of 2 seats used");
    core::ListQuery q;
    EXPECT_EQ(users_->list(org_, q).total, 2) << "the refused account was not written";
    core::UserRecord dee = add("dee", false);  // an inactive account takes no seat
    core::UserRecord on = dee;
    on.active = true;
    on.version = dee.version + 1;
    EXPECT_EQ(error_of([&] { users_->update(on, dee.version); }).status(), 403);
    EXPECT_FALSE(users_->find(org_, dee.id)->active);
    // An active account's other changes never count against the limit.
    core::UserRecord renamed = bo;
    renamed.display_name = "Bo";
    renamed.version = bo.version + 1;
    EXPECT_TRUE(users_->update(renamed, bo.version));
    // A freed seat can be taken again.
    core::UserRecord off = *users_->find(org_, bo.id);
    const auto v = off.version;
    off.active = false;
    off.version = v + 1;
    ASSERT_TRUE(users_->update(off, v));
    EXPECT_TRUE(users_->update(on, dee.version));
    set_seats(std::nullopt);
    add("eve");
    add("fay");
}

INSTANTIATE_TEST_SUITE_P(Backends, PlanTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
