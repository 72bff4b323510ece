#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace scimd::test {

/// A fresh SQLite database URL (a new file in a temporary directory).
std::string sqlite_url();

/// A fresh PostgreSQL database (created from SCIMD_TEST_PG_DSN, dropped at exit), or
/// nullopt when SCIMD_TEST_PG_DSN is not set.
std::optional<std::string> postgres_url();

/// Whether missing PostgreSQL must fail rather than skip (SCIMD_REQUIRE_PG=1, set by CI).
bool postgres_required();

/// A loopback port that is free for both TCP and UDP, for a child server (dnsmasq listens on
/// both; aiosmtpd on TCP). It is chosen below the kernel's ephemeral range, so that no
/// outgoing connection of a test running alongside takes it before the child binds it.
std::uint16_t free_loopback_port();

/// A server a test runs beside scimd (dnsmasq, aiosmtpd): `argv[0]` is the program's path.
/// Its output goes to /dev/null; it is stopped (SIGTERM, then waited for) when this is
/// destroyed or stop() is called, and also when the test process dies, even by a crash.
class ChildProcess {
public:
    explicit ChildProcess(const std::vector<std::string>& argv);
    ~ChildProcess() { stop(); }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    /// Whether it is still running; once it has exited, `status()` says how.
    bool running();
    int status() const { return status_; }
    void stop();

private:
    int pid_ = -1;
    int status_ = 0;
};

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
bool tcp_accepting(std::uint16_t port);

/// The development CA and localhost certificate for the tests, made once per process by
/// certs/make-dev-certs in a temporary directory.
struct Certs {
    std::string dir, ca, cert, key;
};
const Certs& certs();

/// A response as the test client saw it.
struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;
    /// The server answered and closed before the whole request was sent (e.g. an early 413);
    /// the answer was still read, as curl does.
    bool request_cut_short = false;

    std::string header(const std::string& name) const;
    /// The body parsed as JSON (throws if it is not).
    boost::json::value json() const;
};

/// A small HTTPS/1.1 client with keep-alive that verifies the test CA.
class HttpClient {
public:
    HttpClient(std::uint16_t port, std::string token = "");
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    void set_token(std::string token) { token_ = std::move(token); }

    /// Sends one request. `headers` are added as given; Authorization comes from the token
    /// unless headers name one; Content-Type application/scim+json is set for a body unless
    /// headers name one.
    HttpResponse request(const std::string& method,
                         const std::string& target,
                         const std::string& body = "",
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

    /// Sends only the head of a request whose Content-Length announces `content_length`
    /// bytes, then reads the answer: for limits a server checks on the head (413), as a
    /// client using Expect: 100-continue would see them. The connection is not reused.
    HttpResponse request_head_only(const std::string& method,
                                   const std::string& target,
                                   std::size_t content_length);

    HttpResponse get(const std::string& target) { return request("GET", target); }
    HttpResponse post(const std::string& target, const std::string& body) {
        return request("POST", target, body);
    }
    HttpResponse put(const std::string& target, const std::string& body) {
        return request("PUT", target, body);
    }
    HttpResponse patch(const std::string& target, const std::string& body) {
        return request("PATCH", target, body);
    }
    HttpResponse del(const std::string& target) { return request("DELETE", target); }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string token_;
};

/// Percent-encodes a query parameter value.
std::string url_encode(const std::string& s);

}  // namespace scimd::test
