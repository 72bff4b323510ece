// TXT lookups through c-ares against a real DNS server on loopback: Debian's dnsmasq
// (dnsmasq-base), which answers only from the records on its command line and refuses
// every name outside the zone "example".
#include "scimd/util/dns.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace scimd::test {
namespace {

namespace chr = std::chrono;

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

// A UDP socket bound to 127.0.0.1 on a port the kernel picked; closed with the object.
class UdpSocket {
public:
    UdpSocket() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
        }
        port_ = ntohs(a.sin_port);
    }
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    ~UdpSocket() { ::close(fd_); }
    int port() const { return port_; }

private:
    int fd_;
    int port_ = 0;
};

// A UDP port on 127.0.0.1 that was free a moment ago.
int free_udp_port() { return UdpSocket().port(); }

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// What txt_records throws, or "" when it returns.
std::string lookup_error(const std::string& name, const util::DnsSettings& settings) {
    try {
        util::txt_records(name, settings);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

class Dnsmasq : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::access(kDnsmasq, X_OK), 0)
            << kDnsmasq << " is missing: install the Debian package dnsmasq-base "
            << "(scripts/setup installs it)";
        port_ = free_udp_port();
        log_ = (std::filesystem::temp_directory_path() /
                ("scimd-dnsmasq-" + std::to_string(::getpid()) + "-" + std::to_string(port_)))
                   .string();
        // --no-daemon stays in the foreground and keeps the user id (no root needed);
        // --local=/example/ answers names under example from these records alone, so an
        // unknown one is NXDOMAIN; --no-resolv leaves no upstream for other names.
        const std::vector<std::string> args = {
            "dnsmasq",
            "--no-daemon",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--log-facility=-",
            "--port=" + std::to_string(port_),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--local=/example/",
            // Two records on one name (SPF and a verification token share a name).
            "--txt-record=_scimd-challenge.acme.example,scimd-verification=abc123",
            "--txt-record=_scimd-challenge.acme.example,v=other",
            // One record of two strings.
            "--txt-record=multi.example,part one,part two",
            // One string over 255 bytes, which dnsmasq sends as 255 + 45.
            "--txt-record=long.example," + std::string(300, 'x'),
            // A name with an address and no TXT record (NODATA).
            "--host-record=plain.example,192.0.2.1",
        };
        std::vector<char*> argv;
        for (const std::string& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        // Only async-signal-safe calls between fork and exec: the test runner may have threads.
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // gone with the test, even if it crashes
            const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) {
                ::dup2(fd, STDOUT_FILENO);
                ::dup2(fd, STDERR_FILENO);
            }
            ::execv(kDnsmasq, argv.data());
            ::_exit(127);
        }
        ASSERT_GT(pid_, 0) << "fork: " << std::strerror(errno);

        // Until dnsmasq has bound its port, questions meet "connection refused" at once.
        const util::DnsSettings quick{server(), 200, 1};
        const auto deadline = chr::steady_clock::now() + chr::seconds(5);
        while (chr::steady_clock::now() < deadline) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                FAIL() << "dnsmasq exited at start: " << slurp(log_);
            }
            if (lookup_error("multi.example", quick).empty()) {
                return;
            }
            std::this_thread::sleep_for(chr::milliseconds(50));
        }
        FAIL() << "dnsmasq did not answer on " << server() << " within 5 s: " << slurp(log_);
    }

    void TearDown() override {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        std::error_code ignored;
        std::filesystem::remove(log_, ignored);
    }

    std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
    util::DnsSettings settings() const { return {server(), 1000, 2}; }

    int port_ = 0;
    pid_t pid_ = -1;
    std::string log_;
};

TEST_F(Dnsmasq, FindsTheVerificationRecordAmongSeveral) {
    EXPECT_EQ(sorted(util::txt_records("_scimd-challenge.acme.example", settings())),
              (std::vector<std::string>{"scimd-verification=abc123", "v=other"}));
    // Names are case-insensitive (RFC 4343), and a trailing dot only makes it absolute.
    EXPECT_EQ(util::txt_records("_SCIMD-Challenge.ACME.example.", settings()).size(), 2U);
}

TEST_F(Dnsmasq, JoinsTheStringsOfOneRecord) {
    // RFC 7208 §3.3: the strings of one record are concatenated with nothing in between.
    EXPECT_EQ(util::txt_records("multi.example", settings()),
              (std::vector<std::string>{"part onepart two"}));
    EXPECT_EQ(util::txt_records("long.example", settings()),
              (std::vector<std::string>{std::string(300, 'x')}));
}

TEST_F(Dnsmasq, NameWithoutTxtRecordGivesNothing) {
    EXPECT_TRUE(util::txt_records("plain.example", settings()).empty());
}

TEST_F(Dnsmasq, UnknownNameGivesNothing) {
    EXPECT_TRUE(util::txt_records("nothing.example", settings()).empty());
    EXPECT_TRUE(util::txt_records("deep.below.acme.example", settings()).empty());
}

TEST_F(Dnsmasq, RefusedQuestionThrows) {
    // dnsmasq has no upstream for names outside "example" and answers REFUSED.
    const std::string error = lookup_error("acme.test", settings());
    EXPECT_NE(error.find("DNS lookup of acme.test failed: "), std::string::npos) << error;
}

TEST(Dns, NameserverWhereNothingListensThrows) {
    const util::DnsSettings settings{"127.0.0.1:" + std::to_string(free_udp_port()), 300, 1};
    const auto start = chr::steady_clock::now();
    const std::string error = lookup_error("acme.example", settings);
    EXPECT_LT(chr::steady_clock::now() - start, chr::seconds(3));
    EXPECT_NE(error.find("DNS lookup of acme.example failed: "), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(Dns, SilentNameserverTimesOut) {
    // Bound, so no "port unreachable" comes back, but never read: only the timeout ends it.
    const UdpSocket silent;
    const util::DnsSettings settings{"127.0.0.1:" + std::to_string(silent.port()), 300, 2};
    const auto start = chr::steady_clock::now();
    const std::string error = lookup_error("acme.example", settings);
    const auto took = chr::steady_clock::now() - start;
    EXPECT_GE(took, chr::milliseconds(300));
    EXPECT_LT(took, chr::seconds(3));
    EXPECT_NE(error.find("DNS lookup of acme.example failed: "), std::string::npos) << error;
    EXPECT_NE(error.find("Timeout"), std::string::npos) << error;
}

TEST(Dns, BadNameserverSettingThrows) {
    // c-ares alone would take several of these ("1.2.3" as 1.2.3.255, port 99999 as 34463).
    for (const std::string bad :
         {"not-an-ip", "localhost", "1.2.3", "300.1.1.1", "127.0.0.1:", "127.0.0.1:99999",
          "127.0.0.1:0", "127.0.0.1:53x", " 127.0.0.1", "1.2.3.4,5.6.7.8", "[127.0.0.1]:53", "[::1",
          "[::1]53", "[::1]:"}) {
        const std::string error = lookup_error("acme.example", {bad, 300, 1});
        EXPECT_NE(error.find("bad nameserver \"" + bad + "\""), std::string::npos)
            << bad << ": " << error;
    }
    EXPECT_NE(lookup_error("acme.example", {"", 0, 1}).find("must be positive"), std::string::npos);
    EXPECT_NE(lookup_error("acme.example", {"", 300, 0}).find("must be positive"),
              std::string::npos);
}

TEST(Dns, AcceptsIpv6Nameservers) {
    // Whether anything answers there does not matter: the setting itself is taken.
    const std::string port = std::to_string(free_udp_port());
    for (const std::string& good : std::vector<std::string>{"::1", "[::1]", "[::1]:" + port}) {
        const std::string error = lookup_error("acme.example", {good, 300, 1});
        EXPECT_EQ(error.find("bad nameserver"), std::string::npos) << good << ": " << error;
    }
}

TEST(Dns, NameWithNulThrows) {
    EXPECT_NE(lookup_error(std::string("evil.example\0.acme.example", 26), {"127.0.0.1", 300, 1})
                  .find("NUL"),
              std::string::npos);
}

}  // namespace
}  // namespace scimd::test
