// A probe's profile turned into the client's broker-quirks value (`stompsh --profile FILE`).

import StompConnection

extension BrokerQuirks {
    /// The quirks a probe measured: for a broker stompsh does not recognise by its CONNECTED `server` header.
    /// Facts the client does not act on (largest frame, NACK, repeated headers) are not part of the value.
    public init(profile: BrokerQuirksProfile) {
        self.init(subscribesTempQueuesItself: profile.tempQueueSubscribeRefused,
                  hostIsVirtualHost: profile.hostIsVirtualHost)
    }
}
