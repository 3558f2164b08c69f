import StompProto
print("stompproto-bench: not yet")
