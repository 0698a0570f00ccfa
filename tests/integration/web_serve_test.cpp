// SPDX-License-Identifier: MIT
// `usb-backup-copier serve` against a real copy on a loop disk: the JSON, the metrics (read
// by prometheus_client's parser) and the page as real headless Chromium renders it.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// ext4 takes 16 bytes of label: enough for a script element if the page parsed it as HTML.
constexpr const char* kHostileLabel = "<script>alert(1)";

// A port nothing listens on now (the kernel's pick for port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("free_port: no socket");
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string webserver_section(int port) {
  return "[Webserver]\nwebhost = 127.0.0.1\nwebport = " + std::to_string(port) + "\n";
}

// `serve` as a child, and requests to it.
class Server {
 public:
  Server(const CopyFixture& f, int port)
      : port_(port),
        process_({binary_path("usb-backup-copier"), "--config", f.config_path(), "serve"}),
        client_("127.0.0.1", port) {
    client_.set_read_timeout(30, 0);
  }

  // Waits until it answers; false when it exited or the deadline passed.
  bool wait_until_up() {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline && process_.running()) {
      if (auto r = client_.Get("/api/status"); r && r->status == 200) return true;
      poll_pause();
    }
    return false;
  }

  httplib::Result get(const std::string& path) { return client_.Get(path.c_str()); }
  nlohmann::json json(const std::string& path) {
    auto r = get(path);
    if (!r || r->status != 200) throw std::runtime_error("GET " + path + " failed");
    return nlohmann::json::parse(r->body);
  }
  // bytes_done of the one running job, 0 when none runs.
  std::uint64_t bytes_done() {
    const auto status = json("/api/status");
    return status["jobs"].empty() ? 0 : status["jobs"][0]["bytes_done"].get<std::uint64_t>();
  }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  ChildProcess& process() { return process_; }

 private:
  int port_;
  ChildProcess process_;
  httplib::Client client_;
};

// Lets the frozen copy run in short steps until /api/status shows more than `above`.
std::uint64_t advance_copy(RsyncFreezer& freezer, Server& server, std::uint64_t above) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    freezer.pulse(5ms);
    // The copier republishes its status at least every 2 s; this waits for that event.
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until) {
      if (const auto done = server.bytes_done(); done > above) return done;
      poll_pause();
    }
  }
  return above;
}

// Real headless Chromium; its profile under dir so that parallel browsers do not meet.
CopierResult chromium(const CopyFixture& f, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                "--user-data-dir=" + f.dir() + "/chromium", "--virtual-time-budget=5000"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, 2min);
}

std::string dump_dom(const CopyFixture& f, const Server& server) {
  const CopierResult r = chromium(f, {"--dump-dom", server.url()});
  if (r.exit_code != 0) throw std::runtime_error("chromium --dump-dom failed (is the chromium package installed?): " + r.output);
  return r.output;
}

// The progress bar's bytes: data-bytes-done of the <progress> element, -1 when absent.
long long progress_bytes(const std::string& dom) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("<progress [^>]*data-bytes-done=\"([0-9]+)\""))) return -1;
  return std::stoll(m[1]);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(WebServe, ShowsARunningCopyAndItsEndInTheApiThePageAndTheMetrics) {
  const int port = free_port();
  CopyFixture f({.disk_mib = 400, .label = kHostileLabel, .extra_sections = webserver_section(port)});
  for (int i = 0; i < 8; ++i) make_file(f.source() + "/Nightly/part" + std::to_string(i) + ".vbk", 32u << 20, i + 1);
  Server server(f, port);
  ASSERT_TRUE(server.wait_until_up()) << server.process().output_so_far();
  EXPECT_THAT(server.process().output_so_far(), HasSubstr("Serving the status page on " + server.url()));

  auto copier = f.start_copy();
  RsyncFreezer freezer(copier->pid());
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
  ASSERT_TRUE(f.wait_for_status([](const auto& s) { return field(s, "phase") == "copying"; }, 60s))
      << copier->output_so_far();

  // (a) The API shows the copy advancing.
  const std::uint64_t first = advance_copy(freezer, server, 0);
  ASSERT_GT(first, 0u) << copier->output_so_far();
  const std::uint64_t second = advance_copy(freezer, server, first);
  ASSERT_GT(second, first);
  // `status --json` reads the same status file: it shows the copy at least where the API
  // saw it, and further on once the copy has advanced again.
  const auto cli_bytes_done = [&f]() -> std::uint64_t {
    const CopierResult r = f.copier({"status", "--json"});
    const auto doc = parse_json_object(r.output);
    if (r.exit_code != 0 || !doc || doc->at("jobs").size() != 1) return 0;
    return json_count(doc->at("jobs").at(0), "bytes_done").value_or(0);
  };
  const std::uint64_t cli_first = cli_bytes_done();
  EXPECT_GE(cli_first, second);
  const std::uint64_t third = advance_copy(freezer, server, cli_first);
  ASSERT_GT(third, cli_first);
  EXPECT_GE(cli_bytes_done(), third);
  const auto status = server.json("/api/status");
  ASSERT_EQ(status["jobs"].size(), 1u);
  EXPECT_EQ(status["jobs"][0]["uuid"], f.uuid());
  EXPECT_EQ(status["jobs"][0]["label"], kHostileLabel);
  EXPECT_EQ(status["jobs"][0]["phase"], "copying");

  // (b) The page, rendered by Chromium after it has polled: the bar advances between two
  // loads, and the label is text.
  const std::string dom1 = dump_dom(f, server);
  const long long bar1 = progress_bytes(dom1);
  ASSERT_GT(bar1, 0) << dom1;
  EXPECT_THAT(dom1, HasSubstr("&lt;script&gt;alert(1)")) << "the label, shown as text";
  EXPECT_EQ(count_of(dom1, "<script"), 1u) << "only the page's own app.js:\n" << dom1;
  EXPECT_THAT(dom1, HasSubstr("<p id=\"problem\" class=\"problem\" hidden=\"\"></p>")) << "the page ran without error";
  EXPECT_THAT(dom1, Not(HasSubstr("No copy is running")));
  EXPECT_THAT(dom1, Not(HasSubstr("Restore points"))) << "a mirror disk lists none";
  ASSERT_GT(advance_copy(freezer, server, static_cast<std::uint64_t>(bar1)), static_cast<std::uint64_t>(bar1));
  const std::string dom2 = dump_dom(f, server);
  EXPECT_GT(progress_bytes(dom2), bar1) << dom2;

  // (c) A picture of the page mid-copy, kept with the build.
  const std::string artefacts = std::string(UBC_BINARY_DIR) + "/test-artifacts";
  fs::create_directories(artefacts);
  const std::string shot = artefacts + "/web-page.png";
  fs::remove(shot);
  const CopierResult taken =
      chromium(f, {"--hide-scrollbars", "--window-size=1200,900", "--screenshot=" + shot, server.url()});
  EXPECT_EQ(taken.exit_code, 0) << taken.output;
  ASSERT_TRUE(fs::exists(shot)) << taken.output;
  EXPECT_GT(fs::file_size(shot), 10'000u);

  // The copy ends: its run, its log and the metrics.
  freezer.resume();
  const auto end = copier->wait(3min);
  ASSERT_TRUE(end) << copier->output_so_far();
  ASSERT_EQ(end->exit_code, 0) << end->output;
  const auto runs = server.json("/api/runs")["runs"];
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["uuid"], f.uuid());
  EXPECT_EQ(runs[0]["label"], kHostileLabel);
  const auto log = server.get("/runs/" + std::to_string(runs[0]["id"].get<long long>()) + "/log");
  ASSERT_TRUE(log);
  // Without a system bus (a build machine) the copy ends with the inhibitor's warning.
  const bool no_system_bus = !fs::exists("/run/dbus/system_bus_socket");
  EXPECT_EQ(runs[0]["outcome"], no_system_bus ? "warning" : "success") << log->body;
  EXPECT_EQ(runs[0]["warnings"], no_system_bus ? 1 : 0) << log->body;
  EXPECT_EQ(runs[0]["bytes"], 256u << 20);
  EXPECT_EQ(runs[0]["files"], 8u);
  EXPECT_EQ(log->status, 200);
  EXPECT_EQ(log->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_THAT(log->body, HasSubstr(f.uuid()));
  EXPECT_THAT(log->body, HasSubstr("Copy complete: 256 MiB in 8 files"));
  EXPECT_EQ(server.get("/runs/999999/log")->status, 404);
  EXPECT_EQ(server.get("/api/runs?limit=x")->status, 400);

  const auto metrics = server.get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  write_file(f.dir() + "/metrics.txt", metrics->body);
  const CopierResult parsed =
      run_program({"/usr/bin/python3", std::string(UBC_SOURCE_DIR) + "/tests/integration/support/parse_metrics.py",
                   f.dir() + "/metrics.txt"});
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output << "\n(python3-prometheus-client parses it)\n" << metrics->body;
  std::map<std::string, double> values;
  std::istringstream lines(parsed.output);
  for (std::string line; std::getline(lines, line);) {
    const auto sample = nlohmann::json::parse(line);
    EXPECT_EQ(sample["labels"]["uuid"], f.uuid()) << line;
    EXPECT_EQ(sample["labels"]["label"], kHostileLabel) << line;
    values[sample["name"].get<std::string>()] = sample["value"].get<double>();
  }
  EXPECT_GT(values["usb_backup_copier_last_success_timestamp_seconds"], 1.7e9);
  EXPECT_EQ(values["usb_backup_copier_last_run_outcome"], 1.0);
  EXPECT_EQ(values["usb_backup_copier_last_run_bytes"], static_cast<double>(256u << 20));
  EXPECT_EQ(values["usb_backup_copier_disk_stale"], 0.0);
  EXPECT_EQ(values.count("usb_backup_copier_last_verified_bytes"), 1u);
  EXPECT_EQ(values.count("usb_backup_copier_job_bytes_done"), 0u) << "no job runs any more";

  server.process().signal(SIGTERM);
  const auto stopped = server.process().wait(30s);
  ASSERT_TRUE(stopped) << "serve did not stop on SIGTERM";
  EXPECT_EQ(stopped->exit_code, 0) << stopped->output;
  EXPECT_THAT(stopped->output, HasSubstr("Stopped by SIGTERM"));
}

TEST(WebServe, ListsADisksRestorePointsAsTheLastRunSawThemInTheApiThePageAndStatus) {
  const int port = free_port();
  CopyFixture f({.backup_lines = {"restore-points = 3"}, .extra_sections = webserver_section(port)});
  make_file(f.source() + "/Nightly.vbk", 1u << 20, 1);
  ASSERT_EQ(f.copy().exit_code, 0);
  // Restore points are named by their run's start, to the second.
  const std::time_t first_start = std::time(nullptr);
  while (std::time(nullptr) == first_start) std::this_thread::sleep_for(20ms);
  make_file(f.source() + "/Nightly-1.vib", 1u << 20, 2);
  ASSERT_EQ(f.copy().exit_code, 0);
  std::vector<std::string> names;
  const auto state = f.disk_state();
  ASSERT_TRUE(state && state->contains("restore_points"));
  for (const auto& p : state->at("restore_points")) names.push_back(json_string(p, "name").value_or(""));
  ASSERT_EQ(names.size(), 2u);

  // The disk is unplugged (the fixture's copies unmount it): what follows comes from the history.
  Server server(f, port);
  ASSERT_TRUE(server.wait_until_up()) << server.process().output_so_far();
  const auto status = server.json("/api/status");
  nlohmann::json disk;
  for (const auto& d : status["disks"])
    if (strcasecmp(d["uuid"].get<std::string>().c_str(), f.uuid().c_str()) == 0) disk = d;
  ASSERT_TRUE(disk.contains("restore_points")) << status.dump();
  const auto& points = disk["restore_points"]["points"];
  ASSERT_EQ(points.size(), 2u) << status.dump();
  EXPECT_EQ(points[0]["name"], names[0]);
  EXPECT_EQ(points[1]["name"], names[1]);
  EXPECT_EQ(points[0]["files"], 1u);
  EXPECT_EQ(points[1]["files"], 2u);
  EXPECT_EQ(points[1]["bytes"], 2u << 20);
  EXPECT_EQ(points[1]["verified"], true);

  const std::string dom = dump_dom(f, server);
  EXPECT_THAT(dom, HasSubstr("Restore points (newest first)")) << dom;
  EXPECT_THAT(dom, HasSubstr("data-point=\"" + names[0] + "\""));
  EXPECT_THAT(dom, HasSubstr("data-point=\"" + names[1] + "\""));
  EXPECT_THAT(dom, HasSubstr("2.00 MiB in 2 files · verified"));
  EXPECT_LT(dom.find("data-point=\"" + names[1] + "\""), dom.find("data-point=\"" + names[0] + "\""))
      << "newest first";

  const CopierResult text = f.copier({"status"});
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("restore points, as of"));
  EXPECT_THAT(text.output, HasSubstr(names[0] + ": 1.00 MiB in 1 file, verified"));
  EXPECT_THAT(text.output, HasSubstr(names[1] + ": 2.00 MiB in 2 files, verified"));

  server.process().signal(SIGTERM);
  ASSERT_TRUE(server.process().wait(30s));
}

TEST(WebServe, AnswersOnlyGetAndSendsItsSecurityHeaders) {
  const int port = free_port();
  CopyFixture f({.start_smtp = false, .extra_sections = webserver_section(port)});
  Server server(f, port);
  ASSERT_TRUE(server.wait_until_up()) << server.process().output_so_far();
  httplib::Client client("127.0.0.1", port);
  for (const auto& r : {client.Post("/api/status"), client.Put("/", "x", "text/plain"), client.Delete("/runs/1/log")}) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD");
  }
  for (const char* path : {"/", "/app.js", "/style.css", "/api/status", "/api/runs", "/metrics", "/nothing"}) {
    const auto r = server.get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"), "default-src 'self'; frame-ancestors 'none'") << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
  }
  EXPECT_EQ(server.get("/nothing")->status, 404);
  EXPECT_EQ(server.get("/app.js")->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(server.json("/api/runs"), nlohmann::json::parse(R"({"runs": []})")) << "no run yet, no database yet";
  EXPECT_FALSE(fs::exists(f.state_dir() + "/history.db")) << "serve creates nothing";
}

TEST(WebServe, APortInUseIsToldClearly) {
  const int port = free_port();
  CopyFixture f({.start_smtp = false, .extra_sections = webserver_section(port)});
  Server first(f, port);
  ASSERT_TRUE(first.wait_until_up()) << first.process().output_so_far();
  const CopierResult second = f.copier({"serve"});
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port) +
                                       ": another program already uses this port"));
  EXPECT_THAT(second.output, HasSubstr("webport"));
  EXPECT_TRUE(first.process().running());
}

}  // namespace
}  // namespace ubc::test
