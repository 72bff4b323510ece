#include "scimd/http/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "scimd/core/clock.hpp"
#include "scimd/error.hpp"
#include "scimd/protocol/scim_service.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

class Session;

std::string hex(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0x0f]);
    }
    return out;
}

// A client-supplied X-Request-Id is kept when it is short and printable; otherwise a new one.
std::string request_id_from(const std::string* given) {
    if (given != nullptr && !given->empty() && given->size() <= 128) {
        bool ok = true;
        for (unsigned char c : *given) {
            if (c < 0x21 || c > 0x7e) {
                ok = false;
                break;
            }
        }
        if (ok) {
            return *given;
        }
    }
    return hex(util::random_bytes(12));
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    ServerConfig config;
    Handler handler;
    net::io_context ioc;
    ssl::context tls{ssl::context::tls_server};
    tcp::acceptor acceptor{ioc};
    net::thread_pool workers;
    std::unique_ptr<net::thread_pool> write_workers;  // only when config.write_workers > 0
    std::vector<std::thread> threads;
    std::atomic<std::size_t> queued{0};
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> stopping{false};
    std::atomic<bool> cut_off{false};
    std::mutex sessions_mutex;
    std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
    std::mutex log_mutex;
    std::mutex wait_mutex;
    bool joined = false;
    net::signal_set signals{ioc};

    Impl(ServerConfig c, Handler h)
        : config(std::move(c)),
          handler(std::move(h)),
          workers(config.workers ? config.workers : 1) {
        if (config.write_workers > 0) {
            write_workers = std::make_unique<net::thread_pool>(config.write_workers);
        }
    }

    // Reads run on `workers`; other methods on `write_workers` when there are any.
    net::thread_pool& pool_for(const std::string& method) {
        if (write_workers && method != "GET" && method != "HEAD") {
            return *write_workers;
        }
        return workers;
    }

    void accept();
    void begin_stop();
    protocol::Response dispatch(const protocol::Request& req) noexcept;
    void log(const boost::json::object& line) {
        if (!config.access_log) {
            return;
        }
        const std::string text = boost::json::serialize(line);
        std::lock_guard lock(log_mutex);
        std::cerr << text << '\n';
    }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<Server::Impl> server)
        : stream_(std::move(socket), server->tls), server_(std::move(server)) {
        beast::error_code ec;
        auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
        if (!ec) {
            remote_ = ep.address().to_string();
        }
    }

    ~Session() { --server_->connections; }

    void start() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::handshake, shared_from_this()));
    }

    // Called on shutdown: a connection waiting for its next request is closed now; one
    // with a request in flight closes after answering it.
    void close_if_idle() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            if (self->idle_) {
                beast::get_lowest_layer(self->stream_).cancel();
            }
        });
    }

private:
    void handshake() {
        beast::get_lowest_layer(stream_).expires_after(server_->config.io_timeout);
        stream_.async_handshake(
            ssl::stream_base::server,
            beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
    }

    void on_handshake(beast::error_code ec) {
        if (ec) {
            return;  // a failed handshake (scanner, wrong protocol, old TLS) is not our error
        }
        read();
    }

    void read() {
        if (server_->stopping) {
            return close();
        }
        parser_.emplace();
        // The largest limit of any target until the target is known (on_header).
        std::size_t largest = server_->config.body_limit;
        for (const auto& [prefix, limit] : server_->config.body_limits) {
            largest = std::max(largest, limit);
        }
        body_limit_ = largest;
        parser_->body_limit(body_limit_);
        parser_->header_limit(static_cast<std::uint32_t>(server_->config.header_limit));
        idle_ = true;
        beast::get_lowest_layer(stream_).expires_after(server_->config.io_timeout);
        bhttp::async_read_header(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    // The headers are in: the body's limit may depend on the target.
    void on_header(beast::error_code ec, std::size_t n) {
        if (ec) {
            return on_read(ec, n);
        }
        const std::string_view target = parser_->get().target();
        body_limit_ = server_->config.body_limit;
        for (const auto& [prefix, limit] : server_->config.body_limits) {
            if (target.substr(0, prefix.size()) == prefix) {
                body_limit_ = std::max(body_limit_, limit);
            }
        }
        if (parser_->content_length() && *parser_->content_length() > body_limit_) {
            return on_read(bhttp::error::body_limit, n);
        }
        parser_->body_limit(body_limit_);
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        idle_ = false;
        started_ = std::chrono::steady_clock::now();
        if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
            ec == beast::error::timeout) {
            return close();
        }
        if (ec == bhttp::error::body_limit) {
            // Clients that send the whole body before reading (Java's and .NET's, so Okta's
            // and Entra's) only see the answer if the rest of the body is taken in.
            linger_ = true;
            return reject(413, "the request body is larger than the limit of " +
                                   std::to_string(body_limit_) + " bytes");
        }
        if (ec == bhttp::error::header_limit) {
            return reject(431, "the request headers are larger than the limit of " +
                                   std::to_string(server_->config.header_limit) + " bytes");
        }
        if (ec) {
            if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() ||
                ec == bhttp::error::partial_message) {
                return reject(400, "malformed HTTP request: " + ec.message());
            }
            return;  // transport error: nothing to answer on
        }
        auto msg = parser_->release();
        request_.method = std::string(msg.method_string());
        request_.target = std::string(msg.target());
        request_.headers.clear();
        for (const auto& f : msg) {
            std::string name(f.name_string());
            for (char& c : name) {
                if (c >= 'A' && c <= 'Z') {
                    c = static_cast<char>(c - 'A' + 'a');
                }
            }
            request_.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        request_.body = std::move(msg.body());
        request_.request_id = request_id_from(request_.header("x-request-id"));
        request_.remote = remote_;
        keep_alive_ = msg.keep_alive();
        version_ = msg.version();

        // A bounded queue: past the limit the client is told to come back, at once.
        if (server_->queued.fetch_add(1) >= server_->config.queue_limit) {
            --server_->queued;
            protocol::Response res = protocol::error_response(
                request_, Error::unavailable("the server is busy; retry shortly"));
            return write(std::move(res));
        }
        // The work guard keeps the I/O threads running while the handler works, so that the
        // answer can still be written during a graceful stop.
        net::post(server_->pool_for(request_.method), [self = shared_from_this(),
                                                       guard = net::make_work_guard(server_->ioc)] {
            // Past the shutdown grace nobody is left to read the answer: don't do the work.
            if (self->server_->cut_off) {
                --self->server_->queued;
                return;
            }
            protocol::Response res = self->server_->dispatch(self->request_);
            --self->server_->queued;
            net::post(self->stream_.get_executor(),
                      [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
        });
    }

    // Answers a request that could not be parsed, then closes.
    void reject(int status, std::string detail) {
        keep_alive_ = false;
        request_ = {};
        request_.request_id = request_id_from(nullptr);
        write(
            protocol::error_response(request_, Error(status, ScimType::kNone, std::move(detail))));
    }

    void write(protocol::Response res) {
        res_ = {};
        res_.version(version_);
        res_.result(static_cast<unsigned>(res.status));
        res_.set(bhttp::field::server, "scimd");
        for (auto& [k, v] : res.headers) {
            res_.set(k, v);
        }
        res_.set("X-Request-Id", request_.request_id);
        const bool keep = keep_alive_ && !server_->stopping;
        res_.keep_alive(keep);
        if (request_.method == "HEAD") {
            // The length GET would have sent, without the body.
            res_.content_length(res.body.size());
        } else {
            res_.body() = std::move(res.body);
            res_.prepare_payload();
        }
        log(res);
        beast::get_lowest_layer(stream_).expires_after(server_->config.io_timeout);
        bhttp::async_write(stream_, res_,
                           beast::bind_front_handler(&Session::on_write, shared_from_this(), keep));
    }

    void log(const protocol::Response& res) {
        const auto elapsed = std::chrono::steady_clock::now() - started_;
        std::string path = request_.target.substr(0, request_.target.find('?'));
        boost::json::object line{
            {"time", core::format_time(std::chrono::system_clock::now())},
            {"request_id", request_.request_id},
            {"remote", remote_},
            {"method", request_.method},
            {"path", path},
            {"status", res.status},
            {"bytes", res_.body().size()},
            {"us", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()},
        };
        if (!res.org_id.empty()) {
            line["org"] = res.org_id;
        }
        server_->log(line);
    }

    void on_write(bool keep, beast::error_code ec, std::size_t) {
        if (ec) {
            return;
        }
        if (linger_) {
            return drain();
        }
        if (!keep) {
            return close();
        }
        read();
    }

    // After refusing a request mid-body: read and drop what the client still sends (a bounded
    // amount, for a bounded time), then close, so that its upload completes and it reads
    // the answer instead of a connection reset.
    void drain() {
        if (drained_ > kMaxDrain) {
            return close();
        }
        if (drained_ == 0) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
        }
        stream_.async_read_some(net::buffer(drain_buffer_),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    if (ec) {
                                        return self->close();
                                    }
                                    self->drained_ += n;
                                    self->drain();
                                });
    }

    void close() {
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
            // stream_truncated and friends: the peer went away first; nothing to do.
            beast::error_code ignored;
            beast::get_lowest_layer(self->stream_).socket().close(ignored);
        });
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
    std::shared_ptr<Server::Impl> server_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::size_t body_limit_ = 0;  // of the request being read
    bhttp::response<bhttp::string_body> res_;
    protocol::Request request_;
    std::string remote_;
    bool keep_alive_ = true;
    unsigned version_ = 11;
    bool idle_ = false;
    bool linger_ = false;
    static constexpr std::size_t kMaxDrain = 64 * 1024 * 1024;
    std::size_t drained_ = 0;
    std::array<char, 16 * 1024> drain_buffer_{};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace

protocol::Response Server::Impl::dispatch(const protocol::Request& req) noexcept {
    try {
        try {
            return handler(req);
        } catch (const Error& e) {
            return protocol::error_response(req, e);
        } catch (const std::exception& e) {
            // The internal text goes to the log only; the client gets a generic 500.
            log(boost::json::object{{"time", core::format_time(std::chrono::system_clock::now())},
                                    {"request_id", req.request_id},
                                    {"level", "error"},
                                    {"error", e.what()}});
            return protocol::error_response(req, Error(500, ScimType::kNone, "internal error"));
        }
    } catch (...) {
        protocol::Response res;
        res.status = 500;
        res.headers.emplace_back("Content-Type", "application/scim+json; charset=utf-8");
        res.body =
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"internal error"})";
        return res;
    }
}

void Server::Impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](beast::error_code ec,
                                                                             tcp::socket socket) {
        if (ec == net::error::operation_aborted || !self->acceptor.is_open()) {
            return;  // stopping
        }
        if (!ec) {
            if (self->connections.fetch_add(1) >= self->config.max_connections) {
                --self->connections;
                beast::error_code ignored;
                socket.close(ignored);  // over the cap: refuse rather than queue
            } else {
                // Responses go out as soon as they are written: with Nagle's algorithm the
                // last segment of a multi-segment response waits for the client's delayed ACK
                // (40 ms with one client reading page after page).
                beast::error_code nodelay_ec;
                socket.set_option(tcp::no_delay(true), nodelay_ec);
                auto session = std::make_shared<Session>(std::move(socket), self);
                {
                    std::lock_guard lock(self->sessions_mutex);
                    for (auto it = self->sessions.begin(); it != self->sessions.end();) {
                        it = it->expired() ? self->sessions.erase(it) : std::next(it);
                    }
                    self->sessions.insert(session);
                }
                session->start();
            }
        }
        self->accept();
    });
}

void Server::Impl::begin_stop() {
    if (stopping.exchange(true)) {
        return;
    }
    net::post(ioc, [self = shared_from_this()] {
        beast::error_code ignored;
        self->acceptor.close(ignored);
        self->signals.cancel(ignored);
        std::vector<std::shared_ptr<Session>> live;
        {
            std::lock_guard lock(self->sessions_mutex);
            for (const auto& w : self->sessions) {
                if (auto s = w.lock()) {
                    live.push_back(std::move(s));
                }
            }
        }
        for (auto& s : live) {
            s->close_if_idle();
        }
    });
    // Whatever has not finished within the grace period is cut off.
    std::thread([self = shared_from_this()] {
        const auto deadline = std::chrono::steady_clock::now() + self->config.shutdown_grace;
        while (std::chrono::steady_clock::now() < deadline) {
            if (self->ioc.stopped()) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        self->cut_off = true;
        self->ioc.stop();
    }).detach();
}

Server::Server(ServerConfig config, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(handler))) {
    auto& c = impl_->config;
    // TLS 1.2 and later only.
    impl_->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    impl_->tls.use_certificate_chain_file(c.cert_file, ec);
    if (ec) {
        throw std::runtime_error("cannot read the certificate " + c.cert_file + ": " +
                                 ec.message());
    }
    impl_->tls.use_private_key_file(c.key_file, ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("cannot read the private key " + c.key_file + ": " + ec.message());
    }
    const auto address = net::ip::make_address(c.host, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on \"" + c.host + "\": not an IP address");
    }
    tcp::endpoint ep(address, c.port);
    auto& acc = impl_->acceptor;
    acc.open(ep.protocol(), ec);
    if (!ec) {
        acc.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acc.bind(ep, ec);
    }
    if (!ec) {
        acc.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw std::runtime_error("cannot listen on " + c.host + ":" + std::to_string(c.port) +
                                 ": " + ec.message());
    }
}

Server::~Server() {
    stop();
    wait();
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::start() {
    impl_->accept();
    const std::size_t n = impl_->config.io_threads ? impl_->config.io_threads : 1;
    for (std::size_t i = 0; i < n; ++i) {
        impl_->threads.emplace_back([impl = impl_] { impl->ioc.run(); });
    }
}

void Server::stop() { impl_->begin_stop(); }

void Server::wait() {
    std::lock_guard lock(impl_->wait_mutex);
    if (impl_->joined) {
        return;
    }
    for (auto& t : impl_->threads) {
        t.join();
    }
    impl_->workers.join();
    if (impl_->write_workers) {
        impl_->write_workers->join();
    }
    impl_->joined = true;
}

void Server::run_until_signal() {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    impl_->signals.async_wait([this](beast::error_code ec, int) {
        if (!ec) {
            stop();
        }
    });
    start();
    wait();
}

}  // namespace scimd::http
