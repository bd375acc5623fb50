// libslate - service-layer traffic engineering for service meshes.
// SPDX-License-Identifier: Apache-2.0
//
// Per-request cost of the data-plane filter in Envoy's own proxy-wasm host
// library (proxy-wasm-cpp-host) with the WAMR runtime Envoy ships, side by
// side with a no-op module and the ABI floor module driven the same way:
// the same 14 request and 3 response headers, the callback sequence Envoy's
// HTTP filter makes (create, request headers, response headers, log, done,
// delete), at 1 and 4 worker VMs round-robin, interleaved blocks, medians.
//
// The embedder side (this file) is ours: header maps, a virtual clock, stats
// and the plugin configuration buffer, each as cheap as a real proxy's. The
// host library, its ABI glue (exports.cc, the allocation callback into the
// module) and the runtime are the unmodified sources the script builds.
//
//   cpp_host_bench <modules-dir> <rules-file> [block] [rounds]
//
// <rules-file>: the rules records a real reporter published, as written by
// `node shims/wasm/bench/bench.js --dump-rules <file>`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "include/proxy-wasm/context.h"
#include "include/proxy-wasm/wamr.h"
#include "include/proxy-wasm/vm_id_handle.h"
#include "include/proxy-wasm/wasm.h"
#include "src/shared_data.h"

using namespace proxy_wasm;

namespace
{

constexpr uint64_t kStepNs = 100000;   // 10,000 requests per second per proxy
constexpr uint64_t kLatencyNs = 40000; // each request ends before the next
constexpr int kDests = 16;

uint64_t g_now;   // virtual clock: nanoseconds since the Unix epoch
uint64_t g_epoch; // virtual time of the rules' publication

struct Integration : WasmVmIntegration {
    WasmVmIntegration *clone() override
    {
        return new Integration();
    }
    LogLevel getLogLevel() override
    {
        return LogLevel::warn;
    }
    void error(std::string_view m) override
    {
        fprintf(stderr, "wasm: %.*s\n", (int)m.size(), m.data());
    }
    void trace(std::string_view) override {}
    bool getNullVmFunction(std::string_view, bool, int, NullPlugin *, void *) override
    {
        return false;
    }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// What a request carries in and what the module did to it.
struct Exchange {
    const HeaderList *request = nullptr;
    const HeaderList *response = nullptr;
    std::string routed; // value of a header the module replaced, if any
};

struct Stats {
    std::vector<std::pair<std::string, uint64_t>> metrics;
};

class BenchContext : public ContextBase
{
  public:
    BenchContext(WasmBase *wasm, const std::shared_ptr<PluginBase> &plugin, Stats *stats)
        : ContextBase(wasm, plugin), stats_(stats)
    {
    }
    BenchContext(WasmBase *wasm, uint32_t parent, std::shared_ptr<PluginHandleBase> &handle,
                 Exchange *x, Stats *stats)
        : ContextBase(wasm, parent, handle), x_(x), stats_(stats)
    {
    }
    explicit BenchContext(WasmBase *wasm) : ContextBase(wasm) {}

    WasmResult log(uint32_t level, std::string_view m) override
    {
        if (level >= 3)
            fprintf(stderr, "module: %.*s\n", (int)m.size(), m.data());
        return WasmResult::Ok;
    }
    uint32_t getLogLevel() override
    {
        return 3;
    }
    uint64_t getCurrentTimeNanoseconds() override
    {
        return g_now;
    }
    uint64_t getMonotonicTimeNanoseconds() override
    {
        return g_now;
    }
    WasmResult getProperty(std::string_view, std::string *) override
    {
        return WasmResult::NotFound;
    }

    BufferInterface *getBuffer(WasmBufferType type) override
    {
        if (type == WasmBufferType::PluginConfiguration && plugin_) {
            buffer_.set(plugin_->plugin_configuration_);
            return &buffer_;
        }
        if (type == WasmBufferType::VmConfiguration) {
            buffer_.set(std::string_view());
            return &buffer_;
        }
        return nullptr;
    }

    WasmResult defineMetric(uint32_t, std::string_view name, uint32_t *id) override
    {
        auto &m = root()->stats_->metrics;
        for (size_t i = 0; i < m.size(); i++)
            if (m[i].first == name) {
                *id = (uint32_t)i;
                return WasmResult::Ok;
            }
        m.emplace_back(std::string(name), 0);
        *id = (uint32_t)(m.size() - 1);
        return WasmResult::Ok;
    }
    WasmResult incrementMetric(uint32_t id, int64_t by) override
    {
        auto &m = root()->stats_->metrics;
        if (id >= m.size())
            return WasmResult::NotFound;
        m[id].second += (uint64_t)by;
        return WasmResult::Ok;
    }
    WasmResult recordMetric(uint32_t id, uint64_t v) override
    {
        auto &m = root()->stats_->metrics;
        if (id >= m.size())
            return WasmResult::NotFound;
        m[id].second = v;
        return WasmResult::Ok;
    }
    WasmResult getMetric(uint32_t id, uint64_t *v) override
    {
        auto &m = root()->stats_->metrics;
        if (id >= m.size())
            return WasmResult::NotFound;
        *v = m[id].second;
        return WasmResult::Ok;
    }

    const HeaderList *map(WasmHeaderMapType type) const
    {
        if (!x_)
            return nullptr;
        if (type == WasmHeaderMapType::RequestHeaders)
            return x_->request;
        if (type == WasmHeaderMapType::ResponseHeaders)
            return x_->response;
        return nullptr;
    }
    WasmResult getHeaderMapValue(WasmHeaderMapType type, std::string_view key,
                                 std::string_view *out) override
    {
        const HeaderList *h = map(type);
        if (!h)
            return WasmResult::BadArgument;
        for (const auto &kv : *h)
            if (kv.first == key) {
                *out = kv.second;
                return WasmResult::Ok;
            }
        return WasmResult::NotFound;
    }
    WasmResult getHeaderMapSize(WasmHeaderMapType type, uint32_t *n) override
    {
        const HeaderList *h = map(type);
        if (!h)
            return WasmResult::BadArgument;
        *n = (uint32_t)h->size();
        return WasmResult::Ok;
    }
    WasmResult getHeaderMapPairs(WasmHeaderMapType type, Pairs *out) override
    {
        const HeaderList *h = map(type);
        if (!h)
            return WasmResult::BadArgument;
        for (const auto &kv : *h)
            out->emplace_back(kv.first, kv.second);
        return WasmResult::Ok;
    }
    WasmResult replaceHeaderMapValue(WasmHeaderMapType type, std::string_view,
                                     std::string_view value) override
    {
        if (!x_ || type != WasmHeaderMapType::RequestHeaders)
            return WasmResult::BadArgument;
        x_->routed.assign(value);
        return WasmResult::Ok;
    }
    WasmResult addHeaderMapValue(WasmHeaderMapType type, std::string_view k,
                                 std::string_view v) override
    {
        return replaceHeaderMapValue(type, k, v);
    }

  private:
    BenchContext *root()
    {
        return static_cast<BenchContext *>(root_context());
    }

    Exchange *x_ = nullptr;
    Stats *stats_ = nullptr;
    BufferBase buffer_;
};

class BenchWasm : public WasmBase
{
  public:
    BenchWasm(std::unique_ptr<WasmVm> vm, std::string_view vm_id, std::string_view key,
              Stats *stats)
        : WasmBase(std::move(vm), vm_id, "", key, {}, {}), stats_(stats)
    {
    }
    ContextBase *createVmContext() override
    {
        return new BenchContext(this);
    }
    ContextBase *createRootContext(const std::shared_ptr<PluginBase> &plugin) override
    {
        return new BenchContext(this, plugin, stats_);
    }

  private:
    Stats *stats_;
};

// One worker VM with its plugin configured, as a proxy's worker holds it.
struct Worker {
    Stats stats;
    std::shared_ptr<BenchWasm> wasm;
    std::shared_ptr<PluginBase> plugin;
    std::shared_ptr<WasmHandleBase> wasm_handle;
    std::shared_ptr<PluginHandleBase> plugin_handle;
    ContextBase *root = nullptr;
    uint64_t next_tick = 0;
    uint32_t tick_ms = 1000;
};

std::unique_ptr<Worker> make_worker(const std::string &code, const std::string &config, int n)
{
    auto w = std::make_unique<Worker>();
    auto vm = createWamrVm();
    vm->integration() = std::make_unique<Integration>();
    w->wasm =
        std::make_shared<BenchWasm>(std::move(vm), "slate", "vm" + std::to_string(n), &w->stats);
    if (!w->wasm->load(code, false) || !w->wasm->initialize()) {
        fprintf(stderr, "bench: the module does not load\n");
        exit(1);
    }
    w->plugin = std::make_shared<PluginBase>("slate", "slate_filter", "slate", "wamr", config,
                                             false, "p" + std::to_string(n));
    w->root = w->wasm->start(w->plugin);
    if (!w->root || !w->wasm->configure(w->root, w->plugin)) {
        fprintf(stderr, "bench: the module refuses its configuration\n");
        exit(1);
    }
    w->wasm_handle = std::make_shared<WasmHandleBase>(w->wasm);
    w->plugin_handle = std::make_shared<PluginHandleBase>(w->wasm_handle, w->plugin);
    return w;
}

std::string hex(uint64_t v, int width)
{
    char b[32];
    snprintf(b, sizeof b, "%0*llx", width, (unsigned long long)v);
    std::string s(b);
    return s.size() > (size_t)width ? s.substr(s.size() - width) : s;
}

// The request set of the V8 benchmark (bench.js), header for header.
HeaderList request_headers(int i, bool outbound)
{
    const std::string paths[4] = {
        "/api/items/" + std::to_string(1000 + i % 500) + "?session=" + std::to_string(i % 97),
        "/cart", "/api/users/" + hex(0x5d0f416cull + i, 16) + "/orders", "/healthz"};
    std::string trace = hex(0x51ade000ull + (uint64_t)i * 7919, 16) +
                        hex((uint32_t)(0x9e3779b9ull * (uint64_t)(i + 1)), 16);
    std::string span = hex(0xa1b20000ull + i, 16);
    char dest[8];
    snprintf(dest, sizeof dest, "svc%02d", i % kDests);
    return {
        {":authority", outbound ? std::string(dest) + ".default.svc.cluster.local:8080"
                                : "frontend.default.svc.cluster.local:8080"},
        {":path", outbound ? paths[0] : paths[i % 4]},
        {":method", "GET"},
        {":scheme", "http"},
        {"user-agent", "Go-http-client/1.1"},
        {"accept", "application/json"},
        {"x-request-id", "4f1c" + hex(i, 4) + "-9b2e-4c1d-a8f3-0d9e" + hex(i, 8)},
        {"x-forwarded-proto", "http"},
        {"x-envoy-attempt-count", "1"},
        {"x-b3-traceid", trace},
        {"x-b3-spanid", span},
        {"x-b3-parentspanid", hex(0xc3d40000ull + i, 16)},
        {"x-b3-sampled", "1"},
        {"traceparent", "00-" + trace + "-" + span + "-01"},
    };
}

const HeaderList kResponse = {{":status", "200"},
                              {"content-type", "application/json"},
                              {"x-envoy-upstream-service-time", "3"}};

struct Env {
    std::string kind;
    std::vector<std::unique_ptr<Worker>> vms;
    uint64_t i = 0;
};

// One block of n requests; returns ns per request and counts routed ones.
double run_block(Env &e, const std::vector<HeaderList> &reqs, int n, int *routed)
{
    *routed = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < n; k++) {
        uint64_t i = e.i++;
        Worker &w = *e.vms[i % e.vms.size()];
        g_now = g_epoch + i * kStepNs;
        Exchange x;
        x.request = &reqs[i & 511];
        x.response = &kResponse;
        auto *c = new BenchContext(w.wasm.get(), w.root->id(), w.plugin_handle, &x, &w.stats);
        c->onCreate();
        c->onRequestHeaders((uint32_t)x.request->size(), false);
        g_now += kLatencyNs;
        c->onResponseHeaders((uint32_t)kResponse.size(), false);
        c->onLog();
        c->onDone();
        c->onDelete();
        delete c;
        if (!x.routed.empty())
            (*routed)++;
        if (!w.next_tick)
            w.next_tick = g_now + (uint64_t)w.tick_ms * 1000000u;
        if (g_now >= w.next_tick) {
            w.next_tick = g_now + (uint64_t)w.tick_ms * 1000000u;
            w.root->onTick(0);
        }
    }
    auto t1 = std::chrono::steady_clock::now();
    return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count() / n;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::string slurp(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        fprintf(stderr, "bench: cannot read %s\n", path.c_str());
        exit(1);
    }
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::string unhex(const std::string &h)
{
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back((char)std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

void load_rules(const std::string &path)
{
    std::istringstream in(slurp(path));
    std::string key, value;
    int records = 0;
    while (in >> key >> value) {
        if (key == "epoch") {
            g_epoch = std::stoull(value);
            continue;
        }
        getGlobalSharedData().set("slate", key, unhex(value), 0);
        records++;
    }
    if (records == 0 || g_epoch == 0) {
        fprintf(stderr, "bench: %s holds no rules records\n", path.c_str());
        exit(1);
    }
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s <modules-dir> <rules-file> [block] [rounds]\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    int block = argc > 3 ? atoi(argv[3]) : 5000;
    int rounds = argc > 4 ? atoi(argv[4]) : 7;
    const std::string baseline = argc > 5 ? slurp(argv[5]) : std::string();
    // Shared data lives while a VM of its id does; the rules must outlive the
    // VMs of each case, as the reporter's VM keeps them in a proxy.
    auto keep_shared_data = getVmIdHandle("slate");
    load_rules(argv[2]);
    g_now = g_epoch;
    const std::string filter = slurp(dir + "/slate_filter.wasm");
    const std::string noop = slurp(dir + "/slate_noop.wasm");
    const std::string floor = slurp(dir + "/slate_abi_floor.wasm");
    std::vector<HeaderList> in_reqs, out_reqs;
    for (int i = 0; i < 512; i++) {
        in_reqs.push_back(request_headers(i, false));
        out_reqs.push_back(request_headers(i, true));
    }
    printf("proxy-wasm-cpp-host, WAMR fast interpreter; %d requests per block, %d interleaved "
           "rounds, medians\n\n",
           block, rounds);
    printf("case       VMs    no-op    floor   filter  filter-no-op  floor/no-op  filter/no-op\n");
    printf("                 ns/req   ns/req   ns/req        ns/req\n");
    int vm_serial = 0;
    for (int outbound = 0; outbound < 2; outbound++) {
        for (int workers : {1, 4}) {
            std::string cfg = std::string("{\"service\":\"frontend\",\"region\":\"us-west-1\",") +
                              "\"vm_id\":\"slate\",\"tick_ms\":1000,\"direction\":\"" +
                              (outbound ? "outbound" : "inbound") +
                              "\",\"trace_sampling_rate\":0.01}";
            const int kinds = baseline.empty() ? 3 : 4;
            std::vector<Env> envs(kinds);
            envs[0].kind = "noop";
            envs[1].kind = "floor";
            envs[2].kind = "filter";
            for (int k = 0; k < workers; k++) {
                envs[0].vms.push_back(make_worker(noop, "{}", vm_serial++));
                envs[1].vms.push_back(
                    make_worker(floor, outbound ? "outbound" : "inbound", vm_serial++));
                envs[2].vms.push_back(make_worker(filter, cfg, vm_serial++));
                if (kinds == 4)
                    envs[3].vms.push_back(make_worker(baseline, cfg, vm_serial++));
            }
            const auto &reqs = outbound ? out_reqs : in_reqs;
            int routed = 0;
            // Warm-up: tables filled, and past the first tick (one virtual second),
            // at which the filter takes the published rules.
            const int warm = std::max(block, 12000);
            for (auto &e : envs)
                run_block(e, reqs, warm, &routed);
            std::vector<double> ns[4], ratio, floor_ratio, base_ratio;
            for (int r = 0; r < rounds; r++) {
                double t[4];
                for (int j = 0; j < kinds; j++) {
                    int idx = (j + r) % kinds;
                    t[idx] = run_block(envs[idx], reqs, block, &routed);
                    if (idx >= 2 && outbound && routed != block) {
                        fprintf(stderr, "bench: %d of %d outbound requests not routed\n",
                                block - routed, block);
                        for (auto &m : envs[idx].vms[0]->stats.metrics)
                            fprintf(stderr, "  %s = %llu\n", m.first.c_str(),
                                    (unsigned long long)m.second);
                        return 1;
                    }
                }
                for (int j = 0; j < kinds; j++)
                    ns[j].push_back(t[j]);
                if (kinds == 4)
                    base_ratio.push_back(t[3] / t[0]);
                ratio.push_back(t[2] / t[0]);
                floor_ratio.push_back(t[1] / t[0]);
            }
            printf("%-10s %3d %8.0f %8.0f %8.0f      %8.0f     %8.2f      %8.2f\n",
                   outbound ? "outbound" : "inbound", workers, median(ns[0]), median(ns[1]),
                   median(ns[2]), median(ns[2]) - median(ns[0]), median(floor_ratio),
                   median(ratio));
            if (kinds == 4)
                printf("%-10s %3d baseline %8.0f ns/req, %5.2f x the no-op\n",
                       outbound ? "outbound" : "inbound", workers, median(ns[3]),
                       median(base_ratio));
        }
    }
    return 0;
}
