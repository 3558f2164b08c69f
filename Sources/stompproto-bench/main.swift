// stompproto-bench: StompProto decode/encode throughput vs stomp.py, in one run.
// Usage: swift run -c release stompproto-bench [--seconds S] [--no-python]
//        stompproto-bench --frames N   (decode and encode N small frames, one at a time, no timing: a fixed
//                                       workload for callgrind, bench/instructions.sh)
//          --decode-only               (only decode them: what a consumer pays)
//          --no-escapes                (a message-id without ':', so no header line has an escape)
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StompProto

var seconds = 0.6
var runPython = true
var only: String?
var fixedFrames: Int?
var decodeOnly = false
var noEscapes = false
var argIterator = CommandLine.arguments.dropFirst().makeIterator()
while let arg = argIterator.next() {
    switch arg {
    case "--seconds": seconds = argIterator.next().flatMap(Double.init) ?? seconds
    case "--no-python": runPython = false
    case "--only": only = argIterator.next()   // "small" or "large", for profiling
    case "--frames": fixedFrames = argIterator.next().flatMap(Int.init)
    case "--decode-only": decodeOnly = true
    case "--no-escapes": noEscapes = true
    default:
        print("usage: stompproto-bench [--seconds S] [--no-python] [--only small|large] [--frames N [--decode-only] [--no-escapes]]")
        exit(2)
    }
}

/// Defeats dead-code elimination.
var sink = 0

/// CPU time of this thread, in seconds: the machine may be shared, and the target is per core,
/// so we count the time we actually ran rather than wall-clock time.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` (which processes `framesPerCall` frames) for about `seconds`; returns frames/s.
func framesPerSecond(framesPerCall: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()   // warm-up
    var calls = 0
    var batch = 1
    let start = cpuSeconds()
    while true {
        for _ in 0..<batch { try body() }
        calls += batch
        let t = cpuSeconds() - start
        if t >= seconds { return Double(calls * framesPerCall) / t }
        batch *= 2
    }
}

/// A realistic broker MESSAGE (ActiveMQ-like headers) with a body of `size` bytes.
func sampleFrame(bodySize size: Int, messageID: String = "ID:bench-host-40613-1700000000000-3:1:1:1:12345") -> StompFrame {
    let text = Array("The quick brown fox jumps over the lazy dog. ".utf8)
    let body = (0..<size).map { text[$0 % text.count] }
    return StompFrame(.message, headers: [
        "content-length": String(size),
        "expires": "0",
        "destination": "/queue/bench",
        "subscription": "0",
        "priority": "4",
        "message-id": messageID,
        "content-type": "text/plain",
        "timestamp": "1700000000000",
    ], body: body)
}

struct Result {
    var name: String
    var frameBytes: Int
    var decodeFPS: Double
    var encodeFPS: Double
}

func bench(name: String, bodySize: Int, framesPerStream: Int) throws -> (Result, [UInt8]) {
    let frame = sampleFrame(bodySize: bodySize)
    let wire = try FrameEncoder().encode(frame)
    var check = FrameDecoder()
    check.append(wire)
    let decoded = try check.next()
    precondition(decoded == .frame(frame), "round trip failed")

    // Decode: a stream of frames fed in 64 KiB reads, as from a socket.
    var stream: [UInt8] = []
    stream.reserveCapacity(wire.count * framesPerStream)
    for _ in 0..<framesPerStream { stream += wire }
    let readSize = 64 * 1024
    let decodeFPS = try stream.withUnsafeBytes { all in
        try framesPerSecond(framesPerCall: framesPerStream) {
            var decoder = FrameDecoder()
            var offset = 0
            var count = 0
            while offset < all.count {
                let end = min(all.count, offset + readSize)
                decoder.append(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                offset = end
                while let event = try decoder.next() {
                    if case .frame(let f) = event { count += f.body.count }
                }
            }
            sink &+= count
        }
    }

    // Encode: frames appended to one reused output buffer, flushed every 64 KiB.
    let encoder = FrameEncoder()
    var out: [UInt8] = []
    out.reserveCapacity(2 * readSize + wire.count)
    let encodeFPS = try framesPerSecond(framesPerCall: framesPerStream) {
        for _ in 0..<framesPerStream {
            try encoder.encode(frame, into: &out)
            if out.count >= readSize {
                sink &+= out.count
                out.removeAll(keepingCapacity: true)
            }
        }
    }
    return (Result(name: name, frameBytes: wire.count, decodeFPS: decodeFPS, encodeFPS: encodeFPS), wire)
}

func fmt(_ v: Double, _ decimals: Int = 0) -> String {
    var s = String(Int(v.rounded()))
    if decimals > 0 {
        let scaled = Int((v * 10).rounded())
        s = "\(scaled / 10).\(scaled % 10)"
    }
    // thousands separators for readability
    if decimals == 0 && s.count > 3 {
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        s = String(out.reversed())
    }
    return s
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

func line(_ label: String, fps: Double, bytes: Int) -> String {
    "  \(label.padding(22)) \(pad(fmt(fps * Double(bytes) / 1e6), 8)) MB/s  \(pad(fmt(fps), 11)) frames/s"
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

#if DEBUG
print("warning: debug build; use `swift run -c release stompproto-bench` for meaningful figures")
#endif

if let n = fixedFrames {
    // One frame at a time, as a connection sees them: decode it from its bytes, encode it back.
    let frame = noEscapes ? sampleFrame(bodySize: 100, messageID: "ID-bench-host-40613-1700000000000-3-1-1-1-12345")
                          : sampleFrame(bodySize: 100)
    let wire = try FrameEncoder().encode(frame)
    var decoder = FrameDecoder()
    let encoder = FrameEncoder()
    var out: [UInt8] = []
    out.reserveCapacity(4096)
    for _ in 0..<n {
        decoder.append(wire)
        while let event = try decoder.next() {
            if case .frame(let f) = event {
                if decodeOnly { sink &+= f.body.count; continue }
                out.removeAll(keepingCapacity: true)
                try encoder.encode(f, into: &out)
                sink &+= out.count
            }
        }
    }
    print("decoded and encoded \(n) frames of \(wire.count) B (\(sink) bytes out)")
    exit(0)
}

if let only {
    let (r, _) = try bench(name: only, bodySize: only == "small" ? 100 : 64 * 1024, framesPerStream: only == "small" ? 10_000 : 64)
    print(line("decode \(only)", fps: r.decodeFPS, bytes: r.frameBytes))
    print(line("encode \(only)", fps: r.encodeFPS, bytes: r.frameBytes))
    exit(0)
}
let small = try bench(name: "small", bodySize: 100, framesPerStream: 10_000)
let large = try bench(name: "large", bodySize: 64 * 1024, framesPerStream: 64)
let results = [small.0, large.0]
let labels = ["100 B body", "64 KiB body"]

print("StompProto (per CPU-second of one core, release; frame sizes \(small.0.frameBytes) B and \(large.0.frameBytes) B):")
for (r, l) in zip(results, labels) { print(line("decode \(l)", fps: r.decodeFPS, bytes: r.frameBytes)) }
for (r, l) in zip(results, labels) { print(line("encode \(l)", fps: r.encodeFPS, bytes: r.frameBytes)) }

// stomp.py on the same frame bytes.
func findScript() -> String? {
    var candidates = ["bench/proto_bench.py"]
    let parts = String(#filePath).split(separator: "/")   // <root>/Sources/stompproto-bench/main.swift
    if parts.count > 3 { candidates.append("/" + parts.dropLast(3).joined(separator: "/") + "/bench/proto_bench.py") }
    return candidates.first { access($0, R_OK) == 0 }
}

func writeTemp(_ bytes: [UInt8], _ name: String) -> String {
    let path = "/tmp/stompproto-bench-\(getpid())-\(name).stomp"
    let f = fopen(path, "wb")!
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
    return path
}

/// The script's output lines are "SECTION KEY VALUE"; returns VALUE.
func number(_ output: String, _ section: String, _ key: String) -> Double? {
    for l in output.split(separator: "\n") {
        let f = l.split(separator: " ")
        if f.count == 3 && f[0] == section && f[1] == key { return Double(f[2]) }
    }
    return nil
}

if runPython {
    guard let script = findScript() else {
        print("stomp.py: bench/proto_bench.py not found (run from the repository root)")
        exit(0)
    }
    let smallPath = writeTemp(small.1, "small")
    let largePath = writeTemp(large.1, "large")
    defer { unlink(smallPath); unlink(largePath) }
    let pySeconds = max(0.3, seconds * 2 / 3)
    let cmd = "python3 '\(script)' --seconds \(pySeconds) small='\(smallPath)' large='\(largePath)'"
    guard let pipe = popen(cmd, "r") else { print("stomp.py: cannot run python3"); exit(0) }
    var output = ""
    var buf = [CChar](repeating: 0, count: 4096)
    while fgets(&buf, Int32(buf.count), pipe) != nil {
        output += String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    let status = pclose(pipe)
    let version = output.split(separator: "\n").first { $0.hasPrefix("stomp.py ") }?.dropFirst(9)
    guard status == 0, let version else {
        print("stomp.py: benchmark failed (is stomp.py installed? pip install stomp.py)\n\(output)")
        exit(0)
    }
    print("stomp.py \(version) (parse_frame / convert_frame, same frame bytes, per CPU-second):")
    var ratios: [String] = []
    for (kind, pick) in [("decode", \Result.decodeFPS), ("encode", \Result.encodeFPS)] {
        for ((r, l), section) in zip(zip(results, labels), ["small", "large"]) {
            guard let fps = number(output, section, "\(kind)_frames_per_s") else { continue }
            print(line("\(kind) \(l)", fps: fps, bytes: r.frameBytes))
            ratios.append("  \(kind) \(l)".padding(25) + " \(fmt(r[keyPath: pick] / fps, 1))x")
        }
    }
    print("ratio StompProto / stomp.py:")
    ratios.forEach { print($0) }
}
if sink == 42 { print("") }
