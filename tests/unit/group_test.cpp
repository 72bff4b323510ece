#include "scimd/protocol/group.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "support/errors.hpp"
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "scimd/error.hpp"

namespace scimd::protocol {
namespace {

namespace json = boost::json;
using test::error_of;

using Ids = std::vector<std::string>;

Ids sorted(Ids v) {
    std::sort(v.begin(), v.end());
    return v;
}

class GroupPatchTest : public ::testing::Test {
protected:
    const SchemaRegistry& reg_ = SchemaRegistry::builtin();
    const ResourceTypeDef& group_ = *reg_.resource_type("Group");

    GroupPatch split(std::string_view operations) const {
        const std::string body =
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)" +
            std::string(operations) + "}";
        return split_group_patch(parse_patch_request(json::parse(body)), reg_, group_);
    }
    Error split_error(std::string_view operations) const {
        return error_of([&] { split(operations); });
    }
};

TEST_F(GroupPatchTest, AddMembersWithAValueArray) {
    const GroupPatch p = split(
        R"([{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2"}]}])");
    EXPECT_TRUE(p.attribute_ops.empty());
    EXPECT_FALSE(p.members.replace_all);
    EXPECT_EQ(sorted(p.members.add), (Ids{"u1", "u2"}));
    EXPECT_TRUE(p.members.remove.empty());
}

// R-42: Entra's "Remove" with a value array removes those members, never all of them.
TEST_F(GroupPatchTest, RemoveWithAValueArrayRemovesOnlyThose_R42) {
    const GroupPatch p = split(R"([{"op":"Remove","path":"members","value":[{"value":"u2"}]}])");
    EXPECT_FALSE(p.members.replace_all);
    EXPECT_EQ(p.members.remove, (Ids{"u2"}));
    EXPECT_TRUE(p.members.add.empty());
}

TEST_F(GroupPatchTest, RemoveWithoutAValueEmptiesTheGroup) {
    const GroupPatch p = split(R"([{"op":"remove","path":"members"}])");
    EXPECT_TRUE(p.members.replace_all);
    EXPECT_TRUE(p.members.add.empty());
}

// R-43: Okta and Entra (with the flag) remove one member by a value filter; several ids
// joined by "or" are accepted too.
TEST_F(GroupPatchTest, RemoveByValueFilter_R43) {
    const GroupPatch p = split(R"([{"op":"remove","path":"members[value eq \"u7\"]"},
                  {"op":"remove","path":"MEMBERS[VALUE EQ \"u8\" or value eq \"u9\"]"}])");
    EXPECT_EQ(sorted(p.members.remove), (Ids{"u7", "u8", "u9"}));
}

TEST_F(GroupPatchTest, MemberFiltersOtherThanValueEqAreRefused) {
    EXPECT_EQ(split_error(R"([{"op":"remove","path":"members[display eq \"Ann\"]"}])").scim_type(),
              ScimType::kInvalidFilter);
    EXPECT_EQ(
        split_error(R"([{"op":"remove","path":"members[value eq \"a\" and value eq \"b\"]"}])")
            .scim_type(),
        ScimType::kInvalidFilter);
    EXPECT_EQ(split_error(R"([{"op":"replace","path":"members[value eq \"a\"]","value":"b"}])")
                  .scim_type(),
              ScimType::kInvalidPath);
    EXPECT_EQ(split_error(R"([{"op":"replace","path":"members.display","value":"x"}])").scim_type(),
              ScimType::kInvalidPath);
}

// R-44: replace with a list is the whole membership; with [] an empty group.
TEST_F(GroupPatchTest, ReplaceMembersIsTheWholeMembership_R44) {
    const GroupPatch p = split(R"([{"op":"replace","path":"members","value":[{"value":"u1"}]}])");
    EXPECT_TRUE(p.members.replace_all);
    EXPECT_EQ(p.members.add, (Ids{"u1"}));
    const GroupPatch empty = split(R"([{"op":"replace","path":"members","value":[]}])");
    EXPECT_TRUE(empty.members.replace_all);
    EXPECT_TRUE(empty.members.add.empty());
    EXPECT_FALSE(empty.members.empty());
}

// Okta's delta: one request removes and adds; the operations sum up in their order.
TEST_F(GroupPatchTest, OperationsSumUpInOrder) {
    const GroupPatch p = split(R"([
        {"op":"remove","path":"members[value eq \"u7\"]"},
        {"op":"add","path":"members","value":[{"value":"u1","display":"ana"},{"value":"u7"}]},
        {"op":"remove","path":"members","value":[{"value":"u1"}]}])");
    EXPECT_FALSE(p.members.replace_all);
    EXPECT_EQ(p.members.add, (Ids{"u7"}));     // removed, then added back
    EXPECT_EQ(p.members.remove, (Ids{"u1"}));  // added, then removed
    const GroupPatch r = split(R"([
        {"op":"add","path":"members","value":[{"value":"u1"}]},
        {"op":"replace","path":"members","value":[{"value":"u2"},{"value":"u3"}]},
        {"op":"remove","path":"members[value eq \"u3\"]"},
        {"op":"add","path":"members","value":["u4"]}])");
    EXPECT_TRUE(r.members.replace_all);
    EXPECT_EQ(sorted(r.members.add), (Ids{"u2", "u4"}));
    EXPECT_TRUE(r.members.remove.empty());
}

// R-37: path-less values hold members and other attributes; Okta's rename carries the id.
TEST_F(GroupPatchTest, PathLessValuesSplitIntoMembersAndAttributes_R37) {
    const GroupPatch p =
        split(R"([{"op":"replace","value":{"id":"g1","displayName":"Finance EMEA"}},
                  {"op":"replace","value":{"members":[{"value":"u1"}]}},
                  {"op":"add","value":{"Members":["u2"]}}])");
    ASSERT_EQ(p.attribute_ops.size(), 1u);
    EXPECT_FALSE(p.attribute_ops[0].value->as_object().contains("members"));
    EXPECT_EQ(p.attribute_ops[0].value->as_object().at("displayName"), "Finance EMEA");
    EXPECT_TRUE(p.members.replace_all);
    EXPECT_EQ(sorted(p.members.add), (Ids{"u1", "u2"}));
}

TEST_F(GroupPatchTest, AttributeOperationsPassThrough) {
    const GroupPatch p = split(
        R"([{"op":"Replace","path":"displayName","value":"Finance & Treasury"},
            {"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:Group:members",
             "value":[]}])");
    ASSERT_EQ(p.attribute_ops.size(), 1u);
    EXPECT_EQ(*p.attribute_ops[0].path, "displayName");
    EXPECT_TRUE(p.members.replace_all);
}

TEST_F(GroupPatchTest, MemberValuesMustBeIds) {
    EXPECT_EQ(
        split_error(R"([{"op":"add","path":"members","value":[{"display":"x"}]}])").scim_type(),
        ScimType::kInvalidValue);
    EXPECT_EQ(split_error(R"([{"op":"add","path":"members","value":[42]}])").scim_type(),
              ScimType::kInvalidValue);
    EXPECT_EQ(split_error(R"([{"op":"add","path":"members","value":[""]}])").scim_type(),
              ScimType::kInvalidValue);
}

TEST(GroupMembers, BareStringsObjectsAndSingleElements) {
    EXPECT_EQ(parse_member_ids(json::parse(R"(["a",{"value":"b","type":"User"}])"), "members"),
              (Ids{"a", "b"}));
    EXPECT_EQ(parse_member_ids(json::parse(R"({"VALUE":"c"})"), "members"), (Ids{"c"}));
    EXPECT_TRUE(parse_member_ids(json::parse("null"), "members").empty());
    const Error e = error_of([] { parse_member_ids(json::parse(R"(["a",{}])"), "members"); });
    EXPECT_NE(e.detail().find("members[1]"), std::string::npos) << e.detail();
}

TEST(GroupMembers, TooManyMembersInOneRequest) {
    json::array many;
    for (std::size_t i = 0; i <= kMaxMembersPerRequest; ++i) {
        many.emplace_back("x");
    }
    EXPECT_EQ(error_of([&] { parse_member_ids(many, "members"); }).scim_type(), ScimType::kTooMany);
}

TEST(GroupInputTest, MembersAreTakenOutOfTheDocument_R28_R31) {
    const SchemaRegistry& reg = SchemaRegistry::builtin();
    const GroupInput in =
        parse_group_input(json::parse(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId":"5b1e","displayName":"Finance","meta":{"resourceType":"Group"},
            "members":[{"value":"u1"}]})"),
                          reg, *reg.resource_type("Group"));
    ASSERT_TRUE(in.members.has_value());
    EXPECT_EQ(*in.members, (Ids{"u1"}));
    EXPECT_FALSE(in.document.contains("members"));
    EXPECT_FALSE(in.document.contains("meta"));
    EXPECT_EQ(in.document.at("displayName"), "Finance");
    EXPECT_EQ(in.document.at("externalId"), "5b1e");
    const GroupInput none = parse_group_input(json::parse(R"({"displayName":"Empty"})"), reg,
                                              *reg.resource_type("Group"));
    EXPECT_FALSE(none.members.has_value());
}

TEST(ProjectionTest, MembersAreReadOnlyWhenReturned_R19) {
    const SchemaRegistry& reg = SchemaRegistry::builtin();
    const ResourceTypeDef& g = *reg.resource_type("Group");
    EXPECT_TRUE(projection_includes(parse_projection("", "", reg, g), "members"));
    EXPECT_FALSE(projection_includes(parse_projection("", "members", reg, g), "members"));
    EXPECT_FALSE(projection_includes(parse_projection("displayName", "", reg, g), "members"));
    EXPECT_TRUE(projection_includes(parse_projection("members.value", "", reg, g), "members"));
    EXPECT_TRUE(projection_includes(parse_projection("", "members.display", reg, g), "members"));
}

}  // namespace
}  // namespace scimd::protocol
