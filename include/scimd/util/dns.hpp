#pragma once

#include <string>
#include <vector>

namespace scimd::util {

/// Where DNS questions go and how long they may take.
struct DnsSettings {
    /// Empty: the system's resolvers (/etc/resolv.conf). Otherwise one server, as "IP" or
    /// "IP:PORT" ("127.0.0.1:5353"); an IPv6 address with a port is written "[::1]:5353".
    std::string nameserver;
    /// How long the first try waits for an answer; c-ares doubles it for each later round.
    int timeout_ms = 3000;
    /// How many times the question is sent to each server before giving up.
    int tries = 2;
};

/// The TXT records of `name`, through c-ares: each record's strings joined with nothing in
/// between (RFC 7208 §3.3), in the order the server gave them. The name is asked as given,
/// without the resolver's search list. An empty vector when the name has no TXT record or
/// does not exist (NODATA, NXDOMAIN). Throws std::runtime_error with a one-line reason when
/// the question cannot be answered: a timeout, a refusal or failure of the server, a server
/// that cannot be reached, a malformed name, or a bad `settings` value.
/// Thread-safe: each call uses its own channel.
std::vector<std::string> txt_records(const std::string& name, const DnsSettings& settings);

}  // namespace scimd::util
