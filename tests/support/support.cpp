#include "support/support.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SCIMD_SOURCE_DIR
#error "SCIMD_SOURCE_DIR must be defined by the build"
#endif

namespace scimd::test {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;
using tcp = boost::asio::ip::tcp;

namespace {

std::string random_suffix() {
    static std::mutex m;
    static std::mt19937_64 rng{std::random_device{}()};
    std::lock_guard lock(m);
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    for (int i = 0; i < 12; ++i) {
        s.push_back(kChars[rng() % 36]);
    }
    return s;
}

// The per-process temporary directory (databases, certificates), removed at exit. The
// removal lives in the same static as the path: a separate static that called temp_root()
// from its destructor could run after the path was destroyed (static destruction is in
// reverse order of construction) and crash the process at exit.
struct TempRoot {
    fs::path path;
    TempRoot() : path(fs::temp_directory_path() / ("scimd-test-" + random_suffix())) {
        fs::create_directories(path);
    }
    ~TempRoot() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    TempRoot(const TempRoot&) = delete;
    TempRoot& operator=(const TempRoot&) = delete;
};

fs::path temp_root() {
    static const TempRoot root;
    return root.path;
}

// Databases made for this process, dropped when it exits.
struct PgCleanup {
    std::string admin;
    std::vector<std::string> names;
    std::mutex m;
    ~PgCleanup() {
        if (names.empty()) {
            return;
        }
        try {
            soci::session s(*soci::factory_postgresql(), admin);
            for (const auto& n : names) {
                s << "DROP DATABASE IF EXISTS " + n + " WITH (FORCE)";
            }
        } catch (const std::exception&) {
            // The server is stopped by scripts/test anyway.
        }
    }
};
PgCleanup& pg_cleanup() {
    static PgCleanup c;
    return c;
}

}  // namespace

std::string sqlite_url() {
    return "sqlite:" + (temp_root() / ("db-" + random_suffix() + ".sqlite")).string();
}

namespace {
// Whether a socket of `type` can now bind to 127.0.0.1:`port`, or with `connect`, connect to it.
bool on_loopback(int type, std::uint16_t port, bool connect) {
    const int fd = ::socket(AF_INET, type, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const auto* address = reinterpret_cast<sockaddr*>(&a);
    const bool ok =
        (connect ? ::connect(fd, address, sizeof a) : ::bind(fd, address, sizeof a)) == 0;
    ::close(fd);
    return ok;
}
}  // namespace

std::uint16_t free_loopback_port() {
    // Linux hands out ephemeral ports from 32768 up; these are below them.
    static std::mutex m;
    static std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<int> pick(20000, 32767);
    for (int attempt = 0; attempt < 1000; ++attempt) {
        std::uint16_t port = 0;
        {
            std::lock_guard lock(m);
            port = static_cast<std::uint16_t>(pick(rng));
        }
        if (on_loopback(SOCK_STREAM, port, false) && on_loopback(SOCK_DGRAM, port, false)) {
            return port;
        }
    }
    throw std::runtime_error("no free loopback port between 20000 and 32767");
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
    std::vector<std::string> args = argv;
    std::vector<char*> raw;
    for (std::string& a : args) {
        raw.push_back(a.data());
    }
    raw.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error("cannot start " + argv.at(0) + ": fork failed");
    }
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // gone with the test, even if it crashes
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        ::execv(raw[0], raw.data());
        ::_exit(127);
    }
}

bool ChildProcess::running() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
    }
    return pid_ > 0;
}

void ChildProcess::stop() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, &status_, 0);
        pid_ = -1;
    }
}

bool tcp_accepting(std::uint16_t port) { return on_loopback(SOCK_STREAM, port, true); }

bool postgres_required() {
    const char* v = std::getenv("SCIMD_REQUIRE_PG");
    return v != nullptr && std::string(v) == "1";
}

std::optional<std::string> postgres_url() {
    const char* dsn = std::getenv("SCIMD_TEST_PG_DSN");
    if (dsn == nullptr || *dsn == '\0') {
        return std::nullopt;
    }
    const std::string admin = dsn;
    const std::string name = "scimd_t_" + random_suffix();
    {
        soci::session s(*soci::factory_postgresql(), admin);
        s << "CREATE DATABASE " + name;
    }
    auto& c = pg_cleanup();
    {
        std::lock_guard lock(c.m);
        c.admin = admin;
        c.names.push_back(name);
    }
    // Replace the database path of the URI: postgresql://user@host/DB?params
    const auto scheme = admin.find("://");
    const auto slash = admin.find('/', scheme + 3);
    const auto query = admin.find('?', scheme + 3);
    std::string out;
    if (slash == std::string::npos || (query != std::string::npos && slash > query)) {
        const std::size_t at = query == std::string::npos ? admin.size() : query;
        out = admin.substr(0, at) + "/" + name + admin.substr(at);
    } else {
        const std::size_t end = query == std::string::npos ? admin.size() : query;
        out = admin.substr(0, slash + 1) + name + admin.substr(end);
    }
    return out;
}

const Certs& certs() {
    static const Certs c = [] {
        const fs::path dir = temp_root() / "certs";
        const std::string cmd = std::string(SCIMD_SOURCE_DIR) + "/certs/make-dev-certs " +
                                dir.string() + " 2>/dev/null";
        if (std::system(cmd.c_str()) != 0) {
            throw std::runtime_error("certs/make-dev-certs failed");
        }
        return Certs{dir.string(), (dir / "ca.pem").string(), (dir / "localhost.pem").string(),
                     (dir / "localhost-key.pem").string()};
    }();
    return c;
}

std::string HttpResponse::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

boost::json::value HttpResponse::json() const { return boost::json::parse(body); }

struct HttpClient::Impl {
    net::io_context ioc;
    ssl::context tls{ssl::context::tls_client};
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
    beast::flat_buffer buffer;
    std::uint16_t port;

    explicit Impl(std::uint16_t p) : port(p) {
        tls.load_verify_file(certs().ca);
        tls.set_verify_mode(ssl::verify_peer);
    }

    void connect() {
        stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, tls);
        SSL_set_tlsext_host_name(stream->native_handle(), "localhost");
        stream->set_verify_callback(ssl::host_name_verification("localhost"));
        beast::get_lowest_layer(*stream).connect(
            tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        stream->handshake(ssl::stream_base::client);
        buffer.clear();
    }
};

namespace {

HttpResponse to_response(bhttp::response<bhttp::string_body>& res) {
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
        std::string n(f.name_string());
        for (char& ch : n) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        out.headers[n] = std::string(f.value());
    }
    out.body = std::move(res.body());
    return out;
}

}  // namespace

HttpResponse HttpClient::request_head_only(const std::string& method,
                                           const std::string& target,
                                           std::size_t content_length) {
    impl_->stream.reset();
    impl_->connect();
    bhttp::request<bhttp::empty_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, "localhost");
    if (!token_.empty()) {
        req.set(bhttp::field::authorization, "Bearer " + token_);
    }
    req.set(bhttp::field::content_type, "application/scim+json; charset=utf-8");
    req.content_length(content_length);
    bhttp::request_serializer<bhttp::empty_body> sr(req);
    bhttp::write_header(*impl_->stream, sr);
    bhttp::response_parser<bhttp::string_body> parser;
    bhttp::read(*impl_->stream, impl_->buffer, parser);
    auto res = parser.release();
    HttpResponse out = to_response(res);
    impl_->stream.reset();
    return out;
}

HttpClient::HttpClient(std::uint16_t port, std::string token)
    : impl_(std::make_unique<Impl>(port)), token_(std::move(token)) {}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::request(const std::string& method,
                                 const std::string& target,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, "localhost");
    bool has_auth = false, has_ct = false;
    for (const auto& [k, v] : headers) {
        req.set(k, v);
        has_auth = has_auth || beast::iequals(k, "authorization");
        has_ct = has_ct || beast::iequals(k, "content-type");
    }
    if (!has_auth && !token_.empty()) {
        req.set(bhttp::field::authorization, "Bearer " + token_);
    }
    if (!body.empty()) {
        if (!has_ct) {
            req.set(bhttp::field::content_type, "application/scim+json; charset=utf-8");
        }
        req.body() = body;
    }
    req.prepare_payload();
    // One retry on a fresh connection when a kept-alive one was closed by the server.
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            if (!impl_->stream) {
                impl_->connect();
            }
            // A server may answer before it has read the whole body (413 on a too-large
            // Content-Length) and close; like curl, look for that answer even when the write
            // failed.
            beast::error_code write_ec;
            bhttp::write(*impl_->stream, req, write_ec);
            bhttp::response_parser<bhttp::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            if (method == "HEAD") {
                parser.skip(true);
            }
            beast::error_code read_ec;
            bhttp::read(*impl_->stream, impl_->buffer, parser, read_ec);
            if (read_ec) {
                throw boost::system::system_error(write_ec ? write_ec : read_ec);
            }
            auto res = parser.release();
            HttpResponse out = to_response(res);
            out.request_cut_short = static_cast<bool>(write_ec);
            if (write_ec || !res.keep_alive()) {
                impl_->stream.reset();
            }
            return out;
        } catch (const boost::system::system_error&) {
            impl_->stream.reset();
            if (attempt == 1) {
                throw;
            }
        }
    }
    throw std::logic_error("unreachable");
}

std::string url_encode(const std::string& s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

}  // namespace scimd::test
