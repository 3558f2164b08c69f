// Coalesced output on the event loop: frames appended during one event-loop pass (e.g. the replies and ACKs
// for a burst of requests read at once) go out in one write, through StompClient.sendEncoded (which keeps the
// session's bookkeeping: ACKs settle their pending messages). Fewer writes here means fewer reads and
// wake-ups in the broker, which is what limits RPC throughput.
import NIOCore
import StompProto
import StompConnection

final class RPCWriter {
    let client: StompClient
    private var encoder: FrameEncoder
    private var buffer: [UInt8] = []
    private var frames: [StompFrame] = []
    private var onFailure: [() -> Void] = []
    private var scheduled = false

    /// Must be created on the client's event loop.
    init(client: StompClient) {
        self.client = client
        self.encoder = FrameEncoder(version: client.connectedInfo.version, contentLength: client.options.contentLength)
    }

    /// Queues a frame for the end of this event-loop pass. `failed` runs if the write fails (connection gone).
    func append(_ frame: StompFrame, failed: (() -> Void)? = nil) throws {
        client.eventLoop.preconditionInEventLoop()
        encoder.version = client.connectedInfo.version
        try encoder.encode(frame, into: &buffer)
        frames.append(frame)
        if let failed { onFailure.append(failed) }
        if !scheduled {
            scheduled = true
            client.eventLoop.execute { [self] in flush() }
        }
    }

    /// Writes what was queued now (before a frame that must follow it, e.g. UNSUBSCRIBE after the last ACKs).
    func flush() {
        scheduled = false
        guard !buffer.isEmpty else { return }
        let bytes = buffer
        let batch = frames
        let failures = onFailure
        buffer = []
        buffer.reserveCapacity(min(bytes.count, 64 * 1024))
        frames.removeAll(keepingCapacity: true)
        onFailure = []
        client.sendEncoded(bytes, frames: batch).whenFailure { _ in for f in failures { f() } }
    }
}
