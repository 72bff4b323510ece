#include "scimd/core/records.hpp"

#include <algorithm>
#include <utility>

#include "scimd/core/clock.hpp"

namespace scimd::core {

std::string invitation_expiry(std::chrono::system_clock::time_point now, int days) {
    return format_time(now + std::chrono::hours(24) * std::max(1, days));
}

Grant domain_grant(const Domain& domain,
                   std::string grant_id,
                   std::string user_id,
                   std::string at) {
    Grant g;
    g.id = std::move(grant_id);
    g.org_id = domain.org_id;
    g.user_id = std::move(user_id);
    g.site_id = domain.default_site_id;
    g.role = std::min(parse_role(domain.default_role).value_or(Role::kViewer), Role::kAdmin);
    g.source = GrantSource::kDomainDefault;
    g.source_ref = domain.id;
    g.created = std::move(at);
    g.created_by = "domain:" + domain.id;
    return g;
}

}  // namespace scimd::core
