file(REMOVE_RECURSE
  "libva_protocol.a"
)
