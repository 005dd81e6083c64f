// What `bench` reports for a streamed model: the plan, and per decoded token the bytes read,
// the time the forward pass waited for them and the time it computed.
import Foundation

/// A bench run's streaming figures (decode phase; prefill totals alongside).
public struct StreamingBench: Sendable, Codable {
    public var plan: StreamingPlan
    /// Weight bytes the streamer read per decoded token.
    public var bytesPerToken: Double
    /// Bytes the process read from storage per decoded token (/proc/self/io read_bytes: what the
    /// page cache did not already hold).
    public var diskBytesPerToken: Double
    /// Seconds per decoded token: blocked waiting for weights, and everything else (computing).
    public var waitSecondsPerToken: Double
    public var computeSecondsPerToken: Double
    /// Seconds per decoded token spent reading weights, on any thread.
    public var loadSecondsPerToken: Double
    /// Share of the reading the forward pass did not wait for (hidden by prefetch): 1 - wait/load.
    public var ioHiddenShare: Double
    public var prefillWaitSeconds: Double
    public var prefillLoadSeconds: Double
    /// Decode counters: units found prefetched, and units the forward pass read itself.
    public var prefetchHits: Int
    public var directLoads: Int
    /// Resident memory besides weights and buffers (see LayerStreamer.baselineResidentMB), and the
    /// run's KV cache and activation buffers: peak RSS should stay within baseline + budget + these.
    public var baselineRssMB: Double
    public var kvCacheBytes: Int
    public var activationBytes: Int

    enum CodingKeys: String, CodingKey {
        case plan, bytesPerToken = "bytes_per_token", diskBytesPerToken = "disk_bytes_per_token"
        case waitSecondsPerToken = "wait_s_per_token", computeSecondsPerToken = "compute_s_per_token"
        case loadSecondsPerToken = "load_s_per_token", ioHiddenShare = "io_hidden_share"
        case prefillWaitSeconds = "prefill_wait_s", prefillLoadSeconds = "prefill_load_s"
        case prefetchHits = "prefetch_hits", directLoads = "direct_loads"
        case baselineRssMB = "baseline_rss_mb", kvCacheBytes = "kv_cache_bytes", activationBytes = "activation_bytes"
    }

    init(streamer: LayerStreamer, prefill: StreamingStats, decode: StreamingStats, decodeSeconds: Double, diskBytes: Int,
         tokens: Int, kvCacheBytes: Int, activationBytes: Int) {
        let plan = streamer.plan
        let n = Double(max(tokens, 1))
        self.plan = plan
        bytesPerToken = Double(decode.bytesLoaded) / n
        diskBytesPerToken = Double(diskBytes) / n
        waitSecondsPerToken = decode.waitSeconds / n
        computeSecondsPerToken = max(0, decodeSeconds - decode.waitSeconds) / n
        loadSecondsPerToken = decode.loadSeconds / n
        ioHiddenShare = decode.loadSeconds > 0 ? max(0, 1 - decode.waitSeconds / decode.loadSeconds) : 1
        prefillWaitSeconds = prefill.waitSeconds
        prefillLoadSeconds = prefill.loadSeconds
        prefetchHits = decode.prefetchHits
        directLoads = decode.directLoads
        baselineRssMB = streamer.baselineResidentMB
        self.kvCacheBytes = kvCacheBytes
        self.activationBytes = activationBytes
    }
}

/// The process's storage reads, from /proc/self/io.
enum ProcessIO {
    /// Bytes read from storage so far (read_bytes; 0 where the kernel does not say).
    static func readBytes() -> Int { Int(ProcessMemory.procField("/proc/self/io", "read_bytes:") ?? 0) }
}
