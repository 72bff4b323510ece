#include "scimd/util/dns.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <vector>

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

namespace scimd::util {

namespace {

constexpr int kClassIn = 1;   // ns_c_in
constexpr int kTypeTxt = 16;  // ns_t_txt

void init_once() {
    static std::once_flag once;
    static int status = ARES_SUCCESS;
    std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (status != ARES_SUCCESS) {
        throw std::runtime_error(std::string("cannot start the DNS resolver: ") +
                                 ares_strerror(status));
    }
}

std::optional<int> parse_port(const std::string& text) {
    if (text.empty() || text.size() > 5 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    const int port = std::stoi(text);
    if (port < 1 || port > 65535) {
        return std::nullopt;
    }
    return port;
}

// c-ares's own parser (ares_set_servers_ports_csv) is lax: it takes "1.2.3" as 1.2.3.255,
// wraps port 99999 to 34463 and reads commas as a list. The setting is read strictly here,
// with inet_pton, so a typo is reported instead of sending questions somewhere else.
std::optional<ares_addr_port_node> parse_nameserver(const std::string& text) {
    // "IPv4", "IPv4:PORT", "IPv6", "[IPv6]" or "[IPv6]:PORT".
    std::string host = text;
    std::optional<std::string> port;
    bool bracketed = false;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string::npos) {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        const std::string rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return std::nullopt;
            }
            port = rest.substr(1);
        }
        bracketed = true;
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const std::size_t colon = text.find(':');
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    ares_addr_port_node node{};
    in_addr v4{};
    in6_addr v6{};
    if (!bracketed && inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        node.family = AF_INET;
        node.addr.addr4 = v4;
    } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        node.family = AF_INET6;
        static_assert(sizeof node.addr.addr6 == sizeof v6);
        std::memcpy(&node.addr.addr6, &v6, sizeof v6);
    } else {
        return std::nullopt;
    }
    if (port) {
        const std::optional<int> number = parse_port(*port);
        if (!number) {
            return std::nullopt;
        }
        node.udp_port = *number;
        node.tcp_port = *number;  // answers too long for UDP are asked again over TCP
    }
    return node;  // port 0: c-ares's default, 53
}

struct Answer {
    bool done = false;
    int status = ARES_SUCCESS;
    std::vector<std::string> records;
};

// Runs inside ares_process_fd (or ares_query, or ares_destroy): it must not throw.
void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    auto* answer = static_cast<Answer*>(arg);
    answer->done = true;
    answer->status = status;
    if (status != ARES_SUCCESS) {
        return;
    }
    ares_txt_ext* head = nullptr;
    answer->status = ares_parse_txt_reply_ext(abuf, alen, &head);
    try {
        // A record of more than 255 bytes arrives as several strings (RFC 1035 §3.3.14);
        // record_start marks where each record begins.
        for (const ares_txt_ext* t = head; t != nullptr; t = t->next) {
            if (t->record_start != 0 || answer->records.empty()) {
                answer->records.emplace_back();
            }
            answer->records.back().append(reinterpret_cast<const char*>(t->txt), t->length);
        }
    } catch (...) {
        answer->status = ARES_ENOMEM;
    }
    if (head != nullptr) {
        ares_free_data(head);
    }
}

struct ChannelDestroy {
    void operator()(ares_channel channel) const noexcept { ares_destroy(channel); }
};
using Channel = std::unique_ptr<std::remove_pointer_t<ares_channel>, ChannelDestroy>;

// The sockets c-ares waits on, in the form poll() takes.
std::vector<pollfd> wanted_sockets(ares_channel channel) {
    std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> socks{};
    const int bits = ares_getsock(channel, socks.data(), ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        const int events = (ARES_GETSOCK_READABLE(bits, i) != 0 ? POLLIN : 0) |
                           (ARES_GETSOCK_WRITABLE(bits, i) != 0 ? POLLOUT : 0);
        if (events != 0) {
            fds.push_back(
                pollfd{socks.at(static_cast<std::size_t>(i)), static_cast<short>(events), 0});
        }
    }
    return fds;
}

// Milliseconds until c-ares's next timeout, rounded up so that the wait never ends just
// before it; -1 (wait for the sockets alone) when it has none.
int next_timeout_ms(ares_channel channel) {
    timeval tv{};
    const timeval* next = ares_timeout(channel, nullptr, &tv);
    if (next == nullptr) {
        return -1;
    }
    return static_cast<int>(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
}

// Lets c-ares read and write what poll() found ready on one socket.
void process(ares_channel channel, const pollfd& p) {
    // An error or hang-up counts as readable: c-ares learns of it when it reads.
    const bool in = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    const bool out = (p.revents & POLLOUT) != 0;
    if (in || out) {
        ares_process_fd(channel, in ? p.fd : ARES_SOCKET_BAD, out ? p.fd : ARES_SOCKET_BAD);
    }
}

// Waits for the channel's sockets, or for its next timeout, until the answer is in.
void run(ares_channel channel, const Answer& answer, const std::string& failed) {
    while (!answer.done) {
        std::vector<pollfd> fds = wanted_sockets(channel);
        const int wait_ms = next_timeout_ms(channel);
        if (fds.empty() && wait_ms < 0) {
            throw std::runtime_error(failed + "the resolver has nothing to wait for");
        }
        const int ready = poll(fds.data(), fds.size(), wait_ms);
        if (ready < 0 && errno != EINTR) {
            throw std::runtime_error(failed + std::system_category().message(errno));
        }
        if (ready <= 0) {
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // only the timeouts
            continue;
        }
        for (const pollfd& p : fds) {
            if (answer.done) {
                break;  // c-ares may have closed the other sockets
            }
            process(channel, p);
        }
    }
}

}  // namespace

std::vector<std::string> txt_records(const std::string& name, const DnsSettings& settings) {
    const std::string failed = "DNS lookup of " + name + " failed: ";
    // ares_query reads a C string: an embedded NUL would ask about a shorter name.
    if (name.find('\0') != std::string::npos) {
        throw std::runtime_error("DNS lookup failed: the name holds a NUL byte");
    }
    if (settings.timeout_ms <= 0 || settings.tries <= 0) {
        throw std::runtime_error(failed + "the timeout and the number of tries must be positive");
    }
    std::optional<ares_addr_port_node> server;
    if (!settings.nameserver.empty()) {
        server = parse_nameserver(settings.nameserver);
        if (!server) {
            throw std::runtime_error(failed + "bad nameserver \"" + settings.nameserver +
                                     "\" (expected IP or IP:PORT)");
        }
    }
    init_once();

    // Declared before the channel, so it outlives it: ares_destroy calls back with
    // ARES_EDESTRUCTION when a query is still pending.
    Answer answer;
    ares_options options{};
    options.timeout = settings.timeout_ms;
    options.tries = settings.tries;
    ares_channel raw = nullptr;
    const int init = ares_init_options(&raw, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    const Channel channel(raw);
    if (init != ARES_SUCCESS) {
        throw std::runtime_error(failed + ares_strerror(init));
    }
    if (server) {
        const int set = ares_set_servers_ports(channel.get(), &*server);
        if (set != ARES_SUCCESS) {
            throw std::runtime_error(failed + ares_strerror(set));
        }
    }

    ares_query(channel.get(), name.c_str(), kClassIn, kTypeTxt, on_answer, &answer);
    run(channel.get(), answer, failed);
    switch (answer.status) {
        case ARES_SUCCESS:
            return std::move(answer.records);
        case ARES_ENODATA:    // the name exists but has no TXT record
        case ARES_ENOTFOUND:  // NXDOMAIN
            return {};
        default:
            throw std::runtime_error(failed + ares_strerror(answer.status));
    }
}

}  // namespace scimd::util
