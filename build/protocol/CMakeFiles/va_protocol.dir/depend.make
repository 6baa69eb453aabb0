# Empty dependencies file for va_protocol.
# This may be replaced when dependencies are built.
